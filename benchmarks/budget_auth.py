"""A bearer token for the request budget's `auth` configuration, from the real provider.

The generated service's `GET /items/{id}` needs the `items:read` permission once `auth` is in:
each request carries an RS256 access token minted by the mock-oauth2-server at OIDC_ISSUER
(client credentials, this benchmark's audience), which the service verifies against the keys it
fetched from that provider, as in production. The same token on every request, as a client
reusing its token does: the service remembers tokens it verified, so after the first request
this costs a lookup. The cost of verifying a new token (signature, `exp`/`nbf`/`iss`/`aud`, the
allow-list) is what `auth_overhead.py` measures.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
import urllib.request
from functools import cache
from pathlib import Path

AUDIENCE = "bench-api"
CLIENT_ID = "bench-client"
ENVIRONMENT = {"AUTH_AUDIENCE": f'["{AUDIENCE}"]'}
SCOPES = "items:read"


def issue_token() -> str:
    """A client-credentials access token of the provider at OIDC_ISSUER."""
    issuer = os.environ["OIDC_ISSUER"]
    form = {"grant_type": "client_credentials", "scope": SCOPES, "audience": AUDIENCE}
    client = base64.b64encode(f"{CLIENT_ID}:bench-secret".encode()).decode()
    request = urllib.request.Request(
        f"{issuer}/token",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {client}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        token: str = json.load(response)["access_token"]
    return token


@cache
def token_file(folder: Path) -> Path:
    """A file holding one token, sent on every request; issued once per run, in `folder`."""
    path = folder / "token.txt"
    path.write_text(issue_token() + "\n")
    return path
