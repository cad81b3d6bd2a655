"""The test identity provider is configured alike everywhere the tests meet it.

scripts/services (this repository's tests), and the generated service's compose.yaml and CI
(its own tests) all run mock-oauth2-server with the token callback that gives client-credentials
tokens their `scope`, `client_id` and `aud`; the auth tests rely on it. Compose differs only by
the login page a person uses (`interactiveLogin`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PART = ROOT / "templates" / "service" / "parts" / "auth"


def services_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads((ROOT / "scripts/services.d/oidc/config.json").read_text())
    return config


def config_in(text: str) -> dict[str, Any]:
    found = re.search(r"JSON_CONFIG:\s*(?:>-\s*)?'?(\{.*\})'?", text)
    assert found, "no JSON_CONFIG"
    config: dict[str, Any] = json.loads(found.group(1).replace("$${", "${"))
    return config


def test_ci_runs_the_identity_provider_as_scripts_services_does() -> None:
    assert config_in((PART / "ci.services.yml").read_text()) == services_config()


def test_compose_differs_only_by_its_login_page() -> None:
    compose = config_in((PART / "compose.services.yaml").read_text())
    assert compose.pop("interactiveLogin") is True
    expected = services_config()
    assert expected.pop("interactiveLogin") is False
    assert compose == expected
