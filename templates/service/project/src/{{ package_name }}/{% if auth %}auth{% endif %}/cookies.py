"""The browser session's cookies: names, attributes, and setting or clearing them.

- `__Host-session`: the session handle (opaque, 256 bits); HttpOnly, Secure, SameSite=Lax,
  Path=/; it lives as long as the access token it stands for.
- `__Secure-refresh`: the refresh credential (opaque, rotated on every use); HttpOnly,
  Secure, SameSite=Strict, Path=/auth (sent to /auth/refresh and /auth/logout only).
- `__Host-csrf`: the session's CSRF token, for the page to echo in `X-CSRF-Token`; Secure,
  SameSite=Strict, Path=/, readable by the page's scripts.
- `__Host-login`: the `state` of a login in progress; HttpOnly, Secure, SameSite=Lax (it must
  come back with the provider's redirect), Path=/, 10 minutes.

The `__Host-` prefix makes the browser refuse a cookie of that name set by a subdomain or over
plain HTTP (cookie tossing). With `AUTH_COOKIE_SECURE=false` (plain-HTTP development hosts other
than localhost) the cookies lose `Secure` and so their prefixes.
"""

from dataclasses import dataclass
from typing import Literal

from starlette.responses import Response

from .config import Settings

CSRF_HEADER = "X-CSRF-Token"
REFRESH_PATH = "/auth"


@dataclass(frozen=True, slots=True)
class CookieNames:
    session: str
    refresh: str
    csrf: str
    login: str
    secure: bool

    @classmethod
    def for_settings(cls, settings: Settings) -> "CookieNames":
        if settings.auth_cookie_secure:
            return cls("__Host-session", "__Secure-refresh", "__Host-csrf", "__Host-login", True)
        return cls("session", "refresh", "csrf", "login", False)


def set_cookie(
    response: Response,
    names: CookieNames,
    name: str,
    value: str,
    *,
    max_age: int,
    same_site: Literal["lax", "strict"] = "lax",
    path: str = "/",
    http_only: bool = True,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=names.secure,
        httponly=http_only,
        samesite=same_site,
    )


def set_session_cookies(
    response: Response,
    names: CookieNames,
    *,
    handle: str,
    handle_seconds: int,
    refresh: str,
    refresh_seconds: int,
    csrf_token: str,
) -> None:
    set_cookie(response, names, names.session, handle, max_age=handle_seconds)
    set_cookie(
        response,
        names,
        names.refresh,
        refresh,
        max_age=refresh_seconds,
        same_site="strict",
        path=REFRESH_PATH,
    )
    set_cookie(
        response,
        names,
        names.csrf,
        csrf_token,
        max_age=refresh_seconds,
        same_site="strict",
        http_only=False,
    )


def clear_session_cookies(response: Response, names: CookieNames) -> None:
    for name, path in (
        (names.session, "/"),
        (names.refresh, REFRESH_PATH),
        (names.csrf, "/"),
        (names.login, "/"),
    ):
        response.delete_cookie(name, path=path, secure=names.secure, httponly=True)
