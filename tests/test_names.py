from __future__ import annotations

import pytest

from scaffold.errors import InvalidProjectName
from scaffold.names import package_name, validate_project_name


@pytest.mark.parametrize("name", ["demo", "payments", "order-service", "a1", "x_y-z2"])
def test_valid_names(name: str) -> None:
    assert validate_project_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("1abc", "start with a lowercase letter"),
        ("my service", "start with a lowercase letter"),
        ("class", "keyword"),
        ("match", "keyword"),
        ("../x", "not a path"),
        ("a/b", "not a path"),
        ("a" * 200, "longer than"),
        ("café", "ASCII"),
        ("Demo", "lowercase"),
        ("a--b", "single"),
        ("json", "shadow"),
        ("fastapi", "shadow"),
    ],
)
def test_invalid_names_say_why(name: str, reason: str) -> None:
    with pytest.raises(InvalidProjectName, match=reason):
        validate_project_name(name)


def test_package_name_replaces_hyphens() -> None:
    assert package_name("order-service") == "order_service"
