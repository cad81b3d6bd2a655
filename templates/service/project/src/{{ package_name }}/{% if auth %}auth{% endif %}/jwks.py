"""The provider's signing keys (JWKS), cached: rotation without restart, no IdP hammering.

- Keys are fetched when first needed and kept for `ttl` seconds; then fetched again.
- A token signed by a key the cache does not know (a `kid` it has not seen: the provider has
  rotated its keys) triggers one fetch at once, so new tokens validate without a restart...
- ...but never more than one fetch per `cooldown` seconds, whatever arrives: a flood of tokens
  with invented `kid`s costs the provider one request per cool-down, and the service nothing.
- Fetches are single flight: concurrent requests that need keys wait for the same fetch.
- When the provider cannot be reached, the keys already cached keep validating (stale past
  their TTL if need be, retried once per cool-down): a provider outage does not log anyone out.

The `kid` is only ever a dictionary key here: it never builds a URL or a file path (RFC 8725
§3.10), and keys come only from the configured provider.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWKError

from .discovery import ProviderError

logger = logging.getLogger(__name__)

Fetch = Callable[[], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class SigningKey:
    jwk: PyJWK
    key_type: str
    """`kty`: RSA, EC or OKP."""
    algorithm: str | None
    """`alg` when the key names one: then it signs with that algorithm only."""
    curve: str | None


def parse_keys(document: Any) -> dict[str, SigningKey]:
    """The usable signing keys by `kid`; encryption keys and keys of unknown types are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ProviderError("the JWKS document has no `keys` list")
    keys: dict[str, SigningKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str):
            continue
        try:
            keys[kid] = SigningKey(
                jwk=PyJWK(entry),
                key_type=str(entry.get("kty")),
                algorithm=entry.get("alg") if isinstance(entry.get("alg"), str) else None,
                curve=entry.get("crv") if isinstance(entry.get("crv"), str) else None,
            )
        except PyJWKError:
            logger.debug("JWKS key %s skipped: unsupported", kid)
    return keys


class JwksCache:
    def __init__(
        self,
        fetch: Fetch,
        *,
        ttl_seconds: float,
        cooldown_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fresh_until = -float("inf")
        self._last_attempt = -float("inf")
        self._lock = asyncio.Lock()
        self.fetches_total = 0
        """Requests made to the provider's JWKS endpoint (successful or not)."""
        self.fetch_errors_total = 0

    async def key(self, kid: str) -> SigningKey | None:
        """The key named `kid`, fetching the set when stale or when `kid` is new (see above)."""
        if self._clock() >= self._fresh_until and self._worth_asking():
            await self._refresh()
        key = self._keys.get(kid)
        if key is None and self._worth_asking():
            await self._refresh(unless_known=kid)
            key = self._keys.get(kid)
        return key

    async def warm(self) -> None:
        """Fetch the keys now if none are fresh (at start-up: the first requests need no fetch)."""
        if self._clock() >= self._fresh_until and self._worth_asking():
            await self._refresh()

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def _worth_asking(self) -> bool:
        """A fetch is under way (wait for it), or the cool-down has passed (start one)."""
        return self._lock.locked() or self._clock() - self._last_attempt >= self._cooldown

    async def _refresh(self, unless_known: str | None = None) -> None:
        attempted_before = self._last_attempt
        async with self._lock:
            # Whoever held the lock may have fetched already: one fetch serves every waiter.
            if self._last_attempt != attempted_before:
                return
            if unless_known is not None and unless_known in self._keys:
                return
            if self._clock() - self._last_attempt < self._cooldown:
                return
            self._last_attempt = self._clock()
            self.fetches_total += 1
            try:
                keys = parse_keys(await self._fetch())
            except asyncio.CancelledError:
                # Abandoned (a caller's timeout), not failed: the next caller may ask at once.
                self._last_attempt = attempted_before
                raise
            except ProviderError as error:
                self.fetch_errors_total += 1
                logger.warning(
                    "cannot fetch the identity provider's keys; %d cached keys stay in use",
                    len(self._keys),
                    extra={"error": str(error)},
                )
                return
            self._keys = keys
            self._fresh_until = self._last_attempt + self._ttl
