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
  separates what the extra statement costs from what the policy costs;
- `rls+begin`: `rls` as the app now runs it (`TenantConnection`, tenancy/database.py): the
  `set_config` travels with the `BEGIN`, in the same round trip. Here a pipeline of the two
  (`\\startpipeline`), so that the queries stay prepared as asyncpg's are;
- `plain/simple`, `rls+begin/simple`: the app's very message, `BEGIN; SELECT set_config(...)`
  as one simple query (pgbench's `\\;`), which the prepared protocol refuses: so both of this
  pair run under `-M simple`, every query parsed and planned each time (the app prepares its
  queries once per connection), and compare with each other only.

The prepared modes run under `-M prepared` (asyncpg prepares each statement once per
connection). Modes alternate over `--rounds`; the ratios are each RLS mode's throughput over
plain throughput under the same protocol (the issue's target: at least 0.90). Numbers only;
nothing here asserts a time.
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
PICK = "\\set t random(0, {last})\n"
SET = "SELECT set_config('app.tenant_id', 't' || :t, true);\n"
RLS_QUERIES = """\
SELECT id, name, description, created_at FROM items ORDER BY created_at, id LIMIT 21;
SELECT count(*) FROM items;
COMMIT;
"""
PLAIN_QUERIES = """\
SELECT id, name, description, created_at FROM items_plain WHERE tenant_id = 't' || :t
    ORDER BY created_at, id LIMIT 21;
SELECT count(*) FROM items_plain WHERE tenant_id = 't' || :t;
COMMIT;
"""
SCRIPTS = {
    "plain": PICK + "BEGIN;\n" + PLAIN_QUERIES,
    "plain+set": PICK + "BEGIN;\n" + SET + PLAIN_QUERIES,
    "rls": PICK + "BEGIN;\n" + SET + RLS_QUERIES,
    "rls+begin": PICK + "\\startpipeline\nBEGIN;\n" + SET + "\\endpipeline\n" + RLS_QUERIES,
    "plain/simple": PICK + "BEGIN;\n" + PLAIN_QUERIES,
    "rls+begin/simple": PICK + "BEGIN\\; " + SET + RLS_QUERIES,
}
PROTOCOL = {"plain/simple": "simple", "rls+begin/simple": "simple"}
"""The pgbench protocol of each mode, when not `prepared`."""


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def with_database(url: str, name: str, user: str | None = None, password: str = "") -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}:{password}@{netloc.rsplit('@', 1)[-1]}"
    return urlunsplit((parts.scheme, netloc, f"/{name}", parts.query, ""))


def tps(url: str, script: Path, seconds: int, clients: int, protocol: str = "prepared") -> float:
    run = subprocess.run(
        [
            *("pgbench", "-n", "-M", protocol, "-c", str(clients), "-j", str(clients)),
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
        results: dict[str, list[float]] = {mode: [] for mode in SCRIPTS}
        with tempfile.TemporaryDirectory() as scratch:
            scripts = {}
            for mode, text in SCRIPTS.items():
                scripts[mode] = Path(scratch) / f"{mode.replace('/', '-')}.sql"
                scripts[mode].write_text(text.format(last=args.tenants - 1))
            tps(app, scripts["rls"], 2, args.clients)  # warm up: caches, plans
            for _ in range(args.rounds):
                for mode, found in results.items():
                    protocol = PROTOCOL.get(mode, "prepared")
                    found.append(tps(app, scripts[mode], args.seconds, args.clients, protocol))
        print(
            f"{args.tenants} tenants x {args.items_per_tenant} items, {args.clients} clients, "
            f"{args.rounds} rounds of {args.seconds} s each"
        )
        print(f"{'mode':<18}{'protocol':<10}{'median tps':>12}   rounds")
        for mode, values in results.items():
            rounds = ", ".join(f"{value:.0f}" for value in values)
            protocol = PROTOCOL.get(mode, "prepared")
            print(f"{mode:<18}{protocol:<10}{statistics.median(values):>12.0f}   {rounds}")
        median = {mode: statistics.median(values) for mode, values in results.items()}
        for mode, over, what in (
            ("rls", "plain", "the set_config a statement of its own (the app before)"),
            ("rls+begin", "plain", "the set_config with BEGIN (the app now); target >= 0.90"),
            ("rls+begin/simple", "plain/simple", "the app's very BEGIN message, all simple"),
            ("rls", "plain+set", "the policy alone, same round trips"),
        ):
            print(f"{mode} / {over} throughput: {median[mode] / median[over]:.3f} ({what})")
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        psql(admin, f'DROP ROLE IF EXISTS "{role}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
