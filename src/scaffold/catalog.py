"""The capability catalog: the single source of truth.

Prompts, command-line flags, Copier questions and answers, ``scaffold list``, the README table
and the test matrix are all derived from the data below. A capability's name is spelled here and
nowhere else by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    """A choice inside a capability, e.g. the message broker. ``flag`` is its CLI option."""

    name: str
    help: str
    choices: tuple[str, ...]
    default: str
    services: tuple[tuple[str, str], ...] = ()
    """(choice, backing service) pairs: the service a choice needs, e.g. ("kafka", "kafka")."""

    @property
    def flag(self) -> str:
        return f"--{self.name.replace('_', '-')}"


@dataclass(frozen=True)
class BackingService:
    """A server some capabilities need (Redis, a broker): wired once however many use it."""

    name: str
    package: str | None = None
    """The generated service's Python package holding its client, if it has one of its own."""


@dataclass(frozen=True)
class Capability:
    name: str
    title: str
    help: str
    package: str | None = None
    """The generated service's Python package that holds the capability's code (its protocol
    object, settings section, routers...; or, for one without a runtime part, its tool), and
    the name of its test folders; None for one without Python code."""
    runtime: bool = True
    """False for a capability with no part in the running service (CI/CD: a release tool run
    beside it): the service's list of capabilities, its settings and its migrations' folders
    leave its package out, so a combination with it renders those shared files byte for byte
    as the same combination without it (the matrix reuses the twin's runtime results)."""
    requires: frozenset[str] = frozenset()
    conflicts: frozenset[str] = frozenset()
    variants: tuple[Variant, ...] = ()
    services: frozenset[str] = frozenset()
    """Backing services it needs (e.g. redis): compose, CI and Terraform are wired per service."""
    available: bool = False
    """False while the template does not implement it yet: `new` refuses it."""

    @property
    def wired_package(self) -> str | None:
        """The package the service wires in (its capabilities list, settings, migrations):
        ``package`` for a capability with a runtime part, else None."""
        return self.package if self.runtime else None

    def answer_key(self, variant: Variant) -> str:
        """The Copier answer that holds a variant's choice, e.g. ``messaging_broker``."""
        return f"{self.name}_{variant.name}"


@dataclass(frozen=True)
class Preset:
    name: str
    help: str
    capabilities: frozenset[str] = field(default_factory=frozenset)
    every_available: bool = False
    """True for a preset meaning "everything this version implements"."""


@dataclass(frozen=True)
class Catalog:
    capabilities: tuple[Capability, ...]
    presets: tuple[Preset, ...]
    backing_services: tuple[BackingService, ...] = ()

    def __iter__(self) -> Iterator[Capability]:
        return iter(self.capabilities)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.capabilities)

    @property
    def available(self) -> tuple[Capability, ...]:
        return tuple(c for c in self.capabilities if c.available)

    def get(self, name: str) -> Capability | None:
        return next((c for c in self.capabilities if c.name == name), None)

    def preset(self, name: str) -> Preset | None:
        return next((p for p in self.presets if p.name == name), None)

    def preset_capabilities(self, preset: Preset) -> frozenset[str]:
        if preset.every_available:
            return frozenset(c.name for c in self.available)
        return preset.capabilities

    def services(self) -> dict[str, tuple[Capability, ...]]:
        """Each backing service, with the capabilities that need it (always or by a variant)."""
        found: dict[str, list[Capability]] = {}
        for capability in self.capabilities:
            needed = set(capability.services)
            needed.update(s for v in capability.variants for _, s in v.services)
            for service in sorted(needed):
                found.setdefault(service, []).append(capability)
        return {service: tuple(users) for service, users in sorted(found.items())}

    def service(self, name: str) -> BackingService:
        return next((s for s in self.backing_services if s.name == name), BackingService(name=name))

    def variants(self) -> Iterator[tuple[Capability, Variant]]:
        for capability in self.capabilities:
            for variant in capability.variants:
                yield capability, variant


CATALOG = Catalog(
    capabilities=(
        Capability(
            name="sharding",
            package="sharding",
            title="Sharding and read replicas",
            help="Route rows by a stable shard key across PostgreSQL shards; reads to replicas "
            "with read-your-writes and primary fallback.",
            available=True,
        ),
        Capability(
            name="caching",
            package="cache",
            title="Redis caching",
            help="Cache-aside with TTL jitter, stampede protection, invalidation on write, "
            "and a trending feed on sorted sets.",
            services=frozenset({"redis"}),
            available=True,
        ),
        Capability(
            name="messaging",
            package="events",
            title="Messaging",
            help="Transactional outbox, idempotent consumers, retries with a dead-letter topic, "
            "and a notification worker.",
            variants=(
                Variant(
                    name="broker",
                    help="Message broker",
                    choices=("kafka", "rabbitmq"),
                    default="kafka",
                    services=(("kafka", "kafka"), ("rabbitmq", "rabbitmq")),
                ),
            ),
            available=True,
        ),
        Capability(
            name="rate_limiting",
            package="ratelimit",
            title="Rate limiting",
            help="Atomic Redis GCRA limiter, 429 with Retry-After and RateLimit headers, "
            "and an NGINX edge.",
            services=frozenset({"redis"}),
            available=True,
        ),
        Capability(
            name="observability",
            package="observability",
            title="Observability",
            help="Prometheus RED metrics, OpenTelemetry traces, trace ids in logs, dashboards "
            "and alert rules.",
            available=True,
        ),
        Capability(
            name="cicd",
            package="release",
            runtime=False,  # the release tool runs beside the service, from its workflow
            title="CI/CD",
            help="Build and push the image, Terraform plan/apply over OIDC, rolling deploys "
            "to ECS with rollback.",
            available=True,
        ),
        Capability(
            name="auth",
            package="auth",
            title="OAuth2",
            help="JWT resource server, authorization code + PKCE login, key and refresh-token "
            "rotation, RBAC.",
            services=frozenset({"redis"}),
            available=True,
        ),
        Capability(
            name="multitenancy",
            available=True,
            package="tenancy",
            title="Multi-tenancy",
            help="Tenant isolation by PostgreSQL row-level security, metering, Stripe billing, "
            "per-plan features.",
            requires=frozenset({"auth"}),
        ),
    ),
    backing_services=(BackingService(name="redis", package="redis_client"),),
    presets=(
        Preset(name="minimal", help="The base service only."),
        Preset(name="full", help="Every capability this version offers.", every_available=True),
    ),
)
