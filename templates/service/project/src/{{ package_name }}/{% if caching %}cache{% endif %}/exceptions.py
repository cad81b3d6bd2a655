from http import HTTPStatus

from ..problems import ProblemError


class TrendingUnavailableError(ProblemError):
    """The feed lives only in Redis: with Redis down there is nothing to fall back to."""

    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("The trending feed is unavailable; try again shortly.")
