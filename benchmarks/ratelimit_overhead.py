"""Print the latency the rate limiter adds to a request: p50/p99 with and without it, same run.

Run (services up: `eval "$(scripts/services env)"`):
    .venv/bin/python benchmarks/ratelimit_overhead.py [--requests N]

A project with `rate_limiting` is rendered; then, in the matrix's shared environment, two apps
of it are built from the same settings, one with the limiter and one without
(RATE_LIMIT_ENABLED=false), and requests to the same endpoint (`GET /rate-limit`, no database)
alternate between them in-process (httpx over ASGI), so both see the same machine at the same
moment. The limiter talks to the real Redis at REDIS_URL (keys under a random prefix, deleted
afterwards). Also printed: one bare limiter check (the EVALSHA round trip). Target: the
added p50 under 1 ms. Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "bench-svc"
SERVICES_HINT = 'run `scripts/services up` and `eval "$(scripts/services env)"`'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000, help="per app (default 5000)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            sys.exit(
                f'{name} is not set: run `scripts/services up` and `eval "$(scripts/services env)"`'
            )
    if arguments.child:
        import asyncio

        asyncio.run(measure(arguments.requests))
        return
    with tempfile.TemporaryDirectory(prefix="ratelimit-bench-") as scratch:
        project, python = render(Path(scratch))
        env = {**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("VIRTUAL_ENV", None)
        command = [str(python), __file__, "--child", str(project), "--requests"]
        subprocess.run([*command, str(arguments.requests)], env=env, check=True)


def render(scratch: Path) -> tuple[Path, Path]:
    """The project, and the matrix's shared interpreter (built from the same samples)."""
    sys.path.insert(0, str(ROOT))
    from tests.support.render import project_and_python

    return project_and_python(scratch, PROJECT, ("rate_limiting",))


WARM_UP = 500


async def measure(requests: int) -> None:
    """Runs in the generated project's environment (imports its package)."""
    import secrets

    from bench_svc.config import Settings  # type: ignore[import-not-found]
    from bench_svc.main import create_app  # type: ignore[import-not-found]
    from bench_svc.ratelimit.config import RateLimitPolicy  # type: ignore[import-not-found]
    from redis.asyncio import Redis

    prefix = f"bench_{secrets.token_hex(4)}"
    unlimited = RateLimitPolicy(limit=1_000_000, window_seconds=60)  # measure, never refuse
    limited = Settings(
        _env_file=None,
        log_level="WARNING",
        redis_key_prefix=prefix,
        rate_limit_policies={"default": unlimited},
        rate_limit_routes={},
    )
    on = create_app(limited)
    off = create_app(limited.model_copy(update={"rate_limit_enabled": False}))
    try:
        samples = await interleaved(on, off, requests)
        bare = await bare_checks(on, unlimited, requests)
    finally:
        redis = Redis.from_url(limited.redis_url)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.unlink(*keys)
        await redis.aclose()
    report(requests, samples, bare)


async def interleaved(on: Any, off: Any, requests: int) -> dict[str, list[float]]:
    """The same request to both apps, alternating which goes first; seconds per request."""
    import time

    from httpx import ASGITransport, AsyncClient

    samples: dict[str, list[float]] = {"with limiter": [], "without limiter": []}
    async with (
        on.router.lifespan_context(on),
        off.router.lifespan_context(off),
        AsyncClient(transport=ASGITransport(app=on), base_url="http://bench") as client_on,
        AsyncClient(transport=ASGITransport(app=off), base_url="http://bench") as client_off,
    ):
        assert "RateLimit" in (await client_on.get("/rate-limit")).headers, "no limiter ran"
        assert "RateLimit" not in (await client_off.get("/rate-limit")).headers
        pairs = [("with limiter", client_on), ("without limiter", client_off)]
        for round_ in range(WARM_UP + requests):
            for label, client in pairs if round_ % 2 else pairs[::-1]:
                started = time.perf_counter()
                response = await client.get("/rate-limit")
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                if round_ >= WARM_UP:
                    samples[label].append(elapsed)
        assert on.state.rate_limiter.backend_errors_total == 0, "Redis failed during the run"
    return samples


async def bare_checks(app: Any, policy: Any, requests: int) -> list[float]:
    """One limiter check alone: the EVALSHA round trip and its Python around it."""
    import time

    async with app.router.lifespan_context(app):
        limiter = app.state.rate_limiter
        seconds = []
        for index in range(WARM_UP + requests):
            started = time.perf_counter()
            await limiter.acquire("default", policy, "ip:192.0.2.1")
            if index >= WARM_UP:
                seconds.append(time.perf_counter() - started)
    return seconds


def report(requests: int, samples: dict[str, list[float]], bare: list[float]) -> None:
    import statistics

    def p50_p99(values: list[float]) -> tuple[float, float]:
        return statistics.median(values) * 1000, statistics.quantiles(values, n=100)[98] * 1000

    rows = {label: p50_p99(values) for label, values in samples.items()}
    (on_p50, on_p99), (off_p50, off_p99) = rows.values()
    rows["added by the limiter"] = (on_p50 - off_p50, on_p99 - off_p99)
    rows["one limiter check"] = p50_p99(bare)
    print(f"GET /rate-limit in-process, {requests} requests per app, Redis at REDIS_URL")
    for label, (p50, p99) in rows.items():
        print(f"  {label:<22} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms")
    verdict = "met" if on_p50 - off_p50 < 1.0 else "MISSED"
    print(f"  target, added p50 < 1 ms: {verdict}")


if __name__ == "__main__":
    main()
