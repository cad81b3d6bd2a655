"""Redis: the one client that the capabilities needing Redis share (cache, rate limiter...).

- `config.py`      REDIS_URL, the socket timeout and the key prefix
- `client.py`      the client (short timeouts), `redis_key()`, the readiness check, `RedisDep`
- `read_ahead.py`  a value read in another command's round trip, handed to the request's reader
- `capability.py`  its protocol object: the client opened and closed in the lifespan
"""
