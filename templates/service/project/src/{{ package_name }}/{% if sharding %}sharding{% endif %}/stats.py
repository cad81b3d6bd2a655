"""What the sharding layer did in this process, counted with plain integers and read by the
metrics when they are scraped (nothing is paid per request beyond an increment)."""

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class ShardingStats:
    reads: Counter[tuple[int, str]] = field(default_factory=Counter)
    """Sessions of read-only requests bound to (shard, "primary" | "replica"), once per shard."""
    writes: Counter[int] = field(default_factory=Counter)
    """Every other session bound to a shard's primary (writes, work outside requests)."""
    fan_outs: int = 0
    """ORM statements that named no shard and so ran on every shard (see routing.py)."""
    list_failures: Counter[int] = field(default_factory=Counter)
    """Lists refused because this shard failed or did not answer in time."""
    replica_fallbacks: int = 0
    """Reads retried on the primary after their replica failed."""
    fence_waits: int = 0
    """Writes retried because their bucket was being moved (or had just moved)."""
    fence_timeouts: int = 0
    """Writes answered 503 because the move did not finish within SHARD_FENCE_WAIT_SECONDS."""
