from pydantic import BaseModel


class PolicyRead(BaseModel):
    limit: int
    window_seconds: int
    burst: int
    fail_open: bool


class RateLimitStatus(BaseModel):
    """What the limiter sees of the caller: check it when proxies are set up."""

    client: str
    policies: dict[str, PolicyRead]
