"""The environment that `scripts/services env` prints, read by tests that need a real service."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import pytest


def required_env(name: str) -> str:
    """The variable's value; a test fails (never skips) when the services were not started."""
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(
            f"{name} is not set: start the services with `scripts/services up` and "
            '`eval "$(scripts/services env)"` (scripts/test does both)',
            pytrace=False,
        )
    return value


def http_call(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> bytes:
    """The body of a request that must succeed (urllib raises HTTPError on 4xx and 5xx)."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read()
    return body


def http_json(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Any:
    """The JSON body of a request that must succeed."""
    return json.loads(http_call(url, method=method, data=data, headers=headers, timeout=timeout))
