"""Print the latency that validating a bearer token adds to a request: p50/p99, same run.

Run (services up: `eval "$(scripts/services env)"`):
    .venv/bin/python benchmarks/auth_overhead.py [--requests N]

A project with `auth` is rendered; in the matrix's shared environment one app of it serves
`GET /health/live` in-process (ASGI calls, no HTTP client in the timing), alternately without
credentials and with
`Authorization: Bearer <token>`: RS256 access tokens issued by the real identity provider at
OIDC_ISSUER (client credentials), whose key the app has cached after the first request. The
authentication middleware verifies every bearer token it sees, public route or not, so the
difference is the whole cost of validation (header, key lookup, RS256 signature, claims, the
principal). Two cases: a client sending its token again (the app remembers tokens it verified,
`VerifiedTokens`) and a new token on every request (a full verification each time).
Target: the added p50 at most 0.3 ms. Numbers only; nothing here asserts a time.
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
AUDIENCE = "bench-api"
WARM_UP = 500
TARGET_MS = 0.3
WITHOUT = "without credentials"
SAME = "the same token again (remembered)"
FRESH = "a new token each time (verified)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000, help="per variant (default 5000)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL", "OIDC_ISSUER"):
        if not os.environ.get(name):
            sys.exit(
                f'{name} is not set: run `scripts/services up` and `eval "$(scripts/services env)"`'
            )
    if arguments.child:
        import asyncio

        asyncio.run(measure(arguments.requests))
        return
    with tempfile.TemporaryDirectory(prefix="auth-bench-") as scratch:
        project, python = render(Path(scratch))
        env = {**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("VIRTUAL_ENV", None)
        command = [str(python), __file__, "--child", str(project), "--requests"]
        subprocess.run([*command, str(arguments.requests)], env=env, check=True)


def render(scratch: Path) -> tuple[Path, Path]:
    """The project, rendered through `scaffold new`'s code path, and the shared interpreter."""
    sys.path.insert(0, str(ROOT))
    from tests.support.render import project_and_python

    return project_and_python(scratch, PROJECT, ("auth",))


def issue_tokens(issuer: str, count: int) -> list[str]:
    """Client-credentials access tokens of the real provider, for this benchmark's audience."""
    import httpx

    tokens = []
    with httpx.Client(timeout=10) as http:
        for _ in range(count):
            response = http.post(
                f"{issuer}/token",
                data={"grant_type": "client_credentials", "scope": "read", "audience": AUDIENCE},
                auth=("bench-client", "bench-secret"),
            )
            response.raise_for_status()
            tokens.append(response.json()["access_token"])
    return tokens


async def measure(requests: int) -> None:
    """Runs in the generated project's environment (imports its package)."""
    from bench_svc.config import Settings  # type: ignore[import-not-found]
    from bench_svc.main import create_app  # type: ignore[import-not-found]

    issuer = os.environ["OIDC_ISSUER"]
    settings = Settings(
        _env_file=None, log_level="WARNING", oidc_issuer=issuer, auth_audience=[AUDIENCE]
    )
    app = create_app(settings)
    tokens = issue_tokens(issuer, WARM_UP + requests + 1)
    samples = await interleaved(app, tokens, requests)
    report(requests, samples)


async def interleaved(app: Any, tokens: list[str], requests: int) -> dict[str, list[float]]:
    """The same request without credentials, with one token again and again, and with a new
    token every time, rotating which goes first; seconds per request.

    Requests are ASGI calls straight into the app (no HTTP client in the timing), so the
    differences are the server's own."""
    import time

    def bearer(token: str) -> list[tuple[bytes, bytes]]:
        return [(b"authorization", f"Bearer {token}".encode())]

    fresh = iter(tokens[1:])
    variants = {
        WITHOUT: lambda: [],
        SAME: lambda: bearer(tokens[0]),
        FRESH: lambda: bearer(next(fresh)),
    }
    samples: dict[str, list[float]] = {label: [] for label in variants}
    async with app.router.lifespan_context(app):
        assert await call(app, "/auth/me", bearer(tokens[0])) == 200, "the token is refused"
        refused_before = app.state.auth.stats.tokens_refused_total
        order = list(variants)
        for round_ in range(WARM_UP + requests):
            shift = round_ % len(order)
            for label in order[shift:] + order[:shift]:
                headers = variants[label]()
                started = time.perf_counter()
                status = await call(app, "/health/live", headers)
                elapsed = time.perf_counter() - started
                assert status == 200, status
                if round_ >= WARM_UP:
                    samples[label].append(elapsed)
        assert app.state.auth.stats.tokens_refused_total == refused_before, "a token was refused"
        assert app.state.auth.keys.fetches_total == 1, "the keys were fetched again mid-run"
    return samples


async def call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET through the whole ASGI app (every middleware); its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    status: int = messages[0]["status"]
    return status


def report(requests: int, samples: dict[str, list[float]]) -> None:
    import statistics

    def p50_p99(values: list[float]) -> tuple[float, float]:
        return statistics.median(values) * 1000, statistics.quantiles(values, n=100)[98] * 1000

    rows = {label: p50_p99(values) for label, values in samples.items()}
    base_p50, base_p99 = rows[WITHOUT]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"GET /health/live in-process, {requests} requests per variant, RS256, cached key")
    print(f"  (load average {load} on {os.cpu_count()} cores)")
    for label, (p50, p99) in rows.items():
        print(f"  {label:<34} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms")
    for label in (SAME, FRESH):
        p50, p99 = rows[label]
        added = p50 - base_p50
        verdict = "met" if added <= TARGET_MS else "MISSED"
        print(
            f"  added, {label:<27} p50 {added:7.3f} ms   p99 {p99 - base_p99:7.3f} ms"
            f"   ratio {p50 / base_p50:5.2f}x   target <= {TARGET_MS} ms: {verdict}"
        )


if __name__ == "__main__":
    main()
