"""The cache's settings section (`config.Settings` inherits it)."""

from pydantic import Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    # Cache-aside reads of items, and the trending feed
    cache_enabled: bool = True
    cache_ttl_seconds: float = Field(default=300, gt=0)
    cache_ttl_jitter: float = Field(default=0.15, ge=0, le=0.5)
    cache_negative_ttl_seconds: float = Field(default=30, gt=0)
    cache_lock_ttl_seconds: float = Field(default=2, gt=0, le=60)
    trending_bucket_seconds: int = Field(default=3600, ge=1)
    trending_window_buckets: int = Field(default=24, ge=1, le=24 * 31)
