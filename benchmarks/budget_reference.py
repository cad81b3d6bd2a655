"""The request budget's reference servers: the hand-written floor and the bare framework.

- floor: one Redis `GET` of the very bytes the generated service answers, returned as they are
  (the least any service can do for this job), through redis-py without a socket timeout (its
  5 s default costs a timer and a task per command) and with hiredis;
- bare: FastAPI returning the item as a dict, no Redis (the framework's own cost).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

FLOOR_APP = """
import os

from fastapi import FastAPI, Response
from redis.asyncio import Redis

# No socket timeout: redis-py 8's default (5 s) wraps every command in a timer and, on Python
# 3.11, a task; the floor is the fastest reasonable client (hiredis parses replies when installed,
# as it is in the generated services' environment).
redis = Redis.from_url(os.environ["REDIS_URL"], socket_timeout=None)
prefix = os.environ["FLOOR_PREFIX"]
app = FastAPI()


@app.get("/items/{item_id}")
async def item(item_id: str) -> Response:
    raw = await redis.get(f"{prefix}:{item_id}")
    if raw is None:
        return Response(status_code=404)
    return Response(raw, media_type="application/json")
"""

BARE_APP = """
from fastapi import FastAPI

app = FastAPI()
ITEM = {"description": "seeded for the benchmark", "created_at": "2026-11-30T12:00:00Z"}


@app.get("/items/{item_id}")
async def item(item_id: str) -> dict[str, str]:
    return {"id": item_id, "name": f"item {item_id}", **ITEM}
"""


def set_floor_keys(python: Path, env: dict[str, str], bodies: dict[str, str]) -> None:
    """The floor serves the very bytes the generated service answers, from its own keys."""
    lines = "\n".join(f"{item_id} {body}" for item_id, body in bodies.items())
    code = (
        "import os, sys, redis; r = redis.Redis.from_url(os.environ['REDIS_URL']); "
        "p = r.pipeline(transaction=False)\n"
        "for line in sys.stdin:\n"
        "    item_id, body = line.rstrip('\\n').split(' ', 1)\n"
        "    p.set(f\"{os.environ['FLOOR_PREFIX']}:{item_id}\", body)\n"
        "p.execute()"
    )
    subprocess.run([str(python), "-c", code], env=env, input=lines, text=True, check=True)


def delete_keys(python: Path, prefix: str) -> None:
    code = (
        "import os, redis; r = redis.Redis.from_url(os.environ['REDIS_URL']); "
        f"keys = list(r.scan_iter(match='{prefix}*', count=1000)); keys and r.unlink(*keys)"
    )
    subprocess.run([str(python), "-c", code], check=False)
