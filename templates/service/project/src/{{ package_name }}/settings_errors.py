"""What a process says when its settings are invalid: one line per setting, and never a value.

Pydantic's own report is a traceback that echoes each rejected value (`input_value=...`), and
settings are where the secrets are: database and Redis URLs with their passwords, tokens, keys.
On ECS that report would land in CloudWatch. So the app, the migrations and the workers stop
with `report()`'s lines instead: the variable's name and what is wrong with it. The rejected
value is never printed, and a secret setting's value is scrubbed even from a message that a
validator wrote itself.

A setting is secret when its field says so: `Field(repr=False)` or a `SecretStr`. Every
capability's section follows that rule, so this module never needs to know them.
"""

import json
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

EXIT_INVALID_SETTINGS = 2
REDACTED = "[REDACTED]"
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@\s]+@")
_SECRET_TYPES = (SecretStr, SecretBytes)
# Errors of a structured setting given as text that is not JSON (see keep_raw_when_not_json).
_STRUCTURED = frozenset({"dict_type", "list_type", "model_type", "model_attributes_type"})


def is_secret(field: FieldInfo) -> bool:
    """Whether a setting holds a secret: its value is never shown in a report."""
    if field.repr is False:
        return True
    annotation = field.annotation
    members = getattr(annotation, "__args__", None) or (annotation,)
    return any(isinstance(m, type) and issubclass(m, _SECRET_TYPES) for m in members)


def secret_settings(settings_cls: type[BaseModel]) -> list[str]:
    """The names of the secret settings, as environment variables."""
    return sorted(
        name.upper() for name, field in settings_cls.model_fields.items() if is_secret(field)
    )


def report(error: ValidationError, settings_cls: type[BaseModel]) -> list[str]:
    """One line per invalid setting: `NAME: what is wrong`, sorted by name."""
    lines = []
    for problem in error.errors(include_url=False, include_input=True, include_context=False):
        location = [str(part) for part in problem["loc"]]
        field = settings_cls.model_fields.get(location[0]) if location else None
        message = _message(problem["type"], problem["msg"], problem.get("input"))
        if field is not None and is_secret(field):
            message = _scrub(message, problem.get("input"))
        message = _URL_PASSWORD.sub(rf"\1:{REDACTED}@", message)
        if not location:
            lines.append(f"settings: {message}")
            continue
        name = location[0].upper()
        where = f" ({'.'.join(location[1:])})" if len(location) > 1 else ""
        lines.append(f"{name}{where}: {message}")
    return sorted(set(lines))


def exit_reporting(error: ValidationError, settings_cls: type[BaseModel]) -> NoReturn:
    """Write the report to stderr and end the process with status 2, without a traceback."""
    lines = report(error, settings_cls)
    for line in lines:
        sys.stderr.write(f"invalid setting {line}\n")
    sys.stderr.write(
        f"the service did not start: {len(lines)} invalid setting(s) "
        "(environment variables, or the .env file)\n"
    )
    sys.stderr.flush()
    raise SystemExit(EXIT_INVALID_SETTINGS)


def keep_raw_when_not_json(source: PydanticBaseSettingsSource) -> None:
    """Let a structured setting (a dict, a list) that is not valid JSON reach validation as its
    raw text, where it is refused together with every other invalid setting; the settings
    source alone would stop at the first one, with an error of its own."""
    decode: Callable[[str, FieldInfo, Any], Any] = source.decode_complex_value

    def decode_or_keep(field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return decode(field_name, field, value)
        except json.JSONDecodeError:
            return value

    source.decode_complex_value = decode_or_keep  # type: ignore[method-assign]


def _message(kind: str, message: str, value: object) -> str:
    if kind == "missing":
        return "required, but not set"
    if kind == "json_invalid" or (isinstance(value, str) and kind in _STRUCTURED):
        return f"not valid JSON ({message[0].lower()}{message[1:]})"
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _scrub(message: str, value: object) -> str:
    for secret in _texts(value):
        if secret:
            message = message.replace(secret, REDACTED)
    return message


def _texts(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode(errors="replace")
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)
