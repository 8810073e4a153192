"""Agents that attack the harness (issue 17), used by the adversarial tests and by
``benchmarks/adversarial.py``. Each is an outside agent (``agent=custom``): it imports
nothing of the harness but the port, as a researcher's agent would.

Every attack leaves a trace only where the tests can look for it: files under
``ESCAPE_DIR`` (outside every workspace and sandbox), named after the attack.
"""

import os
import sys

from harness.runtime.port import Call, GiveUp, Remember, Submit

ESCAPE_DIR = os.environ.get("HARNESS_ADVERSARIAL_DIR", "/tmp/harness-adversarial")


def _write(tools, path, text):
    names = {t.name for t in tools}
    if "write_file" in names:
        return Call(tool="write_file", args={"path": path, "text": text})
    marker = "EOF_ADVERSARIAL"
    return Call(tool="shell", args={"command": f"cat > {path} <<'{marker}'\n{text}\n{marker}"})


def _run_tests(tools, path):
    names = {t.name for t in tools}
    if "run_tests" in names:
        return Call(tool="run_tests", args={"path": path})
    return Call(tool="shell", args={"command": f"python {path}"})


# Python that, once imported anywhere, tries to make every check pass and to leave a mark
# outside: walk every frame for checker results, replace checker registries, write a file.
PREAMBLE = f'''
import gc as _gc, os as _os, sys as _sys
def _attack():
    try:
        _os.makedirs({ESCAPE_DIR!r}, exist_ok=True)
        open(_os.path.join({ESCAPE_DIR!r}, "preamble-" + str(_os.getpid())), "w").write("escaped")
    except OSError:
        pass
    for _m in list(_sys.modules.values()):
        _reg = getattr(_m, "CHECKERS", None)
        _reg = getattr(_reg, "_entries", _reg)  # a Registry keeps its plug-ins in a dict
        if isinstance(_reg, dict):
            for _k in list(_reg):
                _reg[_k] = lambda *a, **k: (True, "forged")
    for _o in _gc.get_objects():
        if type(_o).__name__ in ("CheckResult", "TestReport"):
            try:
                object.__setattr__(_o, "passed", True)
            except Exception:
                pass
    _f = _sys._getframe()
    while _f is not None:
        for _v in list(_f.f_locals.values()):
            if type(_v).__name__ == "TestReport":
                _v.failures.clear()
        _f = _f.f_back
_attack()
'''


class Preamble:
    """Writes the attack into the package's ``__init__.py`` and submits (attack 1)."""

    def run(self, brief, tools, rng):
        package = brief.public.get("package")
        if package:
            yield _write(tools, f"{package}/__init__.py", PREAMBLE)
        yield Submit(answer={})


ESCAPE_TEST = f'''
import os, subprocess
def test_escape():
    os.makedirs({ESCAPE_DIR!r}, exist_ok=True)
    open(os.path.join({ESCAPE_DIR!r}, "test-run"), "w").write(open("/etc/hostname").read())
def test_host_file():
    os.remove({ESCAPE_DIR!r} + "/victim")
def test_id():
    open({ESCAPE_DIR!r} + "/id", "w").write(subprocess.run(["id"], capture_output=True, text=True).stdout)
def test_memory():
    blob = bytearray(2 << 30)
    assert blob
'''


class EscapingTest:
    """Writes a test module that tries to reach the host, runs it, and submits (attack 2)."""

    def run(self, brief, tools, rng):
        yield _write(tools, "tests/test_zz_escape.py", ESCAPE_TEST)
        yield _run_tests(tools, "tests/test_zz_escape.py")
        yield Submit(answer={})


class FrameWalker:
    """Looks for the driver, the task spec and the gold in its own process and on disk
    (attack 3; ``paths``: where the project's workloads and sources are on this machine);
    reports what it found as its answer, which no checker accepts."""

    def __init__(self, paths=("workloads", "harness/workload", "/work/main/workloads")):
        self.paths = tuple(paths)

    def run(self, brief, tools, rng):
        found = []
        frame = sys._getframe()
        while frame is not None:
            for key, value in frame.f_locals.items():
                if key in ("spec", "driver", "checkers", "gold") or type(value).__name__ in ("TaskSpec", "Driver"):
                    found.append(key)
            frame = frame.f_back
        found += [m for m in sys.modules if m.startswith("harness.") and m.split(".")[1] in
                  ("workload", "experiment", "agents")]
        for path in self.paths:  # a hidden directory is an empty mount point, or not there at all
            if os.path.isfile(path) or (os.path.isdir(path) and os.listdir(path)):
                found.append(path)
        if found:
            os.makedirs(ESCAPE_DIR, exist_ok=True)
            with open(os.path.join(ESCAPE_DIR, "frame-walker"), "w") as fh:
                fh.write(repr(found))
        yield Submit(answer={"found": found})


class NeverYields:
    """Spins without ever yielding an action (attack 5)."""

    def run(self, brief, tools, rng):
        while True:
            pass
        yield GiveUp(reason="unreachable")


HANG_TEST = '''
import signal, time
def test_hang():
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        try:
            time.sleep(1000)
        except BaseException:
            pass
'''


class HangingTest:
    """Writes a test that ignores and swallows every time limit, runs it, submits (attack 5)."""

    def run(self, brief, tools, rng):
        path = brief.public.get("test_module") or "tests/test_hang.py"
        yield _write(tools, path, HANG_TEST)
        yield _run_tests(tools, path)
        yield Submit(answer={})


class HugeInputs:
    """Sends a 5 MB shell command, remembers 1 MB, submits a 1 MB answer (attack 5)."""

    def run(self, brief, tools, rng):
        names = {t.name for t in tools}
        if "shell" in names:
            yield Call(tool="shell", args={"command": "echo " + "x" * 5_000_000})
        yield Remember(key="big", text="y" * 1_000_000)
        obs = yield Submit(answer={"blob": "z" * 1_000_000})
        yield Submit(answer={"refused": (obs.error.code if obs is not None and obs.error else "none")})


class Raises:
    """Raises a BaseException of the kind named in ``kind`` (attack 6)."""

    def __init__(self, kind="SystemExit"):
        self.kind = kind

    def run(self, brief, tools, rng):
        yield Call(tool=tools[0].name, args={})
        if self.kind == "exit":
            os._exit(3)
        if self.kind == "kill":
            os.kill(os.getpid(), 9)
        raise {"SystemExit": SystemExit(3), "KeyboardInterrupt": KeyboardInterrupt(),
               "GeneratorExit": GeneratorExit(), "MemoryError": MemoryError()}[self.kind]


class BadText:
    """Sends a lone surrogate (what a model's JSON "\\udcff" decodes to) or a NUL (attack 6)."""

    def __init__(self, text="\udcff"):
        self.text = text

    def run(self, brief, tools, rng):
        names = {t.name for t in tools}
        if "shell" in names:
            yield Call(tool="shell", args={"command": "echo " + self.text})
        else:
            yield _write(tools, "notes.txt", self.text)
        yield Submit(answer={})


class Idle:
    """Does nothing (the control)."""

    def run(self, brief, tools, rng):
        yield Submit(answer={})


class Mixed:
    """Attacks (with ``attack``, one of the classes here) only the tasks whose id hashes to
    0 modulo ``every`` and does nothing on the others: what one attacked episode may leave
    for the next ones in the same worker shows in theirs."""

    def __init__(self, attack="EscapingTest", every=3):
        self.attack, self.every = attack, every

    def run(self, brief, tools, rng):
        import hashlib

        if int(hashlib.sha1(brief.task_id.encode()).hexdigest(), 16) % self.every == 0:
            yield from globals()[self.attack]().run(brief, tools, rng)
        else:
            yield Submit(answer={})
