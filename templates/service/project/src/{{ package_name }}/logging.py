"""Structured logs: one JSON object per line on stdout, the shape log pipelines index.

Every line has the same fixed keys (timestamp, level, logger, message, service, env, version,
request_id), the fields of the `log_fields` extension point (a trace id, a tenant: whatever
the capabilities present add), and whatever the caller passed in `extra=`. Values under
sensitive keys, and credentials that slip into messages, are redacted before the line is written.
"""

import json
import logging
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TextIO

from .core_config import CoreSettings
from .request_context import current_request_id

LogFields = Callable[[], Mapping[str, object]]
"""Fields for the line being written, read from the context it is written in (a trace id)."""

REDACTED = "[REDACTED]"
_HANDLER_NAME = "json-stdout"
_SENSITIVE_KEY = re.compile(
    r"authorization|cookie|password|passwd|secret|token|api[-_]?key", re.IGNORECASE
)
_SENSITIVE_TEXT = (
    # Authorization header values: "Bearer abc.def", "Basic dXNlcjpwYXNz"
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # key=value and key: value pairs, as in query strings, DSNs and exception messages
    (
        re.compile(
            r"\b(password|passwd|secret|token|api[-_]?key)(\s*[=:]\s*)(?!\[REDACTED\])[^\s,;&\"']+",
            re.IGNORECASE,
        ),
        rf"\1\2{REDACTED}",
    ),
    # user:password@ in URLs
    (re.compile(r"(://[^:/@\s]+):[^@\s]+@"), rf"\1:{REDACTED}@"),
)
# Attributes every LogRecord has; anything else on a record came from `extra=`. Uvicorn adds
# `color_message`, the message again with terminal colour codes.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}


def redact_text(text: str) -> str:
    for pattern, replacement in _SENSITIVE_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(key: str, value: object) -> object:
    """The value to log under `key`: redacted when the key names a secret, recursively."""
    if _SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact("", item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def rfc3339_utc(created: float) -> str:
    moment = datetime.fromtimestamp(created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line with the service's fixed keys."""

    def __init__(
        self, *, service: str, environment: str, version: str, fields: Sequence[LogFields] = ()
    ) -> None:
        super().__init__()
        self._static = {"service": service, "env": environment, "version": version}
        self._fields = tuple(fields)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": rfc3339_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
            **self._static,
            "request_id": current_request_id(),
        }
        for provide in self._fields:
            for key, value in provide().items():
                entry.setdefault(key, value)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = redact(key, value)
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact_text(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(
    settings: CoreSettings, stream: TextIO | None = None, *, fields: Sequence[LogFields] = ()
) -> None:
    """Send every log record (the service's, uvicorn's, libraries') through the JSON formatter,
    with the `fields` that capabilities add to every line.

    Idempotent: calling it again replaces the handler it installed before, and leaves other
    handlers (such as pytest's capture) alone.
    """
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        JsonFormatter(
            service=settings.service_name,
            environment=settings.environment,
            version=settings.service_version,
            fields=fields,
        )
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)

    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # One access line per request comes from the request middleware, with its request id.
    logging.getLogger("uvicorn.access").disabled = True
