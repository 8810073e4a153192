"""The ``shell`` layer on real code: a package-sized workspace built from excerpts of real
packages (``tests/data/realsyntax``), and the vendored sdists when they are on this
machine (``HARNESS_REAL_VENDOR``). Outputs must be what grep and sed would print, line
numbers must agree between them, and nothing may surface a harness traceback."""

from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path

from harness.runtime.tools.shell import ShellTools
from harness.world import Workspace, World
from tests.realsyntax import package

# The project's own vendored sdists (workloads/real/vendor); they are committed, so a missing
# one is a failure, not a skip.
VENDOR = Path(os.environ.get("HARNESS_REAL_VENDOR") or Path(__file__).resolve().parents[3] / "workloads/real/vendor")


def sized_workspace(files: int = 30) -> dict[str, str]:
    """~30 modules of ~600 lines each (boltons' size: 30 modules, 17k lines), made of the
    excerpts, with a form feed and CRLF lines as real trees have them."""
    texts = [t for name in ("toolz", "boltons", "six", "typeguard") for t in package(name).values()]
    body = "\x0c\n".join(texts)
    out = {}
    for i in range(files):
        text = body * 2
        out[f"pkg/mod{i:02d}.py"] = text.replace("\n", "\r\n") if i % 10 == 9 else text
    return out


def run(world: World, command: str) -> tuple[bool, str]:
    obs = ShellTools().call(world, "shell", {"command": command})
    return obs.ok, obs.text or ""


def test_grep_and_sed_on_a_package_sized_tree_print_what_real_tools_would():
    files = sized_workspace()
    assert sum(t.count("\n") for t in files.values()) > 15_000
    world = World(Workspace(files))
    ok, out = run(world, "grep -rnw OrderedMultiDict pkg")
    assert ok and "Traceback" not in out
    want = sum(len(re.findall(r"(?m)^.*\bOrderedMultiDict\b", t)) for t in files.values())
    assert len(out.splitlines()) == want
    ok, out = run(world, "grep -rlw typechecked pkg")
    assert ok and out.splitlines() == sorted(files)
    ok, out = run(world, "grep -c frequencies pkg/mod00.py")
    # This grep names the file even for one operand (GNU grep would not): a known simplification.
    assert ok and out == f"pkg/mod00.py:{sum('frequencies' in line for line in files['pkg/mod00.py'].split(chr(10)))}\n"
    ok, out = run(world, "sed -i 's/\\bfrequencies\\b/count_values/g' pkg/mod00.py pkg/mod09.py")
    assert ok and out == ""
    for path in ("pkg/mod00.py", "pkg/mod09.py"):
        assert world.workspace.read(path) == re.sub(r"\bfrequencies\b", "count_values", files[path])
    ok, out = run(world, "cat pkg/mod01.py")
    assert ok and out == files["pkg/mod01.py"]


def test_grep_line_numbers_are_the_lines_sed_prints_past_a_form_feed():
    world = World(Workspace(sized_workspace(files=2)))
    ok, out = run(world, "grep -n 'def countby' pkg/mod00.py")
    number = int(out.splitlines()[0].split(":")[1])
    assert "\x0c" in world.workspace.read("pkg/mod00.py").split("def countby")[0]  # a page break before the hit
    ok, printed = run(world, f"sed -n '{number}p' pkg/mod00.py")
    assert ok and printed == "def countby(key, seq):\n"


def test_python_and_pytest_on_real_code_answer_in_text():
    world = World(Workspace(package("toolz")))
    ok, out = run(world, "python -m pytest toolz/tests/test_star.py")
    assert ok and out.endswith("== 2 passed in 0.01s ==\n")
    ok, out = run(world, "python toolz/itertoolz.py")
    assert ok and out == ""


def _vendored(name: str) -> dict[str, str]:
    archive = next(VENDOR.glob(f"{name}-*.tar.gz"), None) if VENDOR.is_dir() else None
    assert archive is not None, f"no vendored {name} sdist under {VENDOR}"
    files = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".py"):
                stream = tar.extractfile(member)
                assert stream is not None
                files[member.name.split("/", 1)[1]] = stream.read().decode("utf-8")
    return files


def test_the_real_boltons_tree_through_the_shell():
    files = _vendored("boltons")
    world = World(Workspace(files))
    for command in ("ls boltons", "grep -rn remap boltons tests", "grep -rnE 'def remap\\(' boltons",
                    "grep -rlw OrderedMultiDict .", "sed -n '1098,1100p' boltons/iterutils.py",
                    "cat boltons/iterutils.py", "python -m pytest tests/test_dictutils.py"):
        ok, out = run(world, command)
        assert ok, (command, out[-500:])
        assert "File \"/" not in out, (command, out[-500:])  # no harness frame leaks into the answer
    ok, out = run(world, "grep -rnE 'def remap\\(' boltons")
    line = int(out.split(":")[1])
    assert files["boltons/iterutils.py"].split("\n")[line - 1] == "def remap("
