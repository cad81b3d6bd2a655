"""The identity provider's metadata, from its OpenID Connect discovery document.

`<OIDC_ISSUER>/.well-known/openid-configuration` names the endpoints (authorize, token, keys,
revocation, end of session). Its `issuer` must be exactly the configured one: a document that
names another issuer is refused, so a misconfigured or hostile endpoint cannot make the service
trust someone else's keys. The document is fetched with the keys (at start-up if the provider
answers soon, else when first needed: the service starts while the provider is down) and kept
for the key TTL.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

DISCOVERY_PATH = "/.well-known/openid-configuration"


class ProviderError(Exception):
    """The provider could not be reached or answered something unusable."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    jwks_uri: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    revocation_endpoint: str | None = None
    end_session_endpoint: str | None = None


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + DISCOVERY_PATH


def parse_metadata(document: Any, issuer: str) -> ProviderMetadata:
    if not isinstance(document, dict):
        raise ProviderError("the discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise ProviderError("the discovery document names another issuer")

    def url(name: str, required: bool = False) -> str | None:
        value = document.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise ProviderError(f"the discovery document has no usable {name}")
        return value

    return ProviderMetadata(
        issuer=issuer,
        jwks_uri=url("jwks_uri", required=True) or "",
        token_endpoint=url("token_endpoint", required=True) or "",
        authorization_endpoint=url("authorization_endpoint"),
        revocation_endpoint=url("revocation_endpoint"),
        end_session_endpoint=url("end_session_endpoint"),
    )


async def get_json(http: httpx.AsyncClient, url: str) -> Any:
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise ProviderError(f"GET {url} failed: {type(error).__name__}") from error


class Discovery:
    """The metadata, fetched once and kept for `ttl_seconds` (single flight)."""

    def __init__(self, http: httpx.AsyncClient, issuer: str, ttl_seconds: float) -> None:
        self._http = http
        self._issuer = issuer
        self._ttl = ttl_seconds
        self._metadata: ProviderMetadata | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is not None and time.monotonic() < self._expires_at:
            return self._metadata
        async with self._lock:
            if self._metadata is None or time.monotonic() >= self._expires_at:
                try:
                    self._metadata = await self.fetch()
                except ProviderError:
                    if self._metadata is None:
                        raise
                    # Keep what worked; ask again after a while rather than on every call.
                self._expires_at = time.monotonic() + self._ttl
            return self._metadata

    async def fetch(self) -> ProviderMetadata:
        document = await get_json(self._http, discovery_url(self._issuer))
        return parse_metadata(document, self._issuer)


def jwks_fetcher(
    http: httpx.AsyncClient, discovery: Discovery, jwks_url: str | None
) -> Callable[[], Awaitable[Any]]:
    """What the key cache calls: GET the configured JWKS URL, else the discovered one."""

    async def fetch() -> Any:
        url = jwks_url or (await discovery.metadata()).jwks_uri
        return await get_json(http, url)

    return fetch
