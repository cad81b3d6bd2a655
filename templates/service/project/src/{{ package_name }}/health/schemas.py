from typing import Literal

from pydantic import BaseModel


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class CheckStatus(BaseModel):
    status: Literal["ok", "failing"]
    duration_ms: float
    error: str | None = None
    critical: bool = True


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, CheckStatus]
