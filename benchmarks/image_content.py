"""What the runtime image of a generated service holds besides its base image, measured without
Docker: the virtualenv installed exactly as the Dockerfile's builder installs it, and the project
files the runtime stage copies next to it. Sizes uncompressed (`du -sb`) and as one gzip -6 tar
stream (about what a registry stores for that layer).

Run (needs PyPI, or uv's cache, for `uv lock` and `uv sync`):
    .venv/bin/python benchmarks/image_content.py [--with caching,auth,...] [--keep DIR]

The base image (`python:3.11-slim-trixie`, the Dockerfile's FROM) cannot be pulled here: its size
is not measured, and the script says so instead of printing a number. The RDS CA bundle the
Dockerfile downloads (a few hundred kB) is left out too. Numbers only; nothing asserts a size.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

from scaffold.commands.new import NewOptions, create_project
from scaffold.selection import Request

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.render_cost import chosen_capabilities  # noqa: E402

# What the Dockerfile's builder sets before `uv sync` (templates/service/project/Dockerfile).
BUILDER_ENVIRONMENT = {"UV_COMPILE_BYTECODE": "1", "UV_LINK_MODE": "copy"}
# Besides the virtualenv, /app holds what .dockerignore lets into the context and the app reads.
PROJECT_FILES = ("pyproject.toml", "uv.lock", "README.md", "alembic.ini", "src", "migrations")
MB = 1_000_000


def files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [Path(root) / name for root, _, names in os.walk(path) for name in names]


def size(paths: list[Path]) -> int:
    return sum(p.lstat().st_size for p in paths)


def compressed(folder: Path, names: tuple[str, ...]) -> int:
    """Bytes of a gzip -6 tar of `names` under `folder`: the layer, compressed."""

    class Counting(io.RawIOBase):
        written = 0

        def writable(self) -> bool:
            return True

        def write(self, data: bytes) -> int:  # type: ignore[override]
            self.written += len(data)
            return len(data)

    sink = Counting()
    with (
        gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as tar,
    ):
        for name in names:
            if (folder / name).exists():
                tar.add(folder / name, arcname=name)
    return sink.written


def largest_packages(site_packages: Path, count: int) -> list[tuple[str, int]]:
    sizes: Counter[str] = Counter()
    for entry in site_packages.iterdir():
        name = entry.name.split("-", 1)[0] if entry.name.endswith(".dist-info") else entry.name
        sizes[name.removesuffix(".py").lower()] += size(files_under(entry))
    return sizes.most_common(count)


def install_like_the_builder(project: Path, venv: Path) -> None:
    environment = {**os.environ, **BUILDER_ENVIRONMENT, "UV_PROJECT_ENVIRONMENT": str(venv)}
    command = ["uv", "sync", "--locked", "--no-dev", "--no-editable", "--python", "3.11"]
    subprocess.run(command, cwd=project, env=environment, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--with", dest="with_", default="", help="capabilities (default: none)")
    parser.add_argument("--keep", type=Path, help="render and install here instead of a temp dir")
    arguments = parser.parse_args()
    capabilities = chosen_capabilities(arguments)
    with tempfile.TemporaryDirectory(prefix="image-content-") as scratch:
        folder = arguments.keep or Path(scratch)
        created = create_project(NewOptions("svc", folder, Request(with_=capabilities), git=False))
        project = created.target
        venv = project / ".venv"
        install_like_the_builder(project, venv)
        venv_files = files_under(venv)
        bytecode = size([p for p in venv_files if p.suffix == ".pyc"])
        app_files = [f for name in PROJECT_FILES for f in files_under(project / name)]
        layer = compressed(project, (".venv", *PROJECT_FILES))
        site_packages = next(venv.glob("lib/python3.*/site-packages"))
        print(f"capabilities: {', '.join(capabilities) or 'none (the base service)'}")
        print(f"/app/.venv uncompressed: {size(venv_files):>12,} bytes ({bytecode:,} of bytecode)")
        print(f"/app project files:      {size(app_files):>12,} bytes")
        print(f"/app as one gzip -6 tar: {layer:>12,} bytes (the layer, compressed)")
        largest = largest_packages(site_packages, 6)
        listed = ", ".join(f"{name} {bytes_ / MB:.1f}" for name, bytes_ in largest)
        print(f"largest packages, MB uncompressed: {listed}")
        print("base image python:3.11-slim-trixie: not measured here (no registry access)")


if __name__ == "__main__":
    main()
