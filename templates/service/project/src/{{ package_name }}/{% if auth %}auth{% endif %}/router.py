"""Browser login through this service (a backend-for-frontend), and who the caller is.

    GET  /auth/login?next=/page   302 to the provider (code + PKCE S256, state, nonce)
    GET  /auth/callback           the provider comes back here: session cookies, 303 to `next`
    GET  /auth/me                 the verified caller (any credential); the page's CSRF token
    POST /auth/refresh            new access token; the refresh cookie is rotated (X-CSRF-Token)
    POST /auth/logout             ends the session here and at the provider (X-CSRF-Token)

Tokens never reach the browser: it holds opaque cookies (`cookies.py`) for a session kept in
Redis (`sessions.py`). Every refusal of the login is the same 401 problem, whatever failed
(state, PKCE, nonce, the provider's answer); the log says what.
"""

import hmac
import logging
import secrets
from contextlib import suppress
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.requests import cookie_parser

from ..problems import problem_response
from .authorization import PrincipalDep
from .cookies import (
    CSRF_HEADER,
    CookieNames,
    clear_session_cookies,
    set_cookie,
    set_session_cookies,
)
from .dependencies import Auth, AuthDep
from .discovery import ProviderError
from .login import LoginError, OidcLogin, Pkce
from .principal import authentication_of
from .schemas import CallerRead, LogoutRead, RefreshRead
from .sessions import Issued, PendingLogin, Session, SessionStore

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["authentication"])

LOGIN_FAILED = "The login could not be completed."
SESSION_ENDED = "The session has ended; log in again."
CSRF_NEEDED = "This needs the session's X-CSRF-Token header."
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}
LOGIN_PATHS = ("/auth/login", "/auth/callback", "/auth/refresh")
"""What the rate limiter counts under its strict `sensitive` policy."""


def browser_login(auth: Auth) -> tuple[OidcLogin, SessionStore]:
    if auth.login is None or auth.sessions is None:
        raise HTTPException(HTTPStatus.NOT_FOUND, "Browser login is not configured.")
    return auth.login, auth.sessions


def refused(detail: str, names: CookieNames) -> JSONResponse:
    """401, and the browser forgets the session's cookies."""
    response = problem_response(HTTPStatus.UNAUTHORIZED, detail, headers=CHALLENGE)
    clear_session_cookies(response, names)
    return response


def provider_unavailable() -> HTTPException:
    return HTTPException(
        HTTPStatus.SERVICE_UNAVAILABLE, "The identity provider cannot be reached; retry shortly."
    )


def safe_next(path: str | None) -> str:
    """A local path only: `next` must never send the browser to another site (open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def cookies_of(request: Request) -> dict[str, str]:
    return cookie_parser(request.headers.get("cookie", ""))


def names_of(auth: Auth) -> CookieNames:
    return CookieNames.for_settings(auth.settings)


@router.get("/login", status_code=HTTPStatus.FOUND, response_class=RedirectResponse)
async def login(
    auth: AuthDep, next_path: Annotated[str | None, Query(alias="next")] = None
) -> RedirectResponse:
    oidc, sessions = browser_login(auth)
    state, nonce, pkce = secrets.token_urlsafe(32), secrets.token_urlsafe(32), Pkce.new()
    try:
        url = await oidc.authorization_url(state, nonce, pkce)
    except ProviderError:
        logger.warning("login: the identity provider cannot be reached", exc_info=True)
        raise provider_unavailable() from None
    await sessions.save_login(state, PendingLogin(pkce.verifier, nonce, safe_next(next_path)))
    response = RedirectResponse(url, status_code=HTTPStatus.FOUND)
    names = names_of(auth)
    max_age = auth.settings.auth_login_timeout_seconds
    set_cookie(response, names, names.login, state, max_age=max_age)
    return response


@router.get("/callback", status_code=HTTPStatus.SEE_OTHER, response_class=RedirectResponse)
async def callback(
    request: Request,
    auth: AuthDep,
    *,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    iss: str | None = None,
) -> Response:
    oidc, sessions = browser_login(auth)
    names = names_of(auth)
    expected = cookies_of(request).get(names.login, "")
    try:
        if error or not code or not state:
            raise LoginError(f"the provider sent no code ({error or 'no error either'})")
        if not expected or not hmac.compare_digest(state.encode(), expected.encode()):
            raise LoginError("state does not match this browser's login")
        if iss is not None and iss != auth.settings.oidc_issuer:
            raise LoginError("the response comes from another issuer (RFC 9207)")
        pending = await sessions.take_login(state)
        if pending is None:
            raise LoginError("no login in progress with this state (expired or used)")
        tokens = await oidc.exchange_code(code, pending.verifier, pending.nonce)
    except LoginError as failure:
        logger.info("login refused: %s", failure)
        return refused(LOGIN_FAILED, names)
    except ProviderError:
        logger.warning("login: the identity provider cannot be reached", exc_info=True)
        raise provider_unavailable() from None
    issued = await sessions.create(tokens)
    response = RedirectResponse(pending.next_path, status_code=HTTPStatus.SEE_OTHER)
    response.delete_cookie(names.login, secure=names.secure, httponly=True)
    _set_cookies(response, names, issued)
    return response


@router.get("/me")
async def me(request: Request, principal: PrincipalDep) -> CallerRead:
    return CallerRead(
        subject=principal.subject,
        client_id=principal.client_id,
        machine=principal.is_machine,
        scopes=sorted(principal.scopes),
        roles=sorted(principal.roles),
        via=principal.via,
        csrf_token=authentication_of(request.scope).csrf_token,
    )


@router.post("/refresh", response_model=RefreshRead)
async def refresh(request: Request, auth: AuthDep) -> Response:
    oidc, sessions = browser_login(auth)
    names = names_of(auth)
    credential = cookies_of(request).get(names.refresh)
    if not credential:
        return refused(SESSION_ENDED, names)
    # CSRF first, so a forged request cannot use the credential up (its owner would then look
    # like a thief): the token must match the session the credential belongs to.
    live = await sessions.peek_refresh(credential)
    if live is not None and not _csrf_matches(request, live):
        return problem_response(HTTPStatus.UNAUTHORIZED, CSRF_NEEDED, headers=CHALLENGE)
    rotation = await sessions.rotate(credential)
    if rotation.outcome == "reused":
        await _revoke_at_provider(oidc, rotation.session)
        return refused(SESSION_ENDED, names)
    session = rotation.session
    if session is None or session.refresh_token is None:
        return refused(SESSION_ENDED, names)
    try:
        tokens = await oidc.refresh(session.refresh_token)
    except LoginError as failure:
        logger.info("refresh refused by the provider: %s", failure)
        await sessions.revoke(session.family)
        return refused(SESSION_ENDED, names)
    except ProviderError:
        raise provider_unavailable() from None
    issued = await sessions.renew(session, tokens)
    response = JSONResponse(RefreshRead(expires_in=issued.handle_seconds).model_dump())
    _set_cookies(response, names, issued)
    return response


@router.post("/logout", response_model=LogoutRead)
async def logout(request: Request, auth: AuthDep) -> Response:
    oidc, sessions = browser_login(auth)
    names = names_of(auth)
    cookies = cookies_of(request)
    session = None
    if handle := cookies.get(names.session):
        session = await sessions.by_handle(handle)
    if session is None and (credential := cookies.get(names.refresh)):
        session = await sessions.peek_refresh(credential)
    logout_url = None
    if session is not None:
        if not _csrf_matches(request, session):
            return problem_response(HTTPStatus.UNAUTHORIZED, CSRF_NEEDED, headers=CHALLENGE)
        await sessions.revoke(session.family)
        await _revoke_at_provider(oidc, session)
        with suppress(ProviderError):
            logout_url = await oidc.logout_url(session.id_token)
    response = JSONResponse(LogoutRead(logout_url=logout_url).model_dump())
    clear_session_cookies(response, names)
    return response


def _csrf_matches(request: Request, session: Session) -> bool:
    sent = request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(sent.encode(), session.csrf_token.encode())


def _set_cookies(response: Response, names: CookieNames, issued: Issued) -> None:
    set_session_cookies(
        response,
        names,
        handle=issued.handle,
        handle_seconds=issued.handle_seconds,
        refresh=issued.refresh,
        refresh_seconds=issued.refresh_seconds,
        csrf_token=issued.csrf_token,
    )


async def _revoke_at_provider(oidc: OidcLogin, session: Session | None) -> None:
    if session is not None and session.refresh_token:
        try:
            await oidc.revoke(session.refresh_token)
        except ProviderError:
            logger.warning("could not revoke the refresh token at the provider", exc_info=True)
