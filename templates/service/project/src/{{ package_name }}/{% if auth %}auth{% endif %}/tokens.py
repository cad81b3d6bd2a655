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
"""

from collections.abc import Mapping
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


class TokenValidator:
    def __init__(self, settings: Settings, keys: JwksCache) -> None:
        self.keys = keys
        self._issuer = settings.oidc_issuer
        self._algorithms = frozenset(settings.auth_algorithms)
        self._audiences = frozenset(settings.auth_audience)
        self._audience_claim = settings.auth_audience_claim
        self._leeway = settings.auth_leeway_seconds
        self._require_at_jwt = settings.auth_require_at_jwt

    async def validate(self, token: str) -> Mapping[str, Any]:
        """The verified claims of `token`, or `InvalidTokenError`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"malformed: {error}") from None
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
        return self.verify_with(token, key, algorithm)

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
