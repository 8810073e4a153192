"""Property: for any review task, a solved world stays solved under edits a reviewer may
legitimately make (lines off by up to the tolerance, a duplicate finding, up to the
allowance of extra findings), and fails under any that lose an issue or add noise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.families.review_common import TOLERANCE
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep

NAMES = ["code_review/review_bug", "code_review/review_security", "code_review/review_convention",
         "code_review/review_untested", "code_review/review_regression"]


def _far(issues, path: str, line: int) -> bool:
    return all(i["file"] != path or min(abs(line - a) for a in i["lines"]) > TOLERANCE for i in issues)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 2**32 - 1), difficulty=st.integers(1, 5),
       data=st.data())
def test_random_edits_of_a_solved_review(name, seed, difficulty, data):
    fam = get_family(name)
    spec = fam.generate("prop", fam.sample_params(stream(seed, "prop", 0, "params"), difficulty), seed)
    issues = spec.params["issues"]
    allowance = spec.checkers[0].args["max_false_positives"]
    findings = [dict(f) for f in spec.gold[0].args["answer"]["findings"]]
    edit = data.draw(st.sampled_from(["shift", "duplicate", "drop", "noise"]))
    expect = True
    if edit == "shift":
        for f in findings:
            f["line"] += data.draw(st.integers(-TOLERANCE, TOLERANCE))
    elif edit == "duplicate":
        findings.append(dict(findings[data.draw(st.integers(0, len(findings) - 1))]))
    elif edit == "drop":
        findings.pop(data.draw(st.integers(0, len(findings) - 1)))
        expect = False
    else:
        files = sorted(p for p in fam.build_world(spec).workspace.list(spec.params["package"]))
        n = data.draw(st.integers(1, allowance + 2))
        added = 0
        for _ in range(200):
            if added == n:
                break
            path, line = data.draw(st.sampled_from(files)), data.draw(st.integers(1, 120))
            if _far(issues, path, line):
                findings.append({"file": path, "line": line, "kind": issues[0]["kind"]})
                added += 1
        expect = added <= allowance
    world = apply_steps(fam.build_world(spec), [GoldStep(op="submit", args={"answer": {"findings": findings}})])
    results = run_checkers(world, spec)
    assert all(r.passed for r in results) == expect, (edit, results)
