from typing import Literal

from pydantic import BaseModel


class CallerRead(BaseModel):
    """The verified caller, as GET /auth/me shows it."""

    subject: str
    client_id: str | None
    machine: bool
    scopes: list[str]
    roles: list[str]
    via: Literal["bearer", "session"]
    csrf_token: str | None
    """For a browser session: the value to send as X-CSRF-Token on state-changing requests."""


class RefreshRead(BaseModel):
    expires_in: int
    """Seconds until the new session cookie must be refreshed again."""


class LogoutRead(BaseModel):
    logout_url: str | None
    """The provider's end-session URL: send the browser there to end its session too."""
