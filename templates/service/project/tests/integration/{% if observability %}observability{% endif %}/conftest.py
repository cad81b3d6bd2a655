"""The observability tests: its fixtures (the collector's spans, a real uvicorn serving the app,
a real Prometheus scraping it) are the shared ones of `tests/fixtures/observability.py`, which
its tests in the partners' folders use too.

They build an app of observability alone, on the core: its own tests read no other capability,
so the same in every combination. How it traces or exports a partner (a cache miss's trace, the
replica poll's missing spans) is tested in that partner's folder, with its group's app; what
the whole service exports, and the deploy files every capability adds to (the capabilities'
rules, the dashboard, the runbook), in the service's own tests
(`tests/integration/test_observed_service.py`, `test_observability_deploy_files.py`).
"""

from ...fixtures import group

group("observability", "observability", app=["observability"])
