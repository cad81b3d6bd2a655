"""Settings and apps that tests build alike, built once and handed out again while no test
has changed them (the shared fixtures `settings` and `app` in `conftest.py`).

Each test used to build both anew: `Settings` reads every field's sources (several ms), and a new
app's first start builds its routes' dependency models (FastAPI does it lazily; ~20 ms), the same
work for every test. Handing out the same objects is exact only while nothing a test could see
differs from a fresh build, so:

- settings are reused for the same values and the same environment (their sources read it), and
  dropped after a test that changed them in place (they no longer equal their pristine copy);
- an app is reused with the very settings object it was built with, or with settings that differ
  from those only in `per_test` values (the namespaces each test gets of its own on a shared
  service: messaging's channels). The app reads those only through `app.state.settings` once it
  runs (its lifespan, its requests), never while it is built (`Wiring.per_test_settings`), so
  it is handed out with `app.state.settings` set to the test's own settings: as a new app would
  be, without building its routes' dependency models again for every test. What a test can
  change of it (routes, middleware, exception handlers, dependency overrides, lifespan) is
  compared after the test, and a changed app is dropped; so is one whose settings were changed
  in place. Before each hand-out, `app.state` is set back to what `create_app` left there (with
  the test's settings) and the OpenAPI schema is forgotten. What an app holds at run time (pools,
  clients, limiters, metrics registries, tracer providers) is made by its lifespan, which every
  test runs anew (`serve`).
"""

import copy
import os
import pickle
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import FastAPI

S = TypeVar("S")
KEPT = 8
"""Distinct settings kept at once (a module overriding a wiring's fixture adds one)."""
PER_TEST_VARIABLES = frozenset({"PYTEST_CURRENT_TEST"})
"""Set by pytest for each test; no setting reads it."""


def shape(app: FastAPI) -> tuple[object, ...]:
    """What a test can change of an app, besides its state."""
    router = app.router
    return (
        tuple(router.routes),
        tuple(app.user_middleware),
        tuple(app.exception_handlers.items()),
        tuple(app.dependency_overrides.items()),
        router.lifespan_context,
        tuple(router.on_startup),
        tuple(router.on_shutdown),
    )


@dataclass
class KeptApp(Generic[S]):
    app: FastAPI
    state: dict[str, Any]
    shape: tuple[object, ...]
    built_with: S
    pristine: S


@dataclass
class Kept(Generic[S]):
    settings: S
    pristine: S
    shared: Hashable
    """The key of its values but the per-test ones: settings with the same share an app."""


@dataclass
class Reused(Generic[S]):
    build_settings: Callable[[dict[str, object]], S]
    build_app: Callable[[S], FastAPI]
    restart: Callable[[FastAPI], None]
    """What `build_app` does besides the app itself, done again on each hand-out (logging)."""
    per_test: Callable[[], frozenset[str]] = frozenset
    """The settings each test gets a value of its own for (`fixtures.per_test_settings`)."""
    kept: dict[Hashable, Kept[S]] = field(default_factory=dict)
    apps: dict[Hashable, KeptApp[S]] = field(default_factory=dict)

    def settings(self, values: Mapping[str, object]) -> tuple[Hashable | None, S]:
        """Settings for these values; the key to hand to `settings_used`."""
        key = _key(values)
        if key is None:
            return None, self.build_settings(dict(values))
        found = self.kept.get(key)
        if found is None:
            built = self.build_settings(dict(values))
            per_test = self.per_test()
            shared = _key({name: v for name, v in values.items() if name not in per_test})
            found = self.kept[key] = Kept(built, copy.deepcopy(built), shared)
            while len(self.kept) > KEPT:
                del self.kept[next(iter(self.kept))]
            while len(self.apps) > KEPT:
                del self.apps[next(iter(self.apps))]
        return key, found.settings

    def settings_used(self, key: Hashable | None) -> None:
        """After a test: settings it changed in place are not handed out again."""
        found = self.kept.get(key) if key is not None else None
        if found is not None and found.settings != found.pristine:
            del self.kept[key]

    def app(self, settings: S) -> FastAPI:
        found = next((k for k in self.kept.values() if k.settings is settings), None)
        if found is None:
            return self.build_app(settings)
        kept = self.apps.get(found.shared)
        if kept is not None and kept.built_with != kept.pristine:  # changed in place
            kept = None
        if kept is None:
            app = self.build_app(settings)
            self.apps[found.shared] = KeptApp(
                app, dict(app.state._state), shape(app), settings, copy.deepcopy(settings)
            )
            return app
        app = kept.app
        app.state._state.clear()
        app.state._state.update(kept.state)
        app.state.settings = settings
        app.openapi_schema = None
        self.restart(app)
        return app

    def app_used(self, app: FastAPI) -> None:
        """After a test: an app it changed is not handed out again."""
        for shared, kept in self.apps.items():
            if kept.app is app:
                if shape(app) != kept.shape:
                    del self.apps[shared]
                return


def _key(values: Mapping[str, object]) -> Hashable | None:
    """The values and the environment, or None when a value cannot be told apart by bytes."""
    try:
        given = pickle.dumps(sorted(values.items()))
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    environment = (item for item in os.environ.items() if item[0] not in PER_TEST_VARIABLES)
    return given, tuple(sorted(environment))
