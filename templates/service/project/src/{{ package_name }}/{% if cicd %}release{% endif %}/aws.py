"""botocore clients, and one typed way to call their operations.

botocore builds each operation's method at runtime, so its stubs cannot name them; `call` keeps
the untyped part in one place. AWS_ENDPOINT_URL (an emulator in the tests) and the usual
credential chain (GitHub OIDC in the workflow) are honoured by botocore itself.
"""

from collections.abc import Callable
from functools import cache
from typing import Any, cast

from botocore.client import BaseClient
from botocore.config import Config
from botocore.session import Session, get_session

Response = dict[str, Any]

# Standard retries with backoff: throttling during a rollout must not fail the deploy.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})


@cache
def session() -> Session:
    """One botocore session a process: it loads each service's model (JSON of megabytes, most
    of a client's start) once, however many clients are made."""
    return get_session()


def client(service: str) -> BaseClient:
    return session().create_client(service, config=CLIENT_CONFIG)


def call(api: BaseClient, operation: str, **parameters: Any) -> Response:
    """`api.<operation>(**parameters)`, e.g. `call(ecs, "describe_services", ...)`."""
    method = cast(Callable[..., Response], getattr(api, operation))
    return method(**parameters)
