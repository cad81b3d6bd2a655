from http import HTTPStatus

from ..problems import ProblemError


class ShardMapUnavailableError(ProblemError):
    """Shard 0 (which holds the shard map) has not answered since the app started."""

    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("The shard map cannot be read yet; retry shortly.")


class ShardUnavailableError(ProblemError):
    """A list needs every shard: one that fails or is late fails the list (see scatter.py)."""

    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, shard: int, reason: str) -> None:
        super().__init__(
            f"Shard {shard} {reason}; a list needs every shard, so none is returned. Retry shortly."
        )
        self.shard = shard


class ShardVersionsDisagreeError(RuntimeError):
    """The shards are at different migrations: the service refuses to start on them."""
