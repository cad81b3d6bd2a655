"""The capability protocol: one object says everything a capability gives the app.

`capabilities.py` lists the capabilities this service has (and the backing services they share,
such as the Redis client), in wiring order; `main.py` iterates over that list and never names
one. A capability is a package of its own (`cache/`, `ratelimit/`, ...) holding:

- `config.py`: its settings section, a `Settings` class that `config.Settings` inherits from;
- `capability.py`: `CAPABILITY`, an instance of `Capability` below.

Capabilities that meet do so through the named extension points of `extensions.py` (who is
calling, which tenant, what happens around an item's read and write...), never by importing
each other.
"""

from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from .extensions import Extensions
from .health.checks import ReadinessCheck

# Middleware positions: lower runs first on the way in (further from the endpoint). The core's
# own: security headers outermost (-10, on every response), the request context (request id,
# access log line, last-resort 500) at 0, the request-body limit at 10.
SECURITY_HEADERS_POSITION = -10
REQUEST_CONTEXT_POSITION = 0
BODY_LIMIT_POSITION = 10


@dataclass(frozen=True, slots=True)
class Middleware:
    """A pure ASGI middleware, built as `factory(app, settings=settings)` (a class or function)."""

    position: int
    factory: Callable[..., ASGIApp]


@dataclass(frozen=True, slots=True)
class Process:
    """Work that runs beside the HTTP server: a relay, a consumer, a scheduler.

    `run(app)` runs until it is cancelled, with the app's resources open (every capability's
    lifespan has run: the database, Redis, the broker...). A process with `in_app` runs inside
    each API process; the others run in a process of their own, started with
    `python -m <package>.worker <name>` (its own container in compose and on ECS).
    """

    name: str
    run: Callable[..., Coroutine[Any, Any, None]]
    in_app: bool = False


@dataclass(frozen=True, slots=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric family, read when metrics are scraped (nothing is paid per request).

    A capability counts with plain integers on its own objects and describes them here; the
    `observability` capability, when present, exports every family in the Prometheus format.
    """

    name: str
    kind: Literal["counter", "gauge"]
    help: str
    samples: tuple[Sample, ...]


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def no_resources(_: FastAPI) -> AsyncIterator[None]:
    yield


def no_checks(_: FastAPI) -> Iterable[ReadinessCheck]:
    return ()


def no_metrics(_: FastAPI) -> Iterable[Metric]:
    return ()


def no_extension(_: Extensions) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Capability:
    """What the app needs from one capability, in the order `main.py` wires it."""

    name: str
    lifespan: Lifespan = no_resources
    """Opens its resources on `app.state` before the app serves, closes them after."""
    readiness: Callable[[FastAPI], Iterable[ReadinessCheck]] = no_checks
    """Its checks, read once the lifespan has opened the resources; each critical or not."""
    routers: tuple[APIRouter, ...] = ()
    middleware: tuple[Middleware, ...] = ()
    processes: tuple[Process, ...] = ()
    metrics: Callable[[FastAPI], Iterable[Metric]] = no_metrics
    extend: Callable[[Extensions], None] = no_extension
    """Fills the extension points it provides; called once per app, before routing."""


def extended(capabilities: Iterable[Capability]) -> Extensions:
    """The extension points as `capabilities` fill them, in their order (the app's, the
    migrations' and the commands' alike)."""
    extensions = Extensions()
    for capability in capabilities:
        capability.extend(extensions)
    return extensions
