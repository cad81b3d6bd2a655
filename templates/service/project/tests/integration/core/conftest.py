"""The core's integration tests: the items API, the request id, the HTTP hardening and the heap
freeze, through an app of no capability (`app=()`) on a database of the service's own
migrations. They read only the core's modules, so they are the same in every choice of
capabilities; what needs the whole service (its health, its OpenAPI, its processes, one items
round trip through every capability) stays in `tests/integration/`."""

from ...fixtures import group

group("core", app=())  # no fixture module, and an app of the core alone
