"""The browser login's side of OpenID Connect: this service as a confidential client.

Authorization code flow with PKCE (RFC 7636, S256 only), `state` and `nonce`, per RFC 9700: no
implicit or password grant. `state` binds the callback to the browser that started the login
(its `__Host-login` cookie); the PKCE verifier binds the code to this service's request for it,
so a code stolen or injected into another login is useless; the `nonce` binds the ID token to
this login. The ID token is verified (signature, `iss`, `aud` = our client, `exp`, `nonce`) and
the access token through the same validator as any bearer token.
"""

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import jwt

from .config import Settings
from .discovery import Discovery, ProviderError
from .sessions import ProviderTokens
from .tokens import InvalidTokenError, TokenValidator, key_fits


class LoginError(Exception):
    """The login cannot complete; the message is for the log only."""


@dataclass(frozen=True, slots=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> "Pkce":
        verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43-128
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def client_auth(client_id: str, secret: str | None) -> tuple[httpx.Auth | None, dict[str, str]]:
    """client_secret_basic (RFC 6749 §2.3.1: form-encoded, then Basic); public clients send
    their id in the form."""
    if secret is None:
        return None, {"client_id": client_id}
    return httpx.BasicAuth(quote_plus(client_id), quote_plus(secret)), {}


async def token_request(
    http: httpx.AsyncClient, endpoint: str, form: dict[str, str], auth: httpx.Auth | None
) -> dict[str, Any]:
    try:
        response = await http.post(endpoint, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT)
    except httpx.HTTPError as error:
        raise ProviderError(f"token endpoint unreachable: {type(error).__name__}") from error
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != HTTPStatus.OK:
        reason = body.get("error") if isinstance(body, dict) else None
        raise LoginError(f"token endpoint answered {response.status_code} ({reason})")
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise LoginError("token response without an access token")
    return body


class OidcLogin:
    def __init__(
        self,
        settings: Settings,
        *,
        client_id: str,
        redirect_uri: str,
        http: httpx.AsyncClient,
        discovery: Discovery,
        validator: TokenValidator,
    ) -> None:
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self._secret = settings.auth_client_secret
        self._scopes = " ".join(settings.auth_login_scopes)
        self._post_logout = settings.auth_post_logout_redirect_uri
        self._issuer = settings.oidc_issuer
        self._algorithms = list(settings.auth_algorithms)
        self._leeway = settings.auth_leeway_seconds
        self._http = http
        self._discovery = discovery
        self._validator = validator

    async def authorization_url(self, state: str, nonce: str, pkce: Pkce) -> str:
        metadata = await self._discovery.metadata()
        if metadata.authorization_endpoint is None:
            raise ProviderError("the provider has no authorization endpoint")
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": self._scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": pkce.challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{metadata.authorization_endpoint}?{query}"

    async def exchange_code(self, code: str, verifier: str, nonce: str) -> ProviderTokens:
        body = await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            }
        )
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise LoginError("no ID token: is `openid` in AUTH_LOGIN_SCOPES?")
        await self.verify_id_token(id_token, nonce)
        return await self._tokens(body, id_token)

    async def refresh(self, refresh_token: str) -> ProviderTokens:
        body = await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})
        id_token = body.get("id_token")
        return await self._tokens(body, id_token if isinstance(id_token, str) else None)

    async def revoke(self, refresh_token: str) -> bool:
        """Ask the provider to revoke a refresh token (RFC 7009); False if it could not."""
        metadata = await self._discovery.metadata()
        if metadata.revocation_endpoint is None:
            return False
        auth, form = client_auth(self.client_id, self._secret_value())
        form |= {"token": refresh_token, "token_type_hint": "refresh_token"}
        try:
            response = await self._http.post(
                metadata.revocation_endpoint, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError:
            return False
        return response.status_code == HTTPStatus.OK

    async def logout_url(self, id_token: str | None) -> str | None:
        """The provider's end-session URL (RP-initiated logout), when it has one."""
        metadata = await self._discovery.metadata()
        if metadata.end_session_endpoint is None:
            return None
        query: dict[str, str] = {"client_id": self.client_id}
        if id_token:
            query["id_token_hint"] = id_token
        if self._post_logout:
            query["post_logout_redirect_uri"] = self._post_logout
        return f"{metadata.end_session_endpoint}?{urlencode(query)}"

    async def verify_id_token(self, id_token: str, nonce: str) -> Mapping[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            algorithm, kid = header.get("alg"), header.get("kid")
            if algorithm not in self._algorithms or not isinstance(kid, str):
                raise LoginError("ID token: algorithm or kid refused")
            key = await self._validator.keys.key(kid)
            if key is None or not key_fits(key, str(algorithm)):
                raise LoginError("ID token: unknown key")
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.jwk.key,
                algorithms=[str(algorithm)],
                audience=self.client_id,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise LoginError(f"ID token: {type(error).__name__}") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise LoginError("ID token: nonce does not match this login")
        return claims

    async def _token(self, form: dict[str, str]) -> dict[str, Any]:
        metadata = await self._discovery.metadata()
        auth, client_form = client_auth(self.client_id, self._secret_value())
        return await token_request(self._http, metadata.token_endpoint, form | client_form, auth)

    async def _tokens(self, body: dict[str, Any], id_token: str | None) -> ProviderTokens:
        try:
            claims = await self._validator.validate(body["access_token"])
        except InvalidTokenError as error:
            raise LoginError(f"access token refused: {error}") from None
        refresh = body.get("refresh_token")
        return ProviderTokens(
            access_token=body["access_token"],
            claims=dict(claims),
            refresh_token=refresh if isinstance(refresh, str) else None,
            id_token=id_token,
        )

    def _secret_value(self) -> str | None:
        return self._secret.get_secret_value() if self._secret else None
