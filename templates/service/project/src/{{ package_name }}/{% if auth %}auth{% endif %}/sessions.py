"""Browser sessions in Redis: the provider's tokens stay here, the browser gets opaque handles.

A login creates a session *family* (RFC 9700 §4.14.2, "refresh token rotation"):

- `<prefix>:auth:session:<family>`: the provider's access, refresh and ID tokens, the verified
  access-token claims, the CSRF token; it lives `AUTH_SESSION_IDLE_SECONDS` past its last
  refresh and never past `AUTH_SESSION_LIFETIME_SECONDS` after the login;
- `<prefix>:auth:handle:<sha256(handle)>` -> family: the session cookie, accepted for as long
  as the access token it stands for (at most `AUTH_SESSION_ACCESS_SECONDS`);
- `<prefix>:auth:refresh:<sha256(secret)>` -> `live:<family>`, then `used:<family>`: the refresh
  cookie. Using it (POST /auth/refresh) marks it used and issues a new one in the same family,
  atomically (one Lua call). Presenting a used one again means two parties hold the family's
  credentials, a stolen cookie or a replay: the whole family is revoked, both parties are out.
- `<prefix>:auth:login:<sha256(state)>`: a login in progress (PKCE verifier, nonce), read once.

Only SHA-256 digests of the browser's secrets are stored, so a Redis dump holds no cookie.
"""

import hashlib
import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from redis.asyncio import Redis

from ..redis_client.client import redis_key

if TYPE_CHECKING:  # the app's settings: importing them at run time imports every section
    from ..config import Settings

logger = logging.getLogger(__name__)

# Marks a live refresh credential used and returns what it was, in one step: of two requests
# racing with the same credential exactly one sees `live:`.
ROTATE_SCRIPT = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, 5) == 'live:' then
    redis.call('SET', KEYS[1], 'used:' .. string.sub(value, 6), 'KEEPTTL')
end
return value
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


@dataclass(frozen=True, slots=True)
class PendingLogin:
    verifier: str
    nonce: str
    next_path: str


@dataclass(frozen=True, slots=True)
class ProviderTokens:
    access_token: str
    claims: dict[str, Any]
    """The access token's verified claims."""
    refresh_token: str | None
    id_token: str | None


@dataclass(frozen=True, slots=True)
class Session:
    family: str
    csrf_token: str
    created_at: float
    ends_at: float
    access_token: str
    claims: dict[str, Any]
    refresh_token: str | None
    id_token: str | None

    @property
    def access_expires_at(self) -> float:
        return float(self.claims["exp"])


@dataclass(frozen=True, slots=True)
class Issued:
    """What the browser gets: cookie values and how long each lives."""

    handle: str
    handle_seconds: int
    refresh: str
    refresh_seconds: int
    csrf_token: str


@dataclass(frozen=True, slots=True)
class Rotation:
    outcome: Literal["rotated", "reused", "unknown"]
    session: Session | None = None
    """The session, rotated; or for a reuse, the one just revoked (its provider tokens)."""


class SessionStore:
    def __init__(self, redis: Redis, settings: "Settings") -> None:
        self._redis = redis
        self._settings = settings
        self._rotate = redis.register_script(ROTATE_SCRIPT)
        self.reuse_detected_total = 0

    def _key(self, kind: str, name: str) -> str:
        return redis_key(self._settings, "auth", kind, name)

    # Logins in progress

    async def save_login(self, state: str, login: PendingLogin) -> None:
        ttl = self._settings.auth_login_timeout_seconds
        await self._redis.set(self._key("login", digest(state)), json.dumps(asdict(login)), ex=ttl)

    async def take_login(self, state: str) -> PendingLogin | None:
        """The login started with `state`, once: a second callback with it finds nothing."""
        raw = await self._redis.getdel(self._key("login", digest(state)))
        return None if raw is None else PendingLogin(**json.loads(raw))

    # Sessions

    async def create(self, tokens: ProviderTokens) -> Issued:
        now = time.time()
        session = Session(
            family=new_secret(),
            csrf_token=new_secret(),
            created_at=now,
            ends_at=now + self._settings.auth_session_lifetime_seconds,
            access_token=tokens.access_token,
            claims=tokens.claims,
            refresh_token=tokens.refresh_token,
            id_token=tokens.id_token,
        )
        return await self._issue(session, now)

    async def renew(self, session: Session, tokens: ProviderTokens) -> Issued:
        """New provider tokens for a family whose refresh credential was just rotated."""
        renewed = Session(
            family=session.family,
            csrf_token=session.csrf_token,
            created_at=session.created_at,
            ends_at=session.ends_at,
            access_token=tokens.access_token,
            claims=tokens.claims,
            refresh_token=tokens.refresh_token or session.refresh_token,
            id_token=tokens.id_token or session.id_token,
        )
        return await self._issue(renewed, time.time())

    async def _issue(self, session: Session, now: float) -> Issued:
        settings = self._settings
        family_seconds = max(1, int(min(settings.auth_session_idle_seconds, session.ends_at - now)))
        handle_seconds = max(
            1, int(min(settings.auth_session_access_seconds, session.access_expires_at - now))
        )
        handle, refresh = new_secret(), new_secret()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("session", session.family), json.dumps(asdict(session)))
            pipe.expire(self._key("session", session.family), family_seconds)
            pipe.set(self._key("handle", digest(handle)), session.family, ex=handle_seconds)
            pipe.set(
                self._key("refresh", digest(refresh)), f"live:{session.family}", ex=family_seconds
            )
            await pipe.execute()
        return Issued(handle, handle_seconds, refresh, family_seconds, session.csrf_token)

    async def load(self, family: str) -> Session | None:
        raw = await self._redis.get(self._key("session", family))
        return None if raw is None else Session(**json.loads(raw))

    async def by_handle(self, handle: str) -> Session | None:
        """The session of a session cookie, while its access token is valid."""
        family = await self._redis.get(self._key("handle", digest(handle)))
        session = None if family is None else await self.load(str(family))
        if session is None or session.access_expires_at <= time.time():
            return None
        return session

    async def peek_refresh(self, refresh: str) -> Session | None:
        """The live session a refresh cookie belongs to, without using the cookie up."""
        value = await self._redis.get(self._key("refresh", digest(refresh)))
        state, _, family = str(value).partition(":")
        return await self.load(family) if value is not None and state == "live" else None

    async def rotate(self, refresh: str) -> Rotation:
        """Use a refresh cookie up. A used one presented again revokes its whole family."""
        value = await self._rotate(keys=[self._key("refresh", digest(refresh))])
        if value is None:
            return Rotation("unknown")
        state, _, family = str(value).partition(":")
        if state == "used":
            self.reuse_detected_total += 1
            logger.warning(
                "refresh credential reused: session family revoked",
                extra={"security_event": "refresh_token_reuse", "family": digest(family)[:16]},
            )
            return Rotation("reused", await self.revoke(family))
        session = await self.load(family)
        return Rotation("rotated", session) if session else Rotation("unknown")

    async def revoke(self, family: str) -> Session | None:
        """End a family: its handle and refresh cookies find no session from now on."""
        session = await self.load(family)
        await self._redis.delete(self._key("session", family))
        return session
