"""Read replicas: how far behind each one is, and whether a read may go to it.

Every REPLICA_POLL_SECONDS the tracker samples the primary's WAL position
(`pg_current_wal_lsn()`) and the replica's replay position (`pg_last_wal_replay_lsn()`). The lag
is the age of the oldest primary sample the replica has not replayed yet: zero when it has
replayed everything, and growing by the second while it is stopped or stuck. (The `*_lag`
columns of `pg_stat_replication` are NULL while the primary is idle, so they are not used.)

A read may use the replica when the replica answers, is still in recovery (not promoted), lags
at most REPLICA_MAX_LAG_SECONDS, and, if the client carries a consistency token for the shard,
has replayed at least the token's position. A replica that fails a read is left alone until a
poll finds it healthy again.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy import text

from .tokens import parse_lsn
from .topology import Monitor, Replica

logger = logging.getLogger(__name__)

NOT_POLLED = "not polled yet"
MAX_SAMPLES = 1000
"""At one sample a poll; past this many unreplayed samples the middle ones are dropped."""


class LagWindow:
    """Primary positions over time, and which of them the replica has replayed."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()

    def sampled(self, at: float, primary_lsn: int) -> None:
        self._samples.append((at, primary_lsn))
        if len(self._samples) > MAX_SAMPLES:
            oldest = self._samples.popleft()
            self._samples.popleft()  # keep the oldest unreplayed sample: it says the lag
            self._samples.appendleft(oldest)

    def lag(self, now: float, replay_lsn: int) -> float:
        """Seconds since the oldest sample the replica has not replayed (0: none)."""
        while self._samples and self._samples[0][1] <= replay_lsn:
            self._samples.popleft()
        return now - self._samples[0][0] if self._samples else 0.0


class ReplicaTracker:
    def __init__(
        self,
        replica: Replica,
        primary_monitor: Monitor,
        *,
        max_lag_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.replica = replica
        self._primary = primary_monitor
        self._max_lag = max_lag_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._window = LagWindow()
        self.healthy = False
        """False until the first poll succeeds, after a failed poll or a failed read."""
        self.replay_lsn: int | None = None
        self.lag_seconds: float | None = None
        self.problem: str | None = NOT_POLLED

    @property
    def name(self) -> str:
        return self.replica.name

    def usable(self, token_lsn: int | None = None) -> bool:
        """May a read (with this consistency token position for the shard) go here?"""
        if not self.healthy or self.lag_seconds is None or self.lag_seconds > self._max_lag:
            return False
        return token_lsn is None or (self.replay_lsn is not None and self.replay_lsn >= token_lsn)

    def failed(self, reason: str) -> None:
        if self.healthy:
            logger.warning("replica %s left out of reads: %s", self.name, reason)
        self.healthy = False
        self.problem = reason

    async def poll(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                async with self._primary.connect() as connection:
                    primary_lsn = await connection.scalar(text("SELECT pg_current_wal_lsn()::text"))
            self._window.sampled(self._clock(), parse_lsn(str(primary_lsn)))
        except Exception as error:  # noqa: BLE001 - the primary's own check reports it
            logger.debug("primary of %s not sampled: %s", self.name, type(error).__name__)
        try:
            async with asyncio.timeout(self._timeout):
                async with self.replica.monitor.connect() as connection:
                    row = (
                        await connection.execute(
                            text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")
                        )
                    ).one()
        except Exception as error:  # noqa: BLE001 - refused, timed out...: reads go to the primary
            self.failed(f"{type(error).__name__} while polling")
            return
        in_recovery, replay = row
        if not in_recovery or replay is None:
            self.failed("not in recovery (promoted, or not a replica)")
            return
        self.replay_lsn = parse_lsn(replay)
        self.lag_seconds = self._window.lag(self._clock(), self.replay_lsn)
        if not self.healthy and self.problem != NOT_POLLED:
            logger.info("replica %s serves reads again", self.name)
        self.healthy, self.problem = True, None
        if self.lag_seconds > self._max_lag:
            self.problem = f"lag {self.lag_seconds:.1f} s exceeds {self._max_lag:g} s"
