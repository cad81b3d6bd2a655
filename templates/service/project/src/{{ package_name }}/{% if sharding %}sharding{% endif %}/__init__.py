"""Sharding: rows placed across PostgreSQL shards by a stable key, reads from replicas with
read-your-writes, lists across shards, migrations on every shard, and online resharding.

- `buckets.py`     a key's bucket (SHA-256, 1,024 buckets), the same in Python and in SQL
- `shard_map.py`   which shard holds each bucket: in the database (shard 0), versioned
- `topology.py`    the shards and their replicas from the settings, one engine each
- `routing.py`     SQLAlchemy's ShardedSession with choosers that read the map, plus replicas
- `replicas.py`    each replica's lag, by WAL position, and whether a read may use it
- `tokens.py`      consistency tokens: the WAL positions a client's writes reached
- `middleware.py`  tokens in and out; requests retried across a move or a failed replica
- `scatter.py`     GET /items from every shard at once, merged on the cursor's key
- `versions.py`    every shard at the same migrations, or the service does not start
- `runtime.py`     all of the above for one app; `capability.py` its protocol object
- `resharding.py`  moving buckets between shards while traffic continues (copy, verify,
                   fence, switch, clean up); `reshard.py` its command line
"""
