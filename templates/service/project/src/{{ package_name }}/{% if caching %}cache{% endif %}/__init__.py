"""Caching: cache-aside reads of items in Redis, and a trending feed on sorted sets.

- `aside.py`      cache-aside for one kind of record: TTL with jitter, negative caching,
                  single-flight loads (stampede protection), fail-open reads, invalidation
- `items.py`      the items domain read through it: GET /items/{id} and the writes' invalidation
- `config.py`     its settings section; `capability.py` its protocol object
- `trending.py`   views counted per time bucket (ZINCRBY), top K over a window (ZUNIONSTORE)
- `stats.py`      the per-process counters behind GET /cache/stats
- `metrics.py`    the same counters as metric families (exported by `observability`)
- `router.py`     POST /items/{id}/views, GET /trending, GET /cache/stats

Why by hand on redis-py rather than with cashews or aiocache (evaluated: cashews 7.6,
aiocache 0.12): each opens its own Redis connection from a URL instead of using the service's
one client (with its timeouts, readiness check and key prefix); neither jitters TTLs; both
turn Redis errors into misses inside the library (cashews' `suppress`, aiocache's decorators log
and carry on), so a fallback to the database cannot be counted; cashews serialises with pickle
by default, and aiocache ships no type hints for this project's strict mypy. What is left to
write is small: one `SET NX PX` lock, one compare-and-set Lua script, and an asyncio future
per key.
"""
