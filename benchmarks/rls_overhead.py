"""Print what multi-tenancy's row-level security costs on the items list: the same query with
RLS plus `SET LOCAL` against it without RLS (an explicit `WHERE tenant_id = ...`), measured side
by side in one run with pgbench.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`):

    .venv/bin/python benchmarks/rls_overhead.py [--seconds 10] [--rounds 3] [--tenants 50]
                                                [--items-per-tenant 200] [--clients 2]

A fresh database of its own on the DATABASE_URL server gets two copies of the items table, as
the `multitenancy` migration leaves it (`tenant_id` defaulting to the setting, the index on
`(tenant_id, created_at, id)`): `items` with ENABLE + FORCE ROW LEVEL SECURITY and the
migration's policy, `items_plain` without. A login role that owns nothing (as DATABASE_APP_ROLE)
runs, per transaction, what GET /items runs: one page (`LIMIT 21`, oldest first) and the count,
for a random tenant:

- `rls`:   `set_config('app.tenant_id', <tenant>, true)` (the `session_begin` hook), then the
           queries with no tenant filter: the policy adds it;
- `plain`: the queries with `WHERE tenant_id = <tenant>`, no setting;
- `plain+set`: `plain` with the same `set_config` first: one more round trip, no policy, which
  separates what the extra statement costs from what the policy costs.

Modes alternate over `--rounds`; the ratio is RLS throughput over plain throughput (the issue's
target: at least 0.90). Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SERVICES_HINT = 'run `scripts/services up` and `eval "$(scripts/services env)"`'
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')"
SCHEMA = """
CREATE TABLE {table} (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name varchar(200) NOT NULL,
    description varchar(2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    tenant_id varchar(64) NOT NULL DEFAULT current_setting('app.tenant_id')
);
CREATE INDEX ix_{table}_created_at ON {table} (created_at);
CREATE INDEX ix_{table}_tenant_id_created_at ON {table} (tenant_id, created_at, id);
INSERT INTO {table} (name, tenant_id, created_at)
    SELECT 'item ' || n, 't' || (n % {tenants}), now() - n * interval '1 second'
    FROM generate_series(1, {rows}) AS n;
ANALYZE {table};
"""
RLS = f"""
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
ALTER TABLE items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON items USING ({POLICY}) WITH CHECK ({POLICY});
"""
SCRIPTS = {
    "rls": """\\set t random(0, {last})
BEGIN;
SELECT set_config('app.tenant_id', 't' || :t, true);
SELECT id, name, description, created_at FROM items ORDER BY created_at, id LIMIT 21;
SELECT count(*) FROM items;
COMMIT;
""",
    "plain+set": """\\set t random(0, {last})
BEGIN;
SELECT set_config('app.tenant_id', 't' || :t, true);
SELECT id, name, description, created_at FROM items_plain WHERE tenant_id = 't' || :t
    ORDER BY created_at, id LIMIT 21;
SELECT count(*) FROM items_plain WHERE tenant_id = 't' || :t;
COMMIT;
""",
    "plain": """\\set t random(0, {last})
BEGIN;
SELECT id, name, description, created_at FROM items_plain WHERE tenant_id = 't' || :t
    ORDER BY created_at, id LIMIT 21;
SELECT count(*) FROM items_plain WHERE tenant_id = 't' || :t;
COMMIT;
""",
}


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def with_database(url: str, name: str, user: str | None = None, password: str = "") -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}:{password}@{netloc.rsplit('@', 1)[-1]}"
    return urlunsplit((parts.scheme, netloc, f"/{name}", parts.query, ""))


def tps(url: str, script: Path, seconds: int, clients: int) -> float:
    run = subprocess.run(
        [
            *("pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients)),
            *("-T", str(seconds), "-f", str(script), url),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"tps = ([0-9.]+)", run.stdout)
    if found is None:
        raise SystemExit(f"pgbench printed no tps:\n{run.stdout}\n{run.stderr}")
    return float(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--items-per-tenant", type=int, default=200)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL", "").replace("postgresql+asyncpg://", "postgresql://")
    if not admin:
        print(f"DATABASE_URL is not set: {SERVICES_HINT}", file=sys.stderr)
        return 2
    name = f"bench_rls_{secrets.token_hex(4)}"
    role, password = f"bench_app_{secrets.token_hex(4)}", secrets.token_hex(16)
    psql(admin, f'CREATE DATABASE "{name}"')
    try:
        owner = with_database(admin, name)
        rows = args.tenants * args.items_per_tenant
        for table in ("items", "items_plain"):
            psql(owner, SCHEMA.format(table=table, tenants=args.tenants, rows=rows))
        psql(owner, RLS)
        psql(owner, f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
        psql(owner, f'GRANT SELECT ON items, items_plain TO "{role}"')
        app = with_database(admin, name, role, password)
        results: dict[str, list[float]] = {"plain": [], "plain+set": [], "rls": []}
        with tempfile.TemporaryDirectory() as scratch:
            scripts = {}
            for mode, text in SCRIPTS.items():
                scripts[mode] = Path(scratch) / f"{mode}.sql"
                scripts[mode].write_text(text.format(last=args.tenants - 1))
            tps(app, scripts["rls"], 2, args.clients)  # warm up: caches, plans
            for _ in range(args.rounds):
                for mode, found in results.items():
                    found.append(tps(app, scripts[mode], args.seconds, args.clients))
        print(
            f"{args.tenants} tenants x {args.items_per_tenant} items, {args.clients} clients, "
            f"{args.rounds} rounds of {args.seconds} s each"
        )
        print(f"{'mode':<10}{'median tps':>12}   rounds")
        for mode, values in results.items():
            rounds = ", ".join(f"{value:.0f}" for value in values)
            print(f"{mode:<10}{statistics.median(values):>12.0f}   {rounds}")
        ratio = statistics.median(results["rls"]) / statistics.median(results["plain"])
        print(f"rls / plain throughput: {ratio:.3f} (target >= 0.90)")
        setting = statistics.median(results["rls"]) / statistics.median(results["plain+set"])
        print(f"rls / plain+set throughput: {setting:.3f} (the policy alone, same round trips)")
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        psql(admin, f'DROP ROLE IF EXISTS "{role}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
