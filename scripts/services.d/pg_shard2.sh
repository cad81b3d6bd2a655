# shellcheck shell=bash
# PostgreSQL shard 2: a second, independent primary (the instance functions are in postgres.sh).
# Shard 1 is the `postgres` service; POSTGRES_SHARD_URLS lists both.

service_port PG_SHARD2_PORT 25433

pg_shard2_use() { pg_use pg_shard2 "$PG_SHARD2_PORT"; }
pg_shard2_packages() { pg_packages; }
pg_shard2_up() { pg_shard2_use && pg_primary_up; }
pg_shard2_down() { pg_shard2_use && pg_down; }
pg_shard2_is_up() { pg_shard2_use && pg_is_up; }
pg_shard2_where() { echo "127.0.0.1:$PG_SHARD2_PORT"; }
pg_shard2_env() {
    printf 'export POSTGRES_SHARD_URLS=%s,%s\n' "$(pg_url "$PG_PORT")" "$(pg_url "$PG_SHARD2_PORT")"
}
