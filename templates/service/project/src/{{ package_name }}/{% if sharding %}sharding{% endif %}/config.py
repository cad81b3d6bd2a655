"""Sharding's settings section (`config.Settings` inherits it).

Shard 0 is DATABASE_URL's database, which also holds the shard map; SHARD_URLS lists shards 1,
2, ... in order (a shard's number is its place in that list, so add new shards at the end).
"""

import json
import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

REPLICA_ENTRY = re.compile(r"^(\d+)=(\S+)$")


class Settings(BaseSettings):
    # Shards: DATABASE_URL is shard 0; these are shards 1, 2, ... (comma-separated URLs)
    shard_urls: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # Read replicas, comma-separated "<shard>=<url>" (several per shard allowed); a URL without
    # user and password logs in as its shard's URL does (a physical replica has the same roles)
    shard_replica_urls: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # How long each shard may take to answer its part of a list before the list fails (503)
    shard_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # How often the shard map is re-read from shard 0 (a write to a moved bucket re-reads at once)
    shard_map_refresh_seconds: float = Field(default=1.0, gt=0, le=60)
    # How long a write waits for a bucket that resharding has fenced before answering 503
    shard_fence_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    # Reads go to a replica only while it is this close behind its primary
    replica_max_lag_seconds: float = Field(default=5.0, gt=0, le=3600)
    replica_poll_seconds: float = Field(default=0.2, gt=0, le=10)
    replica_connect_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    replica_reads_enabled: bool = True

    @field_validator("shard_urls", "shard_replica_urls", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """Comma-separated URLs, or a JSON list of them (as other list settings are written)."""
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except ValueError:
                return value  # its items are then checked, and named, one by one
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("shard_replica_urls")
    @classmethod
    def _replica_entries(cls, entries: list[str]) -> list[str]:
        for position, entry in enumerate(entries, start=1):
            if not REPLICA_ENTRY.match(entry):
                # The entry may hold a password: say where it is, not what it is.
                raise ValueError(f"SHARD_REPLICA_URLS entry {position} is not <shard number>=<URL>")
        return entries

    @model_validator(mode="after")
    def _replicas_name_known_shards(self) -> "Settings":
        shards = 1 + len(self.shard_urls)
        for entry in self.shard_replica_urls:
            match = REPLICA_ENTRY.match(entry)
            if match and int(match.group(1)) >= shards:
                raise ValueError(
                    f"SHARD_REPLICA_URLS names shard {match.group(1)}, but there are {shards} "
                    "shards (DATABASE_URL is shard 0, SHARD_URLS the next ones)"
                )
        return self

    def replica_urls(self) -> list[tuple[int, str]]:
        """(shard, URL) for each replica, in the order given."""
        found = []
        for entry in self.shard_replica_urls:
            shard, url = entry.split("=", 1)
            found.append((int(shard), url))
        return found
