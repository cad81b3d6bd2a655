"""The local stack's edge (compose.yaml): the only way in, and the only proxy the app believes."""

import re
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[3] / "compose.yaml"
APP_SERVICES = ("app", "app-2")


def resolved(value: str) -> str:
    """`${NAME:-default}` as compose resolves it when NAME is not set."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_the_app_instances_publish_no_port_beside_the_edge() -> None:
    services = compose()["services"]

    assert [name for name in APP_SERVICES if "ports" in services[name]] == []
    assert [resolved(p) for p in services["edge"]["ports"]] == ["127.0.0.1:8080:8080"]


def test_the_app_believes_x_forwarded_for_from_the_edge_alone() -> None:
    document = compose()
    trusted = resolved(document["services"]["app"]["environment"]["RATE_LIMIT_TRUSTED_PROXIES"])
    edge = resolved(document["services"]["edge"]["networks"]["default"]["ipv4_address"])
    subnet = resolved(document["networks"]["default"]["ipam"]["config"][0]["subnet"])

    assert trusted == edge  # one address, not a private range
    assert ip_network(trusted).num_addresses == 1
    assert ip_address(edge) in ip_network(subnet)
