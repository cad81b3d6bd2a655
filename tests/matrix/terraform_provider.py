"""One AWS provider process per test process, which every Terraform command of that process
that needs it attaches to (Terraform's `TF_REATTACH_PROVIDERS`), instead of Terraform starting
the provider itself several times per command (a plan starts three: one to read the schema, one
to validate, one to plan) and each of them building its schema of thousands of resources.

Only what Terraform would have started is shared: the provider binary is the one `terraform
init` installed into the folder (`.terraform/providers/...`, a link into the machine's mirror),
and a folder is attached only when that is all it installed and its only provider
configuration is the default one (two configurations of one provider would share, and
overwrite, one configured provider). `init` itself never attaches, so it still checks the
requirements and the lock file against the mirror; every other command (plan, validate, show)
does. The provider is configured anew by every command (Terraform sends the configuration of
the folder each time), so consecutive plans of different configurations are each planned
with their own.

The provider runs in debug mode (`-debug`) under a watchdog (``child/provider_watchdog.py``),
started when first needed, started again when it died, and stopped when the test process ends,
however it ends. Commands that attach are serialised per process: one configured provider
serves one command at a time. A command that fails while the provider died under it is run
again without attaching, so its verdict is the one Terraform gives on its own.

With ``CACHE_VARIABLE`` naming the program built from ``provider_cache/`` (``scripts/services
env`` sets it), the provider runs behind that program: a gRPC proxy that keeps the provider's
answer to a pure method (its schema, the validation of its configuration) per request bytes and
gives it again for the same bytes, forwarding every other call. The AWS provider's validation of
its configuration runs its internal validation of every resource schema (about 2.5 CPU-s), twice
per plan, with the same configuration in every combination. ``cache_counts`` gives how often
each was answered and reused (the report counts them).

The cache also cuts its schema answer down to the resource, data source and ephemeral types the
folder of the command declares (``declared_types``; ``provider_cache/schema_filter.go``):
Terraform decodes the whole schema in every command, about 1.3 CPU-s for the AWS provider's
thousands of types, and a configuration only consults the schemas of the types it declares. A
type the filter left out makes Terraform stop ("does not support resource type"), it cannot
make a check pass. A folder that calls modules or has JSON configuration gets the whole schema.

The cache also keeps the validation and plan of a resource of the types of ``PURE_TYPES``
(``provider_cache/pure_types.go``), keyed on the request's bytes and those of the provider's
last configuration request: the AWS provider's plan of the WAF deep-copies its huge schema by
reflection (about 1.8 of the provider's 2.9 CPU-s per plan of the fullest tree), and the WAF's
configuration is the same in almost every combination. Terraform still decodes, checks and
shows the planned values it receives; a changed configuration of the resource, or of the
provider, is a new request.

``SHARED_PROVIDER_VARIABLE=0`` turns sharing off (Terraform starts its providers itself).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hcl2

REATTACH_VARIABLE = "TF_REATTACH_PROVIDERS"
SHARED_PROVIDER_VARIABLE = "SCAFFOLD_TERRAFORM_SHARED_PROVIDER"
CACHE_VARIABLE = "SCAFFOLD_TERRAFORM_PROVIDER_CACHE"
TYPES_VARIABLE = "PROVIDER_CACHE_SCHEMA_TYPES"
"""Names the file of the types the cache keeps in its schema answer (provider_cache reads it)."""
PURE_TYPES_VARIABLE = "PROVIDER_CACHE_PURE_TYPES"
PURE_TYPES = ("aws_wafv2_web_acl",)
"""Resource types whose validation and plan the provider computes from the request and its
configuration alone: no API call (its CustomizeDiff only merges the provider's default tags;
a plan with TF_LOG_PROVIDER=debug shows no request but the configuration's own IAM GetUser).
A type belongs here only when that holds for every configuration of it."""
DECLARED = re.compile(r'^\s*(?:resource|data|ephemeral)\s+"?([A-Za-z0-9_-]+)', re.MULTILINE)
"""A block declaring a type (labels may be quoted or not); a match in a string only adds a type."""
CALLS_A_MODULE = re.compile(r"^\s*module\s", re.MULTILINE)
COUNTS_MARKER = b"provider-cache counts: "
SHARED = "registry.terraform.io/hashicorp/aws"
PROVIDERS_DIR = Path(".terraform") / "providers"
WATCHDOG = Path(__file__).with_name("child") / "provider_watchdog.py"
REATTACH_LINE = f"{REATTACH_VARIABLE}='"
LEFT_OUT = ("AWS_CA_BUNDLE",)
"""Not passed to the shared provider: the provider applies a CA bundle on its first
configuration only (the second fails with "unable to add custom RootCAs HTTPClient"); the
emulator the plans talk to is plain HTTP on loopback, so no bundle is ever used."""
NOT_KEYED = ("PYTEST_",)
"""Variables that change from test to test and that no provider reads: a change of any other
variable of the provider's environment starts a new provider."""


@dataclass(frozen=True)
class Installed:
    address: str
    """e.g. registry.terraform.io/hashicorp/aws"""
    binary: Path


def installed_providers(folder: Path) -> list[Installed]:
    """What `terraform init` installed into ``folder``: .terraform/providers/HOST/NAMESPACE/
    TYPE/VERSION/OS_ARCH/terraform-provider-TYPE*, the executable resolved through the link."""
    found = []
    for binary in sorted((folder / PROVIDERS_DIR).glob("*/*/*/*/*/terraform-provider-*")):
        host, namespace, kind = binary.relative_to(folder / PROVIDERS_DIR).parts[:3]
        if os.access(binary, os.X_OK):
            found.append(Installed(f"{host}/{namespace}/{kind}", binary.resolve()))
    return found


def only_the_default_configuration(folder: Path) -> bool:
    """No `provider` block of the folder has an alias (read only in files declaring one)."""
    for path in sorted(folder.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        if "provider" not in text or "alias" not in text:
            continue
        for block in hcl2.loads(text).get("provider", []):
            if any("alias" in settings for settings in block.values()):
                return False
    return True


def shared_binary(folder: Path) -> Path | None:
    """The provider binary to share for commands in ``folder``, or None to let Terraform start
    its own providers."""
    if os.environ.get(SHARED_PROVIDER_VARIABLE, "1") == "0":
        return None
    installed = installed_providers(folder)
    if [provider.address for provider in installed] != [SHARED]:
        return None
    return installed[0].binary if only_the_default_configuration(folder) else None


def declared_types(folder: Path) -> list[str] | None:
    """The resource, data source and ephemeral types the folder's configuration declares; None
    when that cannot be read from its `.tf` files alone (JSON configuration, module calls)."""
    if any(folder.glob("*.tf.json")):
        return None
    found: set[str] = set()
    for path in sorted(folder.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        if CALLS_A_MODULE.search(text):
            return None
        found.update(DECLARED.findall(text))
    return sorted(found)


def provider_environment(environment: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environment.items() if name not in LEFT_OUT}


def environment_key(environment: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(
        (name, value) for name, value in environment.items() if not name.startswith(NOT_KEYED)
    ))  # fmt: skip


class SharedProvider:
    """A provider in debug mode under its watchdog, and the reattach configuration it printed."""

    def __init__(self, binary: Path, environment: Mapping[str, str]) -> None:
        self.binary = binary
        self.key = environment_key(environment)
        # The provider's stderr: a file removed at once, read through this process's descriptor,
        # so that nothing is left behind however this process ends.
        descriptor, log = tempfile.mkstemp(prefix="terraform-provider-", suffix=".log")
        os.unlink(log)
        self.log = os.fdopen(os.dup(descriptor), "rb")
        self._counted_to = 0
        self._counts: dict[str, dict[str, float]] = {}
        cache = environment.get(CACHE_VARIABLE)
        self.types = Path(tempfile.mkdtemp(prefix="terraform-provider-")) / "types"
        try:
            self.watchdog = subprocess.Popen(
                [sys.executable, str(WATCHDOG), *([cache] if cache else []), str(binary), "-debug"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=descriptor,
                env={
                    **provider_environment(environment),
                    TYPES_VARIABLE: str(self.types),
                    PURE_TYPES_VARIABLE: ",".join(PURE_TYPES),
                },
                text=True,
            )
        finally:
            os.close(descriptor)
        self.reattach = self._read_reattach()

    def _read_reattach(self) -> str:
        assert self.watchdog.stdout is not None
        for line in self.watchdog.stdout:
            start = line.find(REATTACH_LINE)
            if start >= 0:
                configuration = line[start + len(REATTACH_LINE) :].strip().rstrip("'")
                assert SHARED in json.loads(configuration), configuration
                return configuration
        output = self.output()
        self.stop()
        raise AssertionError(f"{self.binary} -debug printed no reattach line:\n{output}")

    def provider_pid(self) -> int:
        """The provider's process id, as its reattach configuration gives it."""
        return int(json.loads(self.reattach)[SHARED]["Pid"])

    def cpu_seconds(self) -> float:
        """CPU seconds of the provider and, when it runs behind the cache, of the cache (its
        parent), both still running; 0 for one that has ended."""
        pids = [self.provider_pid()]
        parent = _stat(pids[0])
        if parent is not None and int(parent[1]) != self.watchdog.pid:
            pids.append(int(parent[1]))
        total = 0.0
        for pid in pids:
            fields = _stat(pid)
            if fields is not None:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def cache_counts(self) -> dict[str, dict[str, float]]:
        """Per cached method, the calls the provider answered ("ran"), those answered again from
        the cache ("reused") and the provider's seconds for the former, so far ({} without the
        cache): the last counts line the cache wrote to the log."""
        if self.log.closed:
            return self._counts
        size = os.fstat(self.log.fileno()).st_size
        if size > self._counted_to:
            written = os.pread(self.log.fileno(), size - self._counted_to, self._counted_to)
            end = written.rfind(b"\n") + 1
            self._counted_to += end
            for line in reversed(written[:end].splitlines()):
                if line.startswith(COUNTS_MARKER):
                    self._counts = json.loads(line[len(COUNTS_MARKER) :])
                    break
        return self._counts

    def schema_for(self, folder: Path) -> None:
        """Make the cache's next schema answers hold the types ``folder`` declares (all of
        them when those cannot be known)."""
        types = declared_types(folder)
        if types is None:
            self.types.unlink(missing_ok=True)
        else:
            self.types.write_text("".join(f"{name}\n" for name in types), encoding="utf-8")

    def alive(self) -> bool:
        """Its watchdog runs and the provider has not ended (a provider killed a moment ago is
        a zombie until its parent, the watchdog or the cache, reaps it and exits)."""
        if self.watchdog.poll() is not None:
            return False
        fields = _stat(self.provider_pid())
        return fields is not None and fields[0] not in ("Z", "X")

    def serves(self, binary: Path, environment: Mapping[str, str]) -> bool:
        return self.alive() and self.binary == binary and self.key == environment_key(environment)

    def output(self) -> str:
        """What the provider wrote to stderr (a crash's panic, its start-up lines)."""
        if self.log.closed:
            return ""
        size = os.fstat(self.log.fileno()).st_size
        return os.pread(self.log.fileno(), 4000, max(0, size - 4000)).decode(errors="replace")

    def stop(self) -> None:
        if self.watchdog.stdin is not None and not self.watchdog.stdin.closed:
            self.watchdog.stdin.close()
        try:
            self.watchdog.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.watchdog.kill()
            self.watchdog.wait()
        if self.watchdog.stdout is not None:
            self.watchdog.stdout.close()
        self.log.close()
        shutil.rmtree(self.types.parent, ignore_errors=True)


_lock = threading.Lock()
_current: list[SharedProvider] = []


def _stop_current() -> None:
    while _current:
        _current.pop().stop()


atexit.register(_stop_current)


def _provider(binary: Path, environment: Mapping[str, str]) -> SharedProvider:
    """The running provider when it serves this binary and environment; else a new one (the
    old one stopped)."""
    if _current and _current[0].serves(binary, environment):
        return _current[0]
    _stop_current()
    _current.append(SharedProvider(binary, environment))
    return _current[0]


def running() -> SharedProvider | None:
    """The shared provider of this process, if one was started (for tests and benchmarks)."""
    return _current[0] if _current else None


def unreaped_cpu_seconds() -> float:
    """CPU seconds of this process's running shared provider (all its threads), which
    `getrusage(RUSAGE_CHILDREN)` does not count until its watchdog is reaped (then it does, and
    this is 0): add it to the children's usage for the CPU the process's work has cost so far."""
    provider = running()
    if provider is None or provider.watchdog.returncode is not None:
        return 0.0
    return provider.cpu_seconds()


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name (state, parent pid, ...), or None
    when it has just ended (its usage reaches us with its watchdog)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()


def stop() -> None:
    """Stop this process's shared provider now (a later command starts a new one)."""
    with _lock:
        _stop_current()


@contextmanager
def attached(folder: Path, environment: Mapping[str, str]) -> Iterator[SharedProvider | None]:
    """Hold this process's shared provider for one command in ``folder`` (None: the command
    runs as usual); the environment is the command's, given to the provider when it starts."""
    binary = shared_binary(folder)
    if binary is None:
        yield None
        return
    with _lock:
        provider = _provider(binary, environment)
        provider.schema_for(folder)
        yield provider
