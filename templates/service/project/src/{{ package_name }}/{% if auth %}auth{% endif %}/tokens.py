"""Access-token validation: a JWT signed by the provider, for this service, still valid.

PyJWT does the cryptography and the registered claims; this module decides what is allowed,
following RFC 8725 (JWT best practices) and RFC 9068 (JWT access tokens):

- the algorithm is on the allow-list (`AUTH_ALGORITHMS`: asymmetric only, so neither `none`
  nor an HMAC signed with the public key as its secret can pass), and fits the key: an RSA key
  verifies only RS*/PS*, an EC key only the ES* of its curve, and a key that names its `alg`
  only that one;
- the key is found by `kid` among the provider's keys (`jwks.py`), never from the token itself
  (`jku`, `x5u`, embedded `jwk` are ignored);
- `iss` is the configured issuer exactly; the audience (`aud`, or Cognito's `client_id`) is one
  of `AUTH_AUDIENCE`; `exp`, `iat` and `sub` are required; `exp`, `nbf` and `iat` are checked with
  `AUTH_LEEWAY_SECONDS` of leeway;
- `typ` is `at+jwt`, or (unless `AUTH_REQUIRE_AT_JWT`) `JWT` or absent: any other explicit type
  (an ID token's `id_token+jwt`, a logout token) is another kind of token and is refused.

Every refusal is an `InvalidTokenError` whose reason goes to the log, never to the client.
A token verified once is remembered while it is valid (`VerifiedTokens`), so a client sending
the same token again costs a lookup, not a signature check.
"""

import base64
import binascii
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import jwt

from .config import Settings
from .jwks import JwksCache, SigningKey

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
PLAIN_TYPES = frozenset({"jwt"})
REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub")
CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


class InvalidTokenError(Exception):
    """The token must not be accepted; the message says why (for the log only)."""


def key_fits(key: SigningKey, algorithm: str) -> bool:
    if key.algorithm is not None and key.algorithm != algorithm:
        return False
    if key.key_type == "RSA":
        return algorithm.startswith(("RS", "PS"))
    if key.key_type == "EC":
        return CURVES.get(algorithm) == key.curve
    if key.key_type == "OKP":
        return algorithm == "EdDSA"
    return False


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read only to pick the key and to refuse early; `jwt.decode` reads the
    whole token again, strictly, with the signature. (A third of PyJWT's own header reader's
    cost: it checks every character of the whole token in Python.)"""
    segment, dot, _ = token.partition(".")
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        header = None
    if not dot or not isinstance(header, dict):
        raise InvalidTokenError("malformed: no JSON header")
    return header


@dataclass(frozen=True, slots=True)
class Verified:
    kid: str
    key: SigningKey
    valid_until: float
    claims: Mapping[str, Any]


class VerifiedTokens:
    """Tokens this process verified lately, so a client reusing its token (the usual case) is
    not checked from scratch on every request: the same string, verified with the same key
    object, still before its `exp` (+ leeway).

    The key is asked for again on every hit: when the key set is refetched (TTL or rotation),
    keys are new objects and every remembered token is verified again, and a removed key's
    tokens stop passing exactly as they would without this. Only successes are kept, at most
    `SIZE` of them, least recently used first out.
    """

    SIZE = 4096

    def __init__(self) -> None:
        self._entries: OrderedDict[str, Verified] = OrderedDict()

    async def get(self, token: str, keys: JwksCache) -> Mapping[str, Any] | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if time.time() >= entry.valid_until or await keys.key(entry.kid) is not entry.key:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return entry.claims

    def remember(
        self, token: str, kid: str, key: SigningKey, valid_until: float, claims: Mapping[str, Any]
    ) -> None:
        self._entries[token] = Verified(kid, key, valid_until, MappingProxyType(dict(claims)))
        if len(self._entries) > self.SIZE:
            self._entries.popitem(last=False)


class TokenValidator:
    def __init__(self, settings: Settings, keys: JwksCache) -> None:
        self.keys = keys
        self._issuer = settings.oidc_issuer
        self._algorithms = frozenset(settings.auth_algorithms)
        self._audiences = frozenset(settings.auth_audience)
        self._audience_claim = settings.auth_audience_claim
        self._leeway = settings.auth_leeway_seconds
        self._require_at_jwt = settings.auth_require_at_jwt
        self._verified = VerifiedTokens()

    async def validate(self, token: str) -> Mapping[str, Any]:
        """The verified claims of `token`, or `InvalidTokenError`."""
        verified = await self._verified.get(token, self.keys)
        if verified is not None:
            return verified
        header = unverified_header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise InvalidTokenError(f"algorithm {algorithm!r} is not allowed")
        self._check_type(header.get("typ"))
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidTokenError("no kid")
        key = await self.keys.key(kid)
        if key is None:
            raise InvalidTokenError(f"unknown kid {kid[:64]!r}")
        if not key_fits(key, algorithm):
            raise InvalidTokenError(f"algorithm {algorithm} does not fit key {kid!r}")
        claims = self.verify_with(token, key, algorithm)
        self._verified.remember(token, kid, key, float(claims["exp"]) + self._leeway, claims)
        return claims

    def verify_with(self, token: str, key: SigningKey, algorithm: str) -> Mapping[str, Any]:
        checks_aud = self._audience_claim == "aud"
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.jwk.key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=list(self._audiences) if checks_aud else None,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS), "verify_aud": checks_aud},
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"{type(error).__name__}: {error}") from None
        if not checks_aud and claims.get(self._audience_claim) not in self._audiences:
            raise InvalidTokenError(f"{self._audience_claim} is not an accepted audience")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidTokenError("sub is not a string")
        return claims

    def _check_type(self, typ: object) -> None:
        if typ is None and not self._require_at_jwt:
            return
        if not isinstance(typ, str):
            raise InvalidTokenError("typ is not a string")
        kind = typ.lower()
        if kind in ACCESS_TOKEN_TYPES:
            return
        if kind in PLAIN_TYPES and not self._require_at_jwt:
            return
        raise InvalidTokenError(f"typ {typ[:32]!r} is not an access token's")
