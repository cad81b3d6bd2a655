"""The service's `Settings` inherits every capability's settings section (multiple inheritance),
so a validator or helper method of the same name in two sections is silently replaced by one
of them: auth's list splitting was lost behind rate limiting's `_split_lists` that way."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

TEMPLATE_SOURCE = Path(__file__).resolve().parents[1] / "templates/service/project/src"
METHOD = re.compile(r"^    def (\w+)\(", re.MULTILINE)
SETTINGS_CLASS = re.compile(r"^class Settings\(.*?(?=^\S)", re.MULTILINE | re.DOTALL)


def sections() -> dict[Path, str]:
    """Each capability's settings section: the `class Settings` of its `config.py`."""
    found = {}
    for path in TEMPLATE_SOURCE.glob("*/*/config.py*"):
        match = SETTINGS_CLASS.search(path.read_text(encoding="utf-8") + "\nEND\n")
        if match:
            found[path.relative_to(TEMPLATE_SOURCE)] = match.group(0)
    return found


def test_the_sections_are_found() -> None:
    names = {path.parent.name for path in sections()}
    assert {"{% if rate_limiting %}ratelimit{% endif %}", "{% if auth %}auth{% endif %}"} <= names


def test_no_two_sections_define_a_method_of_the_same_name() -> None:
    defined: dict[str, list[str]] = defaultdict(list)
    for path, body in sections().items():
        for name in METHOD.findall(body):
            defined[name].append(str(path.parent))
    assert {name: paths for name, paths in defined.items() if len(paths) > 1} == {}
