"""What a traced run is keyed by: an import depends on the names it looked up in a package
folder, not on the folder's other names; a listing by anything but the import system depends on
every name; what the processes it starts read is its input too, and a process it starts that
leaves no record of its reads makes it unkeyable (child/read_trace.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.matrix.child_records import child_records, strace_reads
from tests.matrix.reuse import Manifest
from tests.matrix.runner import CHILD
from tests.matrix.runtime_parts import manifest_of
from tests.matrix.shared_env import shared_python

TRACED = """\
import sys
from pathlib import Path

sys.path.insert(0, {child!r})
import read_trace

trace = read_trace.ReadTrace({root!r}, {children!r}, read_trace.working_strace())
trace.propagate()
trace.install()
sys.path.insert(0, {root!r})
try:
    exec({code!r})
finally:
    trace.write(Path({out!r}))
"""


def traced_run(
    root: Path, code: str, tmp_path: Path, python: str = sys.executable
) -> Manifest | None:
    """The manifest of ``code`` run in a fresh ``python``, traced below ``root`` with the
    processes it starts; None when it cannot be keyed by its reads."""
    out = tmp_path / "trace.json"
    children = str(tmp_path / "children")
    shutil.rmtree(children, ignore_errors=True)  # an earlier run's records
    script = TRACED.format(
        child=str(CHILD), root=str(root), children=children, code=code, out=str(out)
    )
    subprocess.run([python, "-B", "-c", script], cwd=root, check=True)
    return manifest_of([out])


def traced(root: Path, code: str, tmp_path: Path, python: str = sys.executable) -> Manifest:
    manifest = traced_run(root, code, tmp_path, python)
    if manifest is None:  # say why: the top record, then each child's (a strace's errors)
        children = child_records(tmp_path / "children")
        found = [
            {k: sorted(v) if isinstance(v, set) else v for k, v in child.items()}
            for child in children or []
        ]
        pytest.fail(
            f"{(tmp_path / 'trace.json').read_text()}\nchildren: {children is not None} {found}"
        )
    return manifest


def package(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text("A = 1\n")
    (root / "pkg" / "b.py").write_text("B = 2\n")
    return root


def test_an_import_does_not_depend_on_a_sibling_module(tmp_path: Path) -> None:
    root = package(tmp_path)
    manifest = traced(root, "import pkg.a\nassert pkg.a.A == 1\n", tmp_path)
    before = manifest.key(root)
    (root / "pkg" / "b.py").unlink()
    (root / "pkg" / "c.py").write_text("C = 3\n")
    assert manifest.key(root) == before
    (root / "pkg" / "a.py").write_text("A = 2\n")  # what it imported: in the key
    assert manifest.key(root) != before


def test_an_import_depends_on_the_absent_names_it_looked_up(tmp_path: Path) -> None:
    root = package(tmp_path)
    code = "try:\n    import pkg.missing\nexcept ImportError:\n    pass\n"
    manifest = traced(root, code, tmp_path)
    before = manifest.key(root)
    (root / "pkg" / "unrelated.py").write_text("")
    assert manifest.key(root) == before
    (root / "pkg" / "missing.py").write_text("")
    assert manifest.key(root) != before
    (root / "pkg" / "missing.py").unlink()
    (root / "pkg" / "missing").mkdir()  # a namespace package would be found now
    assert manifest.key(root) != before


def test_a_listing_by_the_code_itself_depends_on_every_name(tmp_path: Path) -> None:
    root = package(tmp_path)
    manifest = traced(root, "import os\nos.listdir('pkg')\n", tmp_path)
    before = manifest.key(root)
    (root / "pkg" / "c.py").write_text("")
    assert manifest.key(root) != before


def test_a_scan_by_the_code_itself_after_an_import_depends_on_every_name(tmp_path: Path) -> None:
    """The import system's cache of a folder is not the code's own listing of it."""
    root = package(tmp_path)
    code = "import pkg.a, pkgutil\nlist(pkgutil.iter_modules(pkg.__path__))\n"
    manifest = traced(root, code, tmp_path)
    before = manifest.key(root)
    (root / "pkg" / "c.py").write_text("")
    assert manifest.key(root) != before


@pytest.fixture(scope="module")
def python() -> str:
    """The generated projects' interpreter: its environment traces the Python programs a traced
    run starts (shared_env.traces_children)."""
    return str(shared_python())


CHILD_READS = """\
import subprocess, sys
subprocess.run([sys.executable, "-c", "open('pkg/data.txt').read()"], check=True)
"""


def assert_keyed_by_data(root: Path, manifest: Manifest) -> str:
    """``pkg/data.txt`` (written "one") is an input: rewritten, the key changes. The key
    before."""
    before = manifest.key(root)
    (root / "pkg" / "data.txt").write_text("two\n")
    assert manifest.key(root) != before
    return before


@pytest.mark.slow
def test_what_a_python_child_reads_is_in_the_manifest(tmp_path: Path, python: str) -> None:
    root = package(tmp_path)
    (root / "pkg" / "data.txt").write_text("one\n")
    manifest = traced(root, CHILD_READS, tmp_path, python)
    assert "pkg/data.txt" in manifest.read
    assert_keyed_by_data(root, manifest)


@pytest.mark.slow
def test_what_a_grandchild_and_a_forked_child_read_is_in_the_manifest(
    tmp_path: Path, python: str
) -> None:
    root = package(tmp_path)
    code = (
        "import os, subprocess, sys\n"
        'inner = \'import subprocess, sys; subprocess.run([sys.executable, "-c", '
        '"import pkg.a"], check=True)\'\n'
        "subprocess.run([sys.executable, '-c', inner], check=True, env={**os.environ, "
        "'PYTHONPATH': '.'})\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    open('pkg/b.py').read()\n"
        "    os._exit(0)\n"
        "assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0\n"
    )
    manifest = traced(root, code, tmp_path, python)
    assert {"pkg/a.py", "pkg/b.py"} <= set(manifest.read)


@pytest.mark.slow
def test_a_child_killed_by_sigkill_has_recorded_what_it_read(tmp_path: Path, python: str) -> None:
    """Its record is appended to before each read: a kill loses nothing it read."""
    root = package(tmp_path)
    code = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', \"open('pkg/a.py').read(); "
        "print('read', flush=True); import time; time.sleep(60)\"], stdout=subprocess.PIPE)\n"
        "assert child.stdout.readline() == b'read\\n'\n"
        "child.kill()\n"
        "assert child.wait() == -9\n"
    )
    manifest = traced(root, code, tmp_path, python)
    assert "pkg/a.py" in manifest.read


@pytest.mark.slow
@pytest.mark.parametrize(
    "start",
    [
        "subprocess.run([sys.executable, '-c', 'pass'], check=True, env={})",  # trace stripped
        "subprocess.run([sys.executable, '-S', '-c', 'pass'], check=True)",  # no start-up
        "assert os.system('true') == 0",  # the shell
        "pid = os.fork()\nif pid == 0:\n    os.execv('/bin/true', ['true'])\nos.waitpid(pid, 0)",
    ],
    ids=["environment-stripped", "no-site", "os-system", "exec"],
)
def test_a_process_that_leaves_no_record_makes_the_run_unkeyable(
    tmp_path: Path, python: str, start: str
) -> None:
    root = package(tmp_path)
    assert traced_run(root, f"import os, subprocess, sys\n{start}\n", tmp_path, python) is None


@pytest.mark.slow
@pytest.mark.parametrize(
    "code",
    [
        "import subprocess, sys\nsubprocess.run([sys.executable, '-c', \"open('x', 'w')\"])\n",
        "import subprocess\nsubprocess.run(['sh', '-c', 'echo x > pkg/new'], check=True)\n",
    ],
    ids=["a Python child", "a binary"],
)
def test_a_child_that_writes_into_the_project_makes_the_run_unkeyable(
    tmp_path: Path, python: str, code: str
) -> None:
    root = package(tmp_path)
    assert traced_run(root, code, tmp_path, python) is None
    assert traced_run(root, CHILD_READS.replace("pkg/data.txt", "pkg/a.py"), tmp_path, python)


@pytest.mark.slow
def test_what_a_binary_and_the_programs_it_starts_read_is_in_the_manifest(
    tmp_path: Path, python: str
) -> None:
    """A program that is not Python runs under strace: a file it opens is read, a folder it
    lists is listed, a path it stats is probed, also in the programs it starts in turn."""
    root = package(tmp_path)
    (root / "pkg" / "data.txt").write_text("one\n")
    shell = "cat pkg/data.txt; ls pkg; test -e pkg/flag || true"
    code = f"import subprocess\nsubprocess.run(['sh', '-c', {shell!r}], check=True)\n"
    manifest = traced(root, code, tmp_path, python)
    assert {"pkg/data.txt", "pkg"} <= set(manifest.read)
    assert "pkg/flag" in manifest.probed
    before = assert_keyed_by_data(root, manifest)
    (root / "pkg" / "data.txt").write_text("one\n")
    (root / "pkg" / "flag").write_text("")
    assert manifest.key(root) != before


PYTEST_RUN = """\
import os
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the tool's own plugins may start programs
import pytest
code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "narrow_collect",
                    "--ignore=tests/unit/release", "--ignore-glob=tests/unit/release_*", *{args!r}])
assert code == 0, code
"""


def project_with_tests(tmp_path: Path) -> Path:
    """A project whose tests/unit/ holds the service's test, a capability's folder and a part
    of it, both left out by the run's --ignore and --ignore-glob."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")
    unit = root / "tests" / "unit"
    for folder in (unit, unit / "release", unit / "release_workflows"):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        (folder / f"test_{folder.name}.py").write_text("def test_it() -> None:\n    pass\n")
    (root / "tests" / "__init__.py").write_text("")
    return root


def test_pytests_listing_is_keyed_without_the_names_its_run_ignores(tmp_path: Path) -> None:
    """A folder pytest lists is keyed by the names it could collect: a folder the run ignores
    appearing or disappearing changes nothing; any other name does."""
    root = project_with_tests(tmp_path)
    manifest = traced(root, PYTEST_RUN.format(args=["tests"]), tmp_path)
    assert "tests/unit" not in manifest.read
    assert any(json.loads(view)[0] == "tests/unit" for view in manifest.viewed)
    before = manifest.key(root)
    shutil.rmtree(root / "tests" / "unit" / "release")
    shutil.rmtree(root / "tests" / "unit" / "release_workflows")
    assert manifest.key(root) == before
    (root / "tests" / "unit" / "release_other").mkdir()  # matches the pattern
    assert manifest.key(root) == before
    (root / "tests" / "unit" / "cache").mkdir()  # pytest would collect it
    assert manifest.key(root) != before


@pytest.mark.parametrize(
    ("conftest", "args"),
    [
        ("def pytest_ignore_collect(collection_path, config):\n    return None\n", ["tests"]),
        ("", ["tests", "tests/unit/release/test_release.py"]),
    ],
    ids=["a conftest decides what is ignored", "a path left out is on the command line"],
)
def test_pytests_listing_is_keyed_by_every_name_when_another_rule_may_apply(
    tmp_path: Path, conftest: str, args: list[str]
) -> None:
    """Where something besides pytest's own options may decide what is collected (a conftest's
    hook; a command-line path, which pytest collects even when it is ignored), the listing is
    keyed by every name."""
    root = project_with_tests(tmp_path)
    (root / "tests" / "conftest.py").write_text(conftest)
    manifest = traced(root, PYTEST_RUN.format(args=args), tmp_path)
    assert "tests/unit" in manifest.read
    assert not any(json.loads(view)[0] == "tests/unit" for view in manifest.viewed)
    before = manifest.key(root)
    shutil.rmtree(root / "tests" / "unit" / "release_workflows")
    assert manifest.key(root) != before


def test_a_folder_removed_elsewhere_is_not_read_here(tmp_path: Path) -> None:
    """shutil.rmtree opens and stats each entry relative to its folder's descriptor (the audit
    event names only the entry): a folder removed outside the project, with an entry named as
    one of the project's, is no read of the project's (pytest removes old tmp_path folders at
    a session's start or end, sometimes)."""
    root = package(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    code = (
        "import os, shutil\n"
        # As where shutil was imported before the trace wrapped os.stat (a fork server's child):
        # the descriptor-based removal (else it finds the wrapped functions unsupported).
        "shutil._use_fd_functions = True\n"
        f"os.makedirs({str(elsewhere / 'pkg' / 'inner')!r})\n"
        f"shutil.rmtree({str(elsewhere)!r})\n"
    )
    manifest = traced(root, code, tmp_path)
    assert "pkg" not in manifest.read
    assert not [path for path in manifest.probed if path.startswith("pkg")]


@pytest.mark.parametrize("pid", ["9392", "19392"], ids=["padded", "five-digit"])
def test_strace_output_of_a_process_id_below_10000_is_read_as_ended(
    tmp_path: Path, pid: str
) -> None:
    """strace pads a process id to five characters: `9392  +++ exited` (two spaces) ends too."""
    root = tmp_path / "project"
    output = tmp_path / "strace.txt"
    call = f'{pid:<5} openat(AT_FDCWD<{root}>, "pkg/data.txt", O_RDONLY) = 3</x>\n'
    output.write_text(call + f"{pid:<5} +++ exited with 0 +++\n")
    found = strace_reads(output, str(root), patience=0)
    assert found["errors"] == []
    assert found["opened"] == {"pkg/data.txt"}
