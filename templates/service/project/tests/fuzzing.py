"""What the fuzz modules share: their generation settings and the app they fuzz, its lifespan
run once per module.

Two modules fuzz: `tests/integration/core/test_core_fuzz.py`, the core's own operations on an
app of the core alone, thoroughly (the same in every choice of capabilities), and
`tests/integration/test_openapi_fuzz.py`, every operation of the whole service, with fewer
examples. Their docstrings say what each guarantees. The knobs, for both:

- `FUZZ_EXAMPLES`: examples per operation and generation mode (unset: each module's own);
- `FUZZ_PHASES`: schemathesis's phases (unset: `examples,fuzzing`; add `coverage` for the
  boundary values of every parameter);
- `FUZZ_SEED`: the seed every operation's inputs derive from (unset: 0).

A longer hunt: `FUZZ_EXAMPLES=200 FUZZ_PHASES=examples,coverage,fuzzing FUZZ_SEED=$RANDOM
pytest -k fuzz`.
"""

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.schemas import OpenApiSchema

Message = MutableMapping[str, Any]

PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing").split(",")
SEED = int(os.environ.get("FUZZ_SEED", "0"))
"""Fixed, so every run sends the same inputs: a failure reproduces, and a result depends only on
the code that ran (scaffold's matrix reuses a test group's result wherever the files it read are
the same). Random generation finds other inputs only when told to (another seed)."""

fuzz_settings = settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,  # no .hypothesis/ folder in the project: a rerun reads what the first read
)


def examples(default: int) -> int:
    """`FUZZ_EXAMPLES` when it is set (a longer hunt raises both modules), else the module's."""
    return int(os.environ.get("FUZZ_EXAMPLES", default))


def fuzz_schema(document: dict[str, Any], max_examples: int) -> OpenApiSchema:
    """The operations of this OpenAPI document, each to be fuzzed with valid and invalid input."""
    config = schemathesis.Config(seed=SEED)
    project = config.projects.default
    project.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=max_examples,
    )
    project.phases.update(phases=PHASES)
    return schemathesis.openapi.from_dict(document, config=config)


class OneLifespan:
    """`app` as schemathesis calls it, with the app's lifespan run once until `close()`.

    Schemathesis ends an app's lifespan after each test (its pytest plugin's teardown), so a
    module of one test per operation started the service once per operation: its engines, its
    clients, the identity provider's keys (about 60 ms of CPU and 0.3 s each with every
    capability). Here its lifespan messages are answered at once, and the app's own lifespan runs
    in one task of schemathesis's event loop (where the requests run), entered and left there.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started: asyncio.Future[None] | None = None
        self._running: asyncio.Task[None] | None = None

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        await receive()  # lifespan.startup
        if self._started is None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._started = self._loop.create_future()
            self._running = asyncio.create_task(self._run(self._started, self._stop))
        await asyncio.shield(self._started)  # a start-up that failed fails every test
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown, when the test ends
        await send({"type": "lifespan.shutdown.complete"})

    async def _run(self, started: asyncio.Future[None], stop: asyncio.Event) -> None:
        try:
            async with self.app.router.lifespan_context(self.app):
                started.set_result(None)
                await stop.wait()
        except BaseException as error:
            if started.done():
                raise
            started.set_exception(error)

    def close(self) -> None:
        """Stop the app's lifespan, if a test started it, and wait until it has stopped."""
        if self._loop is None or self._stop is None or self._running is None:
            return
        stop, running = self._stop, self._running

        async def stopped() -> None:
            stop.set()
            await running

        asyncio.run_coroutine_threadsafe(stopped(), self._loop).result()
