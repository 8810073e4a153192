"""DESIGN §5 invariants over the real presets and the gap factorial (issue 5).

Each test states a property of the mechanisms that could be false: the infrastructure
changes what an agent's errors lead to, never who succeeds when nobody errs.
"""

from pathlib import Path

import pandas as pd
import pytest

from harness.agents.profile import AgentProfile
from harness.agents.scope import EpisodeScope
from harness.analysis.shapley import decompose
from harness.experiment.conditions import load_condition
from harness.experiment.episode import run_episode
from harness.experiment.factorial import FactorialSpec, expand
from harness.workload.workloads import WorkloadConfig, build_workload

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PRESETS = ["agent_native", "human", "chatbot", "api_chain", "manual_script"]
GAP3 = FactorialSpec(base="human", treatment="agent_native", components=[
    {"name": "context", "short": "ctx", "layers": ["execution", "memory"]},
    {"name": "agency", "short": "agy", "layers": ["security", "tools"]},
    {"name": "observability", "short": "obs", "layers": ["observability"]}])


def _slice(per_family=1, difficulties=(1, 2)):
    from harness.workload.registry import FAMILIES

    families = [f for f in FAMILIES.names() if not f.startswith("document_processing") and f not in _real()]
    cfg = WorkloadConfig(name="inv", seed=3, families=[
        {"family": f, "count": per_family * len(difficulties), "difficulties": list(difficulties)} for f in families])
    return build_workload(cfg)


@pytest.fixture(scope="module")
def single_session():
    return [t for t in _slice() if len(t.sessions) <= 1]


def test_an_agent_that_never_acts_completes_nothing_anywhere(tmp_path, monkeypatch, single_session):
    (tmp_path / "idle_agent.py").write_text(
        "from harness.runtime.port import GiveUp\n\n"
        "class Idle:\n"
        "    def run(self, brief, tools, rng):\n"
        "        yield GiveUp(reason='does nothing')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    agent = {"name": "custom", "import_path": "idle_agent:Idle"}
    for name in PRESETS:
        cond = load_condition(CONFIGS, name)
        assert not any(run_episode("r", t, cond, agent, 0, 0, scope=EpisodeScope())[0].success for t in single_session)


# The named, sourced mechanisms that may stop a perfect agent (DESIGN §5, invariant 6), each
# with its own termination reason: an approval that outlasts the task's stated deadline.
NAMED_STOPS = {"approval_timeout"}


@pytest.fixture(scope="module")
def every_task():
    from harness.workload.registry import FAMILIES

    cfg = WorkloadConfig(name="inv6", seed=3, families=[
        {"family": f, "count": 5, "difficulties": [1, 2, 3, 4, 5]} for f in FAMILIES.names() if f not in _real()])
    return build_workload(cfg)


def _real() -> set[str]:
    """The families on real packages (issue 21): their tasks are real bugs and changes that the
    reference strategies cannot all solve, erring or not (a skill limit, the same in every
    condition); invariant 6 is stated for them below in the form that still holds."""
    from harness.workload.registry import FAMILIES

    return {f for f in FAMILIES.names() if f.split("/")[1].startswith("real_")}


@pytest.mark.slow
def test_on_real_packages_a_perfect_agent_fares_the_same_in_every_condition():
    """Invariant 6 for the real families: with no errors and no faults, whether a task is done
    never depends on the condition. (Which tasks are done is the reference strategy's skill
    on real code; the closing note of issue 21 gives the share.)"""
    tasks = build_workload(WorkloadConfig(name="inv6-real", seed=3, families=[
        {"family": f, "count": 2} for f in sorted(_real())]))
    agent = {"name": "reference", "profile": AgentProfile.perfect().model_dump()}
    outcomes: dict[str, set[bool | None]] = {}
    for name in PRESETS:
        cond = load_condition(CONFIGS, name)
        for t in tasks:
            ep, _ = run_episode("r", t, cond, agent, 0, 0, scope=EpisodeScope())
            assert ep.error is None, (name, t.id, ep.error)
            named = ep.termination in REAL_NAMED_STOPS
            if ep.termination == "time_budget":  # the stated deadline really passed
                assert ep.sim_minutes >= t.budget.max_minutes, (name, t.id, ep.sim_minutes)
            outcomes.setdefault(t.id, set()).add(None if named else ep.success)
    split = {tid: o for tid, o in outcomes.items() if len(o - {None}) > 1}
    assert not split, split


# On real code one more named mechanism stops a perfect agent: the working day runs out when
# every action is relayed by a person (the chatbot overlay pastes 40 lines at a time, and real
# modules run to 600-3,000 lines). Measured for issue 21: real_fix_bug under chatbot.
REAL_NAMED_STOPS = NAMED_STOPS | {"time_budget"}


@pytest.mark.parametrize("name", PRESETS)
def test_a_perfect_agent_completes_every_task_in_every_condition_but_for_named_mechanisms(name, every_task):
    """Invariant 6 as DESIGN §5 states it: error_scale 0 and no faults, every task of every
    family at every difficulty, multi-session tasks included. An exemption is a named
    mechanism with its own termination reason, never a failure left unexplained."""
    assert any(len(t.sessions) > 1 for t in every_task)
    agent = {"name": "reference", "profile": AgentProfile.perfect().model_dump()}
    cond = load_condition(CONFIGS, name)
    unexplained = []
    for t in every_task:
        ep, _ = run_episode("r", t, cond, agent, 0, 0, scope=EpisodeScope())
        assert ep.error is None, (name, t.id, ep.error)
        if not ep.success and ep.termination not in NAMED_STOPS:
            unexplained.append((t.id, ep.termination, ep.check_detail[:200]))
        if ep.termination == "approval_timeout":
            assert ep.approvals > 0 and ep.sim_minutes >= t.budget.max_minutes, (t.id, ep)
    assert not unexplained, unexplained


def _factorial_episodes(tasks, faults, profile, repeats=2):
    rows = []
    agent = {"name": "reference", "profile": profile}
    for cell in expand(GAP3, CONFIGS):
        cond = cell.model_copy(update={"faults": faults})
        for t in tasks:
            for r in range(repeats):
                ep, _ = run_episode("r", t, cond, agent, 0, r, scope=EpisodeScope())
                rows.append({"task_id": t.id, "category": t.category, "condition": cell.name,
                             "repeat": r, "success": ep.success})
    return pd.DataFrame(rows)


def _component(df, name):
    out = decompose(df, GAP3.cells(), GAP3.factors, resamples=200, seed=0)
    return float(out[(out.category == "all") & (out.component == name)].value.iloc[0])


def test_raising_the_crash_rate_widens_the_context_component():
    tasks = build_workload(WorkloadConfig(name="c", seed=5, families=[
        {"family": "code_modification/rename_symbol", "count": 3, "difficulties": [2, 3]},
        {"family": "system_administration/credential_rotation", "count": 3, "difficulties": [1, 2]},
        {"family": "data_analysis/cleaning", "count": 3, "difficulties": [1, 2]}]))
    profile = AgentProfile().model_dump()
    calm = _component(_factorial_episodes(tasks, {}, profile), "context")
    rough = _component(_factorial_episodes(tasks, {"crash_rate": 0.1}, profile), "context")
    assert rough > calm + 0.05


def test_slips_beyond_working_memory_widen_the_observability_component():
    # The code-modification strategies hold only ``capacity`` edits in mind; a slipped edit
    # to a forgotten file is undone from the causal trace's call arguments, while a text
    # log's cut lines cannot give it back. No slips, nothing to recover: no component.
    tasks = build_workload(WorkloadConfig(name="o", seed=5, families=[
        {"family": f"code_modification/{f}", "count": 2, "difficulties": [3, 4, 5]}
        for f in ("dependency_upgrade", "extract_helper", "add_parameter")]))
    careful = AgentProfile(slip_rate=0.0, context_capacity=2).model_dump()
    slipping = AgentProfile(slip_rate=0.3, context_capacity=2).model_dump()
    low = _component(_factorial_episodes(tasks, {}, careful), "observability")
    high = _component(_factorial_episodes(tasks, {}, slipping), "observability")
    assert high > low + 0.1, (low, high)


def test_raising_the_misread_rate_widens_the_agency_component():
    # Misreads happen in unstructured output. Here a result's format belongs to the tool
    # layer (typed tools answer in data, a shell in text), which the factorial counts under
    # agency; so that is where misreads must show, and only there.
    tasks = build_workload(WorkloadConfig(name="m", seed=5, families=[
        {"family": f, "count": 4, "difficulties": [1, 2, 3, 4, 5]}
        for f in ("code_modification/fix_bug", "code_modification/rename_symbol", "data_analysis/aggregate")]))
    clear = _factorial_episodes(tasks, {}, AgentProfile(misread_rate=0.0).model_dump())
    blurred = _factorial_episodes(tasks, {}, AgentProfile(misread_rate=0.3).model_dump())
    assert _component(blurred, "agency") > _component(clear, "agency") + 0.1
    assert abs(_component(blurred, "context") - _component(clear, "context")) < 0.05


@pytest.mark.parametrize("name", PRESETS)
def test_no_harness_errors_under_faults_on_any_family(name):
    """Every family's strategy survives refusals, transient failures and crashes: a
    harness_error row means a bug in the agent or the runtime, never a measured outcome."""
    from harness.experiment.config import build_run_config

    workload = build_run_config(["experiment=smoke", "workload.limit=60"]).workload
    tasks = build_workload(workload, base_dir=CONFIGS.parent)
    cond = load_condition(CONFIGS, name).model_copy(
        update={"faults": {"crash_rate": 0.05, "transient_failure_rate": 0.1}})
    errors = []
    for t in tasks:
        for r in range(2):
            ep, _ = run_episode("r", t, cond, {"name": "reference"}, 0, r, scope=EpisodeScope())
            if ep.termination == "harness_error":
                errors.append((t.id, r, ep.error))
    assert not errors, errors[:3]


@pytest.mark.slow
def test_a_sed_rename_that_reaches_a_string_lookup_is_repaired_by_a_perfect_agent():
    """six looks ``assertRegex`` up by string; the shell's ``sed`` renames the string with the
    code (the typed rename leaves strings alone). A perfect agent must put the string back and
    pass in every condition (issue 21: before the repair, 3 of 40 real renames failed under
    shell conditions only)."""
    from harness.experiment.config import compose_config, config_dir

    cfg = WorkloadConfig(**compose_config(["~experiment", "workload=real"])["workload"])
    [task] = [t for t in build_workload(cfg, base_dir=config_dir().parent)
              if t.family.endswith("real_rename") and t.public["old_name"] == "assertRegex"]
    agent = {"name": "reference", "profile": AgentProfile.perfect().model_dump()}
    for name in ("human", "agent_native"):
        ep, _ = run_episode("r", task, load_condition(CONFIGS, name), agent, 0, 0, scope=EpisodeScope())
        assert ep.success, (name, ep.termination, ep.check_detail[:300])
