"""Calling other services as this service: an OAuth 2.0 client-credentials token, cached.

    token = await machine_client.token()           # "eyJ..."; cached until shortly before expiry
    response = await http.get(url, headers={"Authorization": f"Bearer {token}"})

`MachineClient.from_settings` uses AUTH_MACHINE_CLIENT_ID / _SECRET / _SCOPES / _AUDIENCE and
the provider's token endpoint; it is on `app.state.auth.machine` when configured. The token is
reused until `REFRESH_MARGIN_SECONDS` (or a tenth of its lifetime, if shorter) before it
expires, so a request never leaves with a token about to die on the way; concurrent callers
share one token request.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from .discovery import Discovery
from .login import client_auth, token_request

REFRESH_MARGIN_SECONDS = 60.0
DEFAULT_LIFETIME_SECONDS = 300


class MachineClient:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        token_endpoint: Callable[[], Awaitable[str]],
        client_id: str,
        client_secret: str,
        scopes: tuple[str, ...] = (),
        audience: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._token_endpoint = token_endpoint
        self._auth, _ = client_auth(client_id, client_secret)
        self._form = {"grant_type": "client_credentials"}
        if scopes:
            self._form["scope"] = " ".join(scopes)
        if audience:
            self._form["audience"] = audience
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self.requests_total = 0
        """Token requests sent to the provider."""

    @classmethod
    def from_discovery(
        cls,
        discovery: Discovery,
        http: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: str,
        scopes: tuple[str, ...],
        audience: str | None,
    ) -> "MachineClient":
        async def endpoint() -> str:
            return (await discovery.metadata()).token_endpoint

        return cls(
            http=http,
            token_endpoint=endpoint,
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes,
            audience=audience,
        )

    async def token(self) -> str:
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        async with self._lock:
            token = self._token
            if token is None or self._clock() >= self._renew_at:
                token = self._token = await self._fetch()
            return token

    async def _fetch(self) -> str:
        self.requests_total += 1
        sent_at = self._clock()
        body = await token_request(self._http, await self._token_endpoint(), self._form, self._auth)
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else DEFAULT_LIFETIME_SECONDS
        self._renew_at = sent_at + seconds - min(REFRESH_MARGIN_SECONDS, seconds / 10)
        token: str = body["access_token"]
        return token
