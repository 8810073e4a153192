"""DESIGN §5 invariants that can be checked on the code itself."""

import ast
import re
from pathlib import Path

from harness.core.models import Brief
from harness.world.pycode import identifier_counts

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "harness"


# Report orchestration (reading a run from the store, with its config's own schemas) is the
# one part of analysis that is not a pure function on tables; the statistics stay pure.
ORCHESTRATION = {"analysis/report.py"}


def _imports(package: str) -> set[str]:
    return {m for path in (PKG / package).rglob("*.py") if path.relative_to(PKG).as_posix() not in ORCHESTRATION
            for m in _imports_of(path)}


def _harness_packages(package: str) -> set[str]:
    return {m.split(".")[1] for m in _imports(package) if m.startswith("harness.") and m.count(".") >= 1}


ALLOWED = {
    "core": set(),
    "sandbox": {"core"},
    "world": {"core", "sandbox"},
    "workload": {"core", "world"},
    "runtime": {"core", "world"},
    # the sandbox only for the host that confines an outside agent (see below)
    "agents": {"core", "runtime", "sandbox"},
    "store": {"core"},
    "analysis": {"core"},
}


def test_packages_import_only_what_the_layering_allows():
    for package, allowed in ALLOWED.items():
        used = _harness_packages(package) - {package}
        assert used <= allowed, f"harness.{package} imports {used - allowed}"


def test_report_orchestration_reads_the_store_but_never_runs_anything():
    used = {m.split(".")[1] for m in _imports_of(PKG / "analysis" / "report.py") if m.startswith("harness.")}
    assert used <= {"core", "store", "analysis", "experiment", "workload"}, used
    assert not {m for m in _imports_of(PKG / "analysis" / "report.py")
                if m.startswith(("harness.experiment.runner", "harness.experiment.episode"))}


def _imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_the_outside_agent_host_uses_the_sandbox():
    users = {p.relative_to(PKG).as_posix() for p in (PKG / "agents").rglob("*.py")
             if "harness.sandbox" in p.read_text()}
    assert users == {"agents/outside/host.py"}, users


def test_agents_touch_the_world_only_through_the_port():
    agent_imports = {m for m in _imports("agents") if m.startswith("harness.runtime")}
    assert agent_imports <= {"harness.runtime.port"}, agent_imports


def test_no_code_reads_a_condition_name_to_decide():
    pattern = re.compile(r"""(cond(ition)?(_name)?|preset)(\.name)?\s*(==|!=|\bin\b)\s*[\(\[{]?['"]""")
    offenders = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in PKG.rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders
    for package in ("runtime", "agents", "workload", "world"):
        for path in (PKG / package).rglob("*.py"):
            names = identifier_counts(path.read_text())
            assert not [n for n in names if re.search(r"(^|_)conditions?($|_)", n.lower())], path


def test_the_brief_carries_no_private_parts():
    # policy and deadline are stated in the instructions; told is this session's own text
    assert set(Brief.model_fields) == {"task_id", "category", "family", "instructions", "session", "sessions", "public",
                                       "carried", "told", "policy", "deadline_minutes"}


def test_what_is_carried_is_only_what_earlier_sessions_were_told():
    from harness.workload.workloads import WorkloadConfig, build_workload
    from tests.strategy_support import NATIVE, run

    spec = next(t for t in build_workload(WorkloadConfig(name="w", families=[
        {"family": "code_modification/follow_convention", "count": 6, "difficulties": [3]}])) if len(t.sessions) > 1)
    seen = []
    from harness.experiment import drive

    original = drive.Driver._start

    def spy(self, brief, *a, **k):
        seen.append(brief)
        return original(self, brief, *a, **k)

    drive.Driver._start = spy
    try:
        run(spec, {**NATIVE, "execution": {"variant": "durable"}})
    finally:
        drive.Driver._start = original
    told = [spec.brief(k).instructions for k in range(len(spec.sessions))]
    assert seen and seen[0].carried == ()
    for brief in seen[1:]:
        assert list(brief.carried) == told[: brief.session]


def test_agents_never_mention_gold_or_checkers():
    for path in (PKG / "agents").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"\b(gold|checkers?)\b", text), path


def test_published_numbers_live_only_in_claims():
    """Invariant 7, searched for with the claims themselves (see harness.paper.claims for
    which numbers count as distinctive and in which spellings)."""
    from harness.paper.claims import leak_pattern, load_claims

    claims = load_claims()
    pattern = leak_pattern(claims.claims)
    assert pattern is not None and pattern.search(repr(claims.get("section3.overall.gap").value))
    suffixes = {".py", ".yaml", ".yml", ".json", ".jsonl", ".ipynb", ".md", ".toml", ".txt", ".sql", ".sh", ".cfg"}
    offenders = [
        f"{path.relative_to(ROOT)}:{i}: {match.group()}"
        for base in ("harness", "configs", "notebooks")
        for path in sorted((ROOT / base).rglob("*"))
        if path.is_file() and path.suffix in suffixes
        for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        for match in pattern.finditer(line)
    ]
    assert not offenders, "published numbers outside paper/claims.yaml:\n" + "\n".join(offenders)


# --- invariant 7, calibration: the profile fitted to the report is never a default ------------
CALIBRATION_OUTPUTS = ("fitted_profile", "results/calibration", "--agent-profile", "agent_profile:")


def test_no_config_names_or_reads_a_calibration_output():
    offenders = [f"{p.relative_to(ROOT)}: {word}" for p in (ROOT / "configs").rglob("*")
                 if p.is_file() for word in CALIBRATION_OUTPUTS if word in p.read_text()]
    assert not offenders, offenders


def test_every_experiment_composes_with_the_reference_profile():
    import yaml

    from harness.experiment.config import compose_config

    reference = yaml.safe_load((ROOT / "configs" / "agent" / "reference.yaml").read_text())["profile"]
    experiments = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))
    assert "calibration_design" in experiments
    for name in experiments:
        agent = compose_config([f"experiment={name}"])["agent"]
        assert agent.get("profile", reference) == reference, name


def test_calibrate_writes_its_profile_outside_configs():
    from harness.cli.calibrate_cmd import DEFAULT_OUT
    from harness.cli.calibrate_runs import inside_configs

    assert not inside_configs(DEFAULT_OUT) and inside_configs(ROOT / "configs" / "agent" / "fitted.yaml")
