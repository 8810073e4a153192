"""The built wheel, installed outside the checkout, runs an experiment and reports on it.

The wheel is built from a copy of the repository's sources (a build writes build/ and
*.egg-info into its source tree; the checkout stays clean) and installed with --no-deps
into a fresh venv. Its dependencies come from the dev venv's site-packages, named in a
.pth file: a plain path line adds that directory to sys.path without running the .pth
files inside it, so the dev venv's editable `harness` (a finder installed by such a
.pth) stays out and `import harness` can only find the wheel's copy. An audit hook in
the fresh venv records every file or directory opened under the checkout; the run, the
report and the view's help must open none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import harness
from harness.store.reader import deterministic_episode_rows
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow
SMOKE = ("experiment=smoke", "workload.limit=2")  # 2 tasks x 2 repeats x 2 conditions
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "harness", "configs", "workloads",
           "paper/claims.yaml")
# Any open() or directory listing under a checkout, appended to $CHECKOUT_AUDIT_LOG (set by
# the test). Runs at start-up in every interpreter of the fresh venv, worker processes too.
AUDIT = '''
import os, sys
_log, _roots = os.environ.get("CHECKOUT_AUDIT_LOG"), os.environ.get("CHECKOUT_ROOTS", "").split(os.pathsep)
_allowed = os.environ.get("CHECKOUT_ALLOWED", "").split(os.pathsep)
def _hook(event, args):
    if event not in ("open", "os.listdir", "os.scandir") or not args or not isinstance(args[0], (str, bytes)):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if any(path == r or path.startswith(r + os.sep) for r in _roots if r) and not any(
            path.startswith(a + os.sep) for a in _allowed if a):
        with open(_log, "a") as f:
            f.write(f"{os.getpid()} {event} {path}\\n")
if _log:
    sys.addaudithook(_hook)
'''


def _copy_sources(dest: Path) -> Path:
    for rel in SOURCES:
        src, dst = ROOT / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_data"))
        else:
            shutil.copy2(src, dst)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    src = _copy_sources(base / "src")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"),
                           str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (found,) = (base / "dist").glob("agent_native_harness-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True, timeout=120)
    python = home / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "dev_venv_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (Path(site) / "checkout_audit.py").write_text(AUDIT)
    (Path(site) / "checkout_audit.pth").write_text("import checkout_audit\n")
    env = _clean_env()
    before = subprocess.run([str(python), "-c", "import harness"], cwd=home, env=env, capture_output=True,
                            text=True)  # cwd: not the checkout (on sys.path as '')
    assert before.returncode != 0, "the fresh venv sees a harness before the wheel is installed"
    proc = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                          cwd=home, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return home


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HARNESS_CONFIG_DIR", "VIRTUAL_ENV")}
    return {**env, "NO_COLOR": "1", **extra}


def test_wheel_carries_the_run_data_and_licence(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("harness/_data/configs/config.yaml", "harness/_data/configs/experiment/smoke.yaml",
                   "harness/_data/workloads/w500/manifest.jsonl", "harness/_data/paper/claims.yaml",
                   "harness/agents/llm/mock_scripts/default.yaml", "harness/sandbox/prelude.sh"):
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    package_files = {f"harness/{p.relative_to(ROOT / 'harness').as_posix()}" for p in (ROOT / "harness").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert package_files - set(names) == set()  # every file under harness/, templates and assets too
    data_files = {f"harness/_data/{p.relative_to(ROOT).as_posix()}" for base in ("configs", "workloads")
                  for p in (ROOT / base).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert data_files - set(names) == set()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Name: agent-native-harness" in metadata and "License-Expression: MIT" in metadata
    assert wheel.stat().st_size < 5_000_000  # the data is a few MB at most, compressed to under one


def test_installed_harness_runs_and_reports_from_an_empty_directory(venv, tmp_path):
    work = tmp_path / "empty"
    work.mkdir()
    log = tmp_path / "audit.log"
    # the checkout under test, the dev install's checkout (its site-packages excepted: the deps live there)
    roots = {str(ROOT), str(Path(harness.__file__).resolve().parents[1])}
    deps = sysconfig.get_paths()["purelib"]
    env = _clean_env(CHECKOUT_AUDIT_LOG=str(log), CHECKOUT_ROOTS=os.pathsep.join(sorted(roots)),
                     CHECKOUT_ALLOWED=os.pathsep.join([deps, str(Path(sys.prefix).resolve()), sys.prefix]))
    python, command = venv / "bin" / "python", venv / "bin" / "harness"
    control = subprocess.run([str(python), "-c", f"open({str(ROOT / 'README.md')!r}).close()"], cwd=work, env=env,
                             timeout=120)
    assert control.returncode == 0 and "README.md" in log.read_text()  # the hook is live: it sees a read
    log.unlink()

    where = subprocess.run([str(python), "-c", "import harness.experiment.config as c, harness; "
                            "print(harness.__file__); print(c.config_dir())"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    module, configs = where.stdout.split()
    assert Path(module).is_relative_to(venv) and Path(configs).is_relative_to(venv)

    run = subprocess.run([str(command), "run", *SMOKE], cwd=work, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "episodes executed" in run.stderr
    assert (work / "results" / "harness.duckdb").is_file()  # written where the user is...
    site = Path(module).parent
    assert not list(site.rglob("*.duckdb"))  # ...not into site-packages

    report = subprocess.run([str(command), "report"], cwd=work, env=env, capture_output=True, text=True,
                            timeout=600)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "Completion rate" in report.stdout and "agent_native" in report.stdout

    view = subprocess.run([str(command), "view", "--help"], cwd=work, env=env, capture_output=True, text=True,
                          timeout=120)
    if not (view.returncode == 2 and "No such command" in view.stderr):  # `harness view` arrives with issue 20
        assert view.returncode == 0, view.stdout + view.stderr

    # the same episodes as the checkout stores for the same command: nothing a run reads is missing or stale
    here = tmp_path / "checkout.duckdb"
    proc = run_cli("run", *SMOKE, "run.id=same", f"store.path={here}")
    assert proc.returncode == 0, proc.stderr
    same_run = subprocess.run([str(command), "run", *SMOKE, "run.id=same"], cwd=work, env=env, capture_output=True,
                             text=True, timeout=600)
    assert same_run.returncode == 0, same_run.stderr
    installed_rows = deterministic_episode_rows(work / "results" / "harness.duckdb", "same")
    assert len(installed_rows) == 8 and installed_rows == deterministic_episode_rows(here, "same")

    opened = log.read_text() if log.exists() else ""
    assert opened == "", "the installed harness read the checkout:\n" + opened[:2000]
