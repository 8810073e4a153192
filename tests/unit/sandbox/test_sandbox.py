"""The sandbox confines what it claims to confine, and says what it does not."""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.sandbox.box import (
    NOBODY,
    PROJECT_DIR,
    Sandbox,
    SandboxLimits,
    hidden_dirs,
    isolation,
    python_argv,
    safe_relpath,
)
from harness.world import Workspace, World, WorldError
from harness.world.test_backends import run_tests


def run_py(box: Sandbox, code: str, timeout_s: float = 10.0, *args: str):
    argv = [*python_argv(isolation().mode, box.parent), "-c", code, *args]
    return box.run(argv, timeout_s=timeout_s)


def processes_with(token: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(pid)
    return found


# -- paths --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["../x", "a/../../x", "a/..", "/etc/passwd", "\\abs", "", "./"])
def test_escaping_paths_are_refused(path):
    with pytest.raises(WorldError):
        safe_relpath(path)
    with pytest.raises(WorldError):
        Sandbox({path: "x"})


def test_a_refused_snapshot_leaves_no_directory_behind(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with pytest.raises(WorldError):
        Sandbox({"ok.py": "", "../evil.py": ""})
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ".", "..", "", "c.py"]), min_size=1, max_size=5))
def test_any_accepted_path_lands_inside_the_root(parts):
    path = "/".join(parts)
    try:
        rel = safe_relpath(path)
    except WorldError:
        absolute = path.startswith("/")
        assert absolute or ".." in parts or not [p for p in parts if p not in ("", ".")]
        return
    with Sandbox({rel: "x"}) as box:
        real = os.path.realpath(box.root / rel)
        assert real.startswith(str(box.root) + os.sep)
        assert box.read_back() == {rel: "x"}


def test_writing_through_a_planted_symlink_is_refused(tmp_path):
    outside = tmp_path / "victim.txt"
    outside.write_text("original")
    with Sandbox({}) as box:
        (box.root / "link.py").symlink_to(outside)
        (box.root / "dirlink").symlink_to(tmp_path)
        with pytest.raises((WorldError, OSError)):
            box.write("link.py", "overwritten")
        with pytest.raises((WorldError, OSError)):
            box.write("dirlink/new.py", "planted")
    assert outside.read_text() == "original"
    assert not (tmp_path / "new.py").exists()


def test_symlinks_made_by_sandboxed_code_are_not_followed_on_read_back(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    code = (
        "import os\n"
        "os.symlink('/etc/hostname', 'host_link')\n"
        "os.symlink('/etc', 'etc_link')\n"
        "os.symlink(os.path.abspath('..'), 'parent_link')\n"
        "open('made.txt', 'w').write('ok')\n"
    )
    with Sandbox({"pkg/a.py": "A = 1\n"}) as box:
        result = run_py(box, code)
        assert result.exit_code == 0, result.stderr
        files = box.read_back()
    assert files == {"made.txt": "ok", "pkg/a.py": "A = 1\n"}


def test_workspace_bytes_round_trip():
    files = {"a.py": "x = 'é'\r\nY = 2\n", "d/e/f.txt": "", "g.py": "no newline"}
    with Sandbox(files) as box:
        assert box.read_back() == files


# -- writes outside the root --------------------------------------------------------------
def test_writes_outside_the_root_do_not_survive():
    token = uuid.uuid4().hex
    targets = [f"../escape_{token}", str(PROJECT_DIR / f"escape_{token}"), f"/tmp/escape_{token}"]
    code = (
        "import sys\n"
        "for t in sys.argv[1:]:\n"
        "    try:\n"
        "        open(t, 'w').write('x'); print('wrote', t)\n"
        "    except OSError as e:\n"
        "        print('refused', t, type(e).__name__)\n"
    )
    with Sandbox({}) as box:
        parent = box.parent
        result = run_py(box, code, 10.0, *targets)
        assert result.exit_code == 0, result.stderr
        if isolation().filesystem_confined:
            assert "wrote" not in result.stdout
            assert not (parent / f"escape_{token}").exists()
    # Whatever the mode, the parent is a throwaway directory, gone with the sandbox.
    assert not parent.exists()
    if not isolation().filesystem_confined:
        pytest.skip(f"writes outside the root are not confined in mode {isolation().mode}")
    assert not (PROJECT_DIR / f"escape_{token}").exists()
    assert not Path(f"/tmp/escape_{token}").exists()


def test_the_project_sources_are_hidden_when_confined():
    if isolation().mode not in ("privileged", "userns"):
        pytest.skip(f"no mount namespace in mode {isolation().mode}")
    code = "import json, os, sys; print(json.dumps([os.path.isdir(p) and os.listdir(p) for p in sys.argv[1:]]))"
    home = os.path.expanduser("~")
    with Sandbox({}) as box:  # the project, and every top-level directory the sandbox does not need
        result = run_py(box, code, 10.0, str(PROJECT_DIR), home, *hidden_dirs(isolation().mode))
    assert result.exit_code == 0, result
    assert all(not listed for listed in json.loads(result.stdout)), result


# -- limits ------------------------------------------------------------------------------
def test_an_infinite_loop_is_stopped_and_its_process_group_is_gone():
    token = uuid.uuid4().hex
    code = f"import os\n# {token}\nif os.fork() == 0:\n    os.setsid()\nwhile True:\n    pass\n"
    with Sandbox({}) as box:
        result = run_py(box, code, 1.0)
    assert result.timed_out
    assert not result.killed_by_limit
    assert result.exit_code is not None and result.exit_code < 0
    assert processes_with(token) == []


def test_a_memory_bomb_is_stopped_by_the_address_space_limit():
    limits = SandboxLimits(memory_bytes=512 << 20)
    with Sandbox({}, limits=limits) as box:
        result = run_py(box, "x = bytearray(2 << 30)\nprint('allocated')", 20.0)
    assert not result.timed_out
    assert "allocated" not in result.stdout
    assert "MemoryError" in result.stderr


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        try:
            count += entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid
        except OSError:
            continue
    return count


def test_a_fork_bomb_is_bounded():
    if not isolation().processes_limited:
        pytest.skip(f"RLIMIT_NPROC does not bind in mode {isolation().mode}")
    token = uuid.uuid4().hex
    code = (
        f"import os, time\n# {token}\nn = 0\n"
        "for _ in range(500):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(60); os._exit(0)\n"
        "    n += 1\n"
        "print(n)\n"
    )
    # RLIMIT_NPROC counts every process of the user, and long-lived sandboxes (test servers,
    # agent processes of other tests) run as nobody too: the headroom is 20 beyond them.
    limits = SandboxLimits(processes=_processes_of(NOBODY) + 20)
    with Sandbox({}, limits=limits) as box:
        result = run_py(box, code, 20.0)
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) < limits.processes  # bounded, not the 500 it asked for
    assert processes_with(token) == []


def test_output_is_capped():
    with Sandbox({}, limits=SandboxLimits(output_bytes=1000)) as box:
        result = run_py(box, "print('x' * 100000)")
    assert result.output_truncated
    assert len(result.stdout) == 1000


def test_the_environment_is_scrubbed(monkeypatch):
    monkeypatch.setenv("HARNESS_TEST_SECRET", "hunter2")
    code = "import os, json; print(json.dumps(dict(os.environ)))"
    with Sandbox({}) as box:
        result = run_py(box, code)
        root = str(box.root)
    env = __import__("json").loads(result.stdout)
    assert "HARNESS_TEST_SECRET" not in env
    assert env["HOME"] == root
    assert env["PYTHONHASHSEED"] == "0"


def test_network_is_unreachable_when_isolated():
    iso = isolation()
    if not iso.network_isolated:
        pytest.skip(f"no network namespace available (mode {iso.mode}); results say so")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    code = (
        "import socket, sys\ns = socket.socket(); s.settimeout(2)\n"
        "print(s.connect_ex(('127.0.0.1', int(sys.argv[1]))))\n"
    )
    try:
        with Sandbox({}) as box:
            result = run_py(box, code, 10.0, str(port))
    finally:
        server.close()
    assert result.network_isolated
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() != "0"


def test_the_network_flag_matches_reality():
    # Never pretend: a result claims isolation only when the probe found it.
    with Sandbox({}) as box:
        result = run_py(box, "pass")
    assert result.network_isolated == isolation().network_isolated


# -- the sandboxed test runner ------------------------------------------------------------
def test_a_hanging_test_runs_out_of_its_step_budget_the_same_way_in_both_backends():
    world = World(Workspace({"tests/test_hang.py": "def test_ok():\n    pass\n\ndef test_hang():\n"
                                                   "    while True:\n        pass\n"}))
    inproc = run_tests(world, "tests/test_hang.py", 60.0, "inprocess")
    boxed = run_tests(world, "tests/test_hang.py", 60.0, "sandbox")
    assert boxed.over_budget and inproc.over_budget and not inproc.timed_out
    assert boxed.to_dict() == inproc.to_dict()


def test_in_process_a_wall_clock_stop_is_the_harness_error_never_a_verdict():
    # A sleep runs no line of workspace code: only the wall-clock backstop can stop it.
    # In process (the reference agent's code, never blocking) a backstop shows the machine.
    from harness.core.errors import WallClockTimeout

    world = World(Workspace({"tests/test_sleep.py": "import time\n\ndef test_sleep():\n    time.sleep(30)\n"}))
    with pytest.raises(WallClockTimeout):
        run_tests(world, "tests/test_sleep.py", 0.3, "inprocess")


@pytest.mark.parametrize("body", ["time.sleep(30)",
                                  "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    time.sleep(30)",
                                  "while True:\n        try:\n            time.sleep(30)\n"
                                  "        except BaseException:\n            pass"],
                         ids=["sleep", "alarm-ignored", "alarm-swallowed"])
def test_in_the_sandbox_code_that_blocks_fails_on_the_wall_clock_killed_from_outside(body):
    # Untrusted code that blocks outside Python is the code's failure, not a harness error
    # (else an agent could have its failures left out of every rate by writing a sleep);
    # and no handler it installs keeps it alive: the process is killed from outside.
    src = f"import signal, time\n\ndef test_block():\n    {body}\n"
    world = World(Workspace({"tests/test_block.py": src}))
    report = run_tests(world, "tests/test_block.py", 0.3, "sandbox")
    assert not report.ok and report.collection_error.error_type == "WallClockLimit"
    assert "wall clock" in report.collection_error.message


def test_a_test_that_kills_its_process_is_a_collection_error_not_a_crash():
    world = World(Workspace({"tests/test_exit.py": "import os\n\ndef test_x():\n    os._exit(3)\n"}))
    report = run_tests(world, "tests/test_exit.py", 5.0, "sandbox")
    assert not report.ok
    assert report.collection_error is not None
    assert report.collection_error.error_type == "SandboxError"
    assert "exit code 3" in report.collection_error.message


def test_a_test_printing_a_fake_report_line_does_not_break_parsing():
    src = "def test_a():\n    print('@@harness-test-report@@{}')\n\ndef test_b():\n    assert False\n"
    world = World(Workspace({"tests/test_p.py": src}))
    report = run_tests(world, "tests/test_p.py", 5.0, "sandbox")
    assert report.passed == ["test_a"]
    assert [f.test for f in report.failures] == ["test_b"]


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError):
        run_tests(World(Workspace({})), "tests/test_x.py", 1.0, "docker")  # type: ignore[arg-type]


def test_sandbox_is_not_run_from_the_harness_interpreter_path():
    # The sandbox uses the base interpreter with -I -S: the venv's packages are not importable.
    with Sandbox({}) as box:
        result = run_py(box, "import pydantic")
    assert result.exit_code != 0
    assert "ModuleNotFoundError" in result.stderr
    assert sys.prefix  # the harness itself still has them
