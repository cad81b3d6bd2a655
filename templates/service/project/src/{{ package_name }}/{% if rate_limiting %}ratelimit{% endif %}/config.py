"""Rate-limit policies and the route groups that use them: the limiter's settings section.

A policy is "`limit` requests per `window_seconds`, at most `burst` of them back to back", for
one client. `Settings` below (which the service-wide `config.Settings` inherits) holds the
policies by name, which path prefixes use which policy, and which proxies may name the client
in `X-Forwarded-For`; all of it can be set from the environment as JSON (see `.env.example`).
"""

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

if TYPE_CHECKING:  # extensions.py reads the settings, which include these
    from ..extensions import Quota

# Policy names appear in Redis keys and, quoted, in the RateLimit headers.
POLICY_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
DEFAULT_POLICY = "default"
SENSITIVE_POLICY = "sensitive"

# `RATE_LIMIT_TRUSTED_PROXIES=10.0.0.0/8,192.168.1.7` (a plain list, not JSON).
TrustedProxies = Annotated[list[IPvAnyNetwork], NoDecode]
# `RATE_LIMIT_API_KEY_HASHES=<sha256 hex>,<sha256 hex>`: `printf %s "$KEY" | sha256sum`.
ApiKeyHashes = Annotated[frozenset[str], NoDecode]
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class RateLimitPolicy(BaseModel):
    """One quota: `limit` per `window_seconds`, with `burst` of it usable at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limit: int = Field(ge=1, le=1_000_000)
    window_seconds: int = Field(ge=1, le=86_400)
    burst: int | None = Field(default=None, ge=1)
    """How many requests may arrive back to back; defaults to `limit` (the whole quota)."""
    fail_open: bool = True
    """When Redis cannot be asked: admit (general traffic) or refuse with 503 (sensitive)."""

    @model_validator(mode="after")
    def _burst_within_limit(self) -> Self:
        if self.burst is not None and self.burst > self.limit:
            raise ValueError("burst cannot exceed limit (the quota it is part of)")
        return self

    @property
    def capacity(self) -> int:
        """The most requests admitted at once from an idle client."""
        return self.burst if self.burst is not None else self.limit

    @property
    def emission_interval_us(self) -> int:
        """GCRA's T: the steady-state gap between two admitted requests, in microseconds."""
        return max(1, round(self.window_seconds * 1_000_000 / self.limit))


@lru_cache(maxsize=256)  # a few policies times a few plans, asked on every request
def with_quota(policy: RateLimitPolicy, quota: "Quota | None") -> RateLimitPolicy:
    """The policy as the caller is held to it: its quota replaced by the caller's own (the
    `rate_quota` extension point: with multi-tenancy, the plan's), its failure mode kept."""
    if quota is None:
        return policy
    return RateLimitPolicy(
        limit=quota.limit,
        window_seconds=quota.window_seconds,
        burst=quota.burst,
        fail_open=policy.fail_open,
    )


def default_policies() -> dict[str, RateLimitPolicy]:
    return {
        # General API traffic: 100 a minute per client, 20 of them at once; fails open.
        DEFAULT_POLICY: RateLimitPolicy(limit=100, window_seconds=60, burst=20),
        # Login, password reset, OTP and the like: 5 a minute, fails closed.
        SENSITIVE_POLICY: RateLimitPolicy(limit=5, window_seconds=60, burst=5, fail_open=False),
    }


def default_routes() -> dict[str, str]:
    """Path prefix -> policy; the longest matching prefix wins, anything else is `default`.

    Capabilities add theirs through the `sensitive_paths` extension point (the login and
    token refresh of authentication), mapped to `sensitive`.
    """
    return {"/rate-limit/sensitive-example": SENSITIVE_POLICY}


def default_exempt_paths() -> list[str]:
    """Prefixes never limited: probes must reach every instance whatever a client does."""
    return ["/health/"]


def split_addresses(value: object) -> object:
    """`"a, b"` -> `["a", "b"]` (addresses, key hashes); anything else is left for pydantic."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def check_policy_names(policies: dict[str, RateLimitPolicy], routes: dict[str, str]) -> None:
    """Called by `Settings`: a typo in a policy name must stop the service at start-up."""
    for name in policies:
        if not POLICY_NAME.fullmatch(name):
            raise ValueError(f"rate-limit policy name {name!r} must match {POLICY_NAME.pattern}")
    if DEFAULT_POLICY not in policies:
        raise ValueError(f"RATE_LIMIT_POLICIES must define the {DEFAULT_POLICY!r} policy")
    for prefix, name in routes.items():
        if not prefix.startswith("/"):
            raise ValueError(f"rate-limit route {prefix!r} must be a path starting with '/'")
        if name not in policies:
            raise ValueError(f"rate-limit route {prefix!r} names unknown policy {name!r}")


class Settings(BaseSettings):
    """Policies by name, route groups by path prefix, who is asking."""

    rate_limit_enabled: bool = True
    rate_limit_policies: dict[str, RateLimitPolicy] = Field(default_factory=default_policies)
    rate_limit_routes: dict[str, str] = Field(default_factory=default_routes)
    rate_limit_exempt_paths: list[str] = Field(default_factory=default_exempt_paths)
    rate_limit_trusted_proxies: TrustedProxies = Field(default_factory=list)
    rate_limit_api_key_header: str = "X-API-Key"
    rate_limit_api_key_hashes: ApiKeyHashes = Field(default_factory=frozenset)
    """The keys that count as an identity of their own; any other key counts by address."""
    rate_limit_timeout_seconds: float = Field(default=0.1, gt=0, le=5)

    @field_validator("rate_limit_trusted_proxies", "rate_limit_api_key_hashes", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return split_addresses(value)

    @field_validator("rate_limit_api_key_hashes")
    @classmethod
    def _check_key_hashes(cls, hashes: frozenset[str]) -> frozenset[str]:
        if not all(SHA256_HEX.fullmatch(digest) for digest in hashes):
            raise ValueError("each entry must be the SHA-256 of a key, as 64 lower-case hex digits")
        return hashes

    @model_validator(mode="after")
    def _check_rate_limit_routes(self) -> Self:
        check_policy_names(self.rate_limit_policies, self.rate_limit_routes)
        return self
