"""A generated project's NGINX edge (deploy/nginx), rendered as the nginx image renders it.

The image's entrypoint substitutes the `${VAR}`s of `templates/*.template` that are set in its
environment (envsubst) into `conf.d/`; here the same substitution runs with loopback addresses,
so `nginx -t` (which resolves upstream host names) passes on a machine without the compose
host names, and the e2e test can run the very config in front of local uvicorn instances.
Everything lands under one prefix directory: the pid file and temporary files too, never /var.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

EDGE_DIR = Path("deploy") / "nginx"
TEMPLATE_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
LOOPBACK = {
    "APP_SERVER_1": "127.0.0.1:8001",
    "APP_SERVER_2": "127.0.0.1:8002",
    "NGINX_PORT": "8080",
}


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    assert found, "nginx is not installed: scripts/services up installs it (Debian: nginx-light)"
    return found


def render_edge(project: Path, prefix: Path, variables: Mapping[str, str] = LOOPBACK) -> Path:
    """Lay out `prefix` as nginx's prefix and config directory; return the main config."""
    edge = project / EDGE_DIR
    conf_d = prefix / "conf.d"
    conf_d.mkdir(parents=True, exist_ok=True)
    main = prefix / "nginx.conf"
    shutil.copyfile(edge / "nginx.conf", main)
    templates = sorted((edge / "templates").glob("*.template"))
    assert templates, f"no {EDGE_DIR}/templates/*.template"
    for template in templates:
        text = template.read_text(encoding="utf-8")
        missing = sorted(set(TEMPLATE_VARIABLE.findall(text)) - set(variables))
        assert not missing, f"{template.name}: no value for {', '.join(missing)}"
        rendered = TEMPLATE_VARIABLE.sub(lambda m: variables[m.group(1)], text)
        (conf_d / template.name.removesuffix(".template")).write_text(rendered, encoding="utf-8")
    return main


def nginx_command(main: Path, *arguments: str) -> list[str]:
    prefix = f"{main.parent}/"
    return [nginx_binary(), "-p", prefix, "-c", str(main), "-e", "stderr", *arguments]


def check_config(main: Path) -> None:
    done = subprocess.run(
        nginx_command(main, "-t", "-q"), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"nginx -t rejects {main}:\n{done.stdout}{done.stderr}"
