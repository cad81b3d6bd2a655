"""Rate limiting: a GCRA limiter on the shared Redis, per client and per route group.

Every request to a limited route costs one EVALSHA of `gcra.lua`, which reads and updates the
client's bucket atomically with Redis' own clock, so all instances share one count and one
clock and no check-then-set race is possible. Policies, route groups, identities and the
failure mode are settings (`RATE_LIMIT_*`); the README's "Rate limiting" tells more.

Why our own 40-line Lua script rather than the `limits` library: its current release (5.8.0)
ships fixed-window, moving-window and sliding-window-counter strategies for Redis, but no GCRA
or token bucket (those exist only on its development branch), and its strategies answer
"allowed or not" without the remaining quota and retry time the RateLimit headers need in the
same round trip. The script is small, tested here against a real Redis, and easy to audit.

Rooms: `config` (policies), `limiter` (the Redis call), `batch` (concurrent checks sharing a
round trip), `identity` (who is asking), `middleware` (where it runs), `responses` (headers and
problem documents), `router`, `metrics` (its decisions as metric families).
"""
