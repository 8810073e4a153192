"""document_processing families: generation, checkers, gold, traps, vandals, sessions,
determinism and the public/private split."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from functools import cache

import numpy as np
import pytest

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.checks import CHECKERS, get_checker
from harness.workload.families import extract_fields, policy_check
from harness.workload.families.doc_common import (
    DATE_STYLES,
    find_dates,
    fmt_amount,
    fmt_date,
    parse_amount,
)
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep, TaskSpec
from harness.workload.validation import validate_task
from harness.world import World

EXTRACT, POLICY = "document_processing/extract_fields", "document_processing/policy_check"
NAMES = (EXTRACT, POLICY)
CASES = [(name, d, s) for name in NAMES for d in range(1, 6) for s in range(6)]


@cache
def spec_for(name: str, difficulty: int, seed: int) -> TaskSpec:
    fam = get_family(name)
    task_id = f"{name.split('/')[1]}-{difficulty}-{seed}"
    return fam.generate(task_id, fam.sample_params(stream(seed, task_id, 0, "params"), difficulty), 1000 * seed + difficulty)


def world_of(spec: TaskSpec, steps=()) -> World:
    return apply_steps(get_family(spec.family).build_world(spec), steps)


def passes(world: World, spec: TaskSpec) -> bool:
    return all(r.passed for r in run_checkers(world, spec))


def verdicts(world: World, spec: TaskSpec) -> dict[str, bool]:
    return {r.checker: r.passed for r in run_checkers(world, spec)}


def submit(answer) -> GoldStep:
    return GoldStep(op="submit", args={"answer": answer})


# -- the contract on every generated task -------------------------------------------------
@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES)
def test_gold_passes_and_initial_do_nothing_traps_and_vandals_fail(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    assert passes(world_of(spec, spec.gold), spec), run_checkers(world_of(spec, spec.gold), spec)
    assert not passes(world_of(spec), spec)
    assert not passes(world_of(spec, [submit({})]), spec)
    assert spec.traps
    for trap, steps in spec.traps.items():
        assert not passes(world_of(spec, steps), spec), trap
    echo = submit({"text": spec.instructions, "value": spec.instructions})
    assert not passes(world_of(spec, [echo]), spec)
    emptied = world_of(spec, spec.gold)
    for path in emptied.workspace.list():
        if not path.startswith("out/"):
            emptied.workspace.write(path, "")
    assert not passes(emptied, spec)
    assert validate_task(spec).ok, validate_task(spec).problems


@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES[::3])
def test_deterministic_and_independent_worlds(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    fam = get_family(name)
    again = fam.generate(spec.id, dict(spec.params), spec.seed)
    assert again.model_dump_json() == spec.model_dump_json()
    a, b = fam.build_world(spec), fam.build_world(again)
    assert a.digest() == b.digest()
    a.workspace.write("scratch.txt", "x")
    assert fam.build_world(spec).digest() == b.digest()


DIGEST_SCRIPT = """
import json, sys
from harness.workload import get_family
fam = get_family(sys.argv[1])
spec = fam.generate("det", json.loads(sys.argv[2]), int(sys.argv[3]))
print(spec.content_hash(), fam.build_world(spec).digest())
"""


@pytest.mark.parametrize("name", NAMES)
def test_same_digest_in_another_process(name):
    fam = get_family(name)
    params = fam.sample_params(np.random.Generator(np.random.PCG64(3)), 4)
    spec = fam.generate("det", params, 91)
    out = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, name, json.dumps(params), "91"],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert out == [spec.content_hash(), fam.build_world(spec).digest()]
    assert fam.build_world(fam.generate("det", params, 92)).digest() != out[1]


@pytest.mark.parametrize("name", NAMES)
def test_fast_at_the_largest_difficulty(name):
    fam = get_family(name)
    params = fam.sample_params(np.random.Generator(np.random.PCG64(0)), 5)
    start = time.perf_counter()
    for seed in range(5):
        fam.build_world(fam.generate("perf", params, 500 + seed))
    assert (time.perf_counter() - start) / 5 < 0.1  # typically ~20 ms; loose for slow CI


@pytest.mark.parametrize("name", NAMES)
def test_sample_params_scale_and_budget_grows(name):
    fam = get_family(name)
    sizes = []
    for d in range(1, 6):
        p = fam.sample_params(np.random.Generator(np.random.PCG64(d)), d)
        assert p == fam.sample_params(np.random.Generator(np.random.PCG64(d)), d)
        sizes.append(p["n_docs"])
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    budgets = [spec_for(name, d, 0).budget.max_actions for d in range(1, 6)]
    assert budgets == sorted(budgets)
    with pytest.raises(Exception, match="difficulty"):
        fam.sample_params(np.random.Generator(np.random.PCG64(0)), 6)


# -- extract_fields ---------------------------------------------------------------------
def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def gold_csv(spec: TaskSpec) -> str:
    return spec.gold[0].args["text"]


def write_csv(spec: TaskSpec, rows: list[list[str]]) -> World:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return world_of(spec, [GoldStep(op="write", args={"path": extract_fields.OUTPUT, "text": out.getvalue()})])


@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(4)])
def test_extract_rows_dropped_doubled_or_wrong_fail(difficulty, seed):
    spec = spec_for(EXTRACT, difficulty, seed)
    rows = read_csv(gold_csv(spec))
    assert len(rows) - 1 == len(spec.params["rows"]) == spec.params["n_docs"] - spec.params["n_duplicates"]
    assert not passes(write_csv(spec, rows[:-1]), spec)  # a row dropped
    assert not passes(write_csv(spec, [*rows, rows[-1]]), spec)  # a row twice
    assert not passes(write_csv(spec, [rows[0]]), spec)  # header only
    if difficulty >= 2:  # the duplicate's other copy listed too
        other = spec.params["duplicates"][0][1]
        assert not passes(write_csv(spec, [*rows, [other, *rows[1][1:]]]), spec)
    allowed = spec.params["max_wrong_cells"]
    assert allowed == (0 if difficulty <= 3 else len(rows[1:]) // (40 if difficulty == 4 else 20))
    bad = [list(r) for r in rows]
    for r in bad[1: allowed + 1]:
        r[4] = "0.01"
    assert passes(write_csv(spec, bad), spec)
    bad[allowed + 1][3] = "1999-01-01"
    assert not passes(write_csv(spec, bad), spec)


@pytest.mark.parametrize("seed", range(4))
def test_extract_accepts_what_a_human_would_and_refuses_wrong_formats(seed):
    spec = spec_for(EXTRACT, 2, seed)
    rows = read_csv(gold_csv(spec))
    loose = [[c.upper() if j in (1, 2) else c for j, c in enumerate(r)] for r in rows]
    loose[0] = [h.upper() for h in rows[0]]
    loose = [[f" {c} " if j in (1, 2) else c for j, c in enumerate(r)] for r in loose]
    assert passes(write_csv(spec, loose), spec)
    no_prefix = [rows[0], *([r[0].removeprefix("inbox/"), *r[1:]] for r in rows[1:])]
    assert not passes(write_csv(spec, no_prefix), spec)  # the stated key is the path
    for col, value in ((3, "{day}/{month}/{year}"), (4, "{total},00")):
        wrong = [list(r) for r in rows]
        y, m, d = wrong[1][3].split("-")
        wrong[1][col] = value.format(day=d, month=m, year=y, total=wrong[1][4].split(".")[0])
        assert not passes(write_csv(spec, wrong), spec)


@pytest.mark.parametrize("difficulty", range(1, 6))
def test_extract_corrections_and_noise_are_present(difficulty):
    spec = spec_for(EXTRACT, difficulty, 1)
    world = world_of(spec)
    corrected = spec.params["corrected"]
    assert len(corrected) == spec.params["n_corrections"] > spec.params["max_wrong_cells"]
    for path in corrected:
        text = world.workspace.read(path).casefold()
        assert "correct" in text or "addendum" in text
    for path, truth in spec.params["rows"].items():
        text = world.workspace.read(path)
        assert truth[list(truth)[1]] in text  # the invoice number is printed verbatim
    assert all(p.startswith("inbox/") for p in world.workspace.list())


def test_date_and_amount_formats_round_trip():
    import datetime as dt
    for style in DATE_STYLES:
        for day in (dt.date(2025, 3, 4), dt.date(2024, 12, 31)):
            assert find_dates(f"x {fmt_date(day, style)} y") == [day.isoformat()]
    for style in ("usd_symbol", "usd_code", "eur_comma", "eur_space", "gbp_code", "plain"):
        for cents in (5, 123456, 100000000):
            assert parse_amount(fmt_amount(cents, style)) == cents


# -- policy_check ------------------------------------------------------------------------
@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(6)])
def test_policy_sessions_notes_and_tolerance(difficulty, seed):
    spec = spec_for(POLICY, difficulty, seed)
    p = spec.params
    notes = [policy_check.NOTES[n][1] for n in p["notes"]]
    world = world_of(spec)
    corpus = "\n".join(world.workspace.read(path) for path in world.workspace.list())
    if difficulty >= 3:
        assert len(spec.sessions) == 2 and spec.knowledge == tuple(notes) and notes
        for note in notes:
            assert note in spec.brief(0).instructions
            assert note not in spec.brief(1).instructions and note not in corpus
            assert note not in json.dumps(spec.public)
    else:
        assert len(spec.sessions) == 1 and spec.knowledge == ()
        assert all(note in spec.instructions for note in notes)
    truth = [tuple(v) for v in p["violations"]]
    k = p["max_errors"]
    assert k == {1: 0, 2: 0, 3: 1, 4: 1, 5: 2}[difficulty] and len(truth) >= k + 2

    def answer(pairs):
        return world_of(spec, [submit({"violations": [{"document": d, "rule": r} for d, r in pairs]})])

    naive = [tuple(v) for v in p["naive_violations"]]
    if p["notes"]:
        assert not passes(answer(naive), spec)  # reading the rules without the notes fails
    assert passes(answer(truth[k:]), spec)
    assert not passes(answer(truth[k + 1:]), spec)
    extra = [(d, r) for d in p["documents"] for r in sorted(p["rules"]) if (d, r) not in truth][: k + 1]
    assert not passes(answer(truth + extra), spec)
    assert passes(answer(truth + extra[:k]), spec)
    # formatting a human would use is fine
    loose = [{"document": f"./{d}", "rule": r.lower()} for d, r in truth]
    assert passes(world_of(spec, [submit({"violations": loose})]), spec)


@pytest.mark.parametrize("difficulty", range(1, 6))
def test_policy_rules_file_is_numbered_and_documents_are_mixed(difficulty):
    spec = spec_for(POLICY, difficulty, 2)
    world = world_of(spec)
    rules = world.workspace.read(policy_check.RULES_PATH)
    for rid in spec.params["rules"]:
        assert f"\n{rid}. " in rules
    assert len(spec.params["rules"]) == policy_check.N_RULES[difficulty]
    flagged = {d for d, _ in spec.params["violations"]}
    assert set(spec.params["documents"]) - flagged  # some documents are compliant


# -- public / private ---------------------------------------------------------------------
@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES[::2])
def test_brief_holds_only_public_knowledge(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    text = " ".join(spec.brief(k).instructions for k in range(len(spec.sessions))) + json.dumps(spec.public)
    p = spec.params
    if name == EXTRACT:
        assert set(spec.public) == {"inbox", "output", "header"}
        for path, fields in p["rows"].items():
            assert path not in text
            for value in list(fields.values())[1:]:
                assert value not in text
    else:
        assert set(spec.public) == {"rules", "docs", "answer_format"}
        for doc in p["documents"]:
            assert doc not in text
    dumped = spec.brief(0).model_dump_json()
    assert "gold" not in dumped and "violations\": [[" not in dumped


def test_registered_checkers_and_families():
    assert {"doc_fields_csv", "doc_files_unchanged", "policy_violations"} <= set(CHECKERS.names())
    assert get_family(EXTRACT).category == get_family(POLICY).category == "document_processing"


@pytest.mark.parametrize("name", NAMES)
def test_generate_rejects_bad_params(name):
    fam = get_family(name)
    good = fam.sample_params(np.random.Generator(np.random.PCG64(1)), 3)
    with pytest.raises(Exception, match="lack"):
        fam.generate("bad", {"difficulty": 3}, 1)
    with pytest.raises(Exception, match="must"):
        fam.generate("bad", {**good, "n_docs": 1}, 1)


def test_policy_checker_refuses_malformed_answers():
    fn = get_checker("policy_violations")
    truth = [["docs/a.md", "R1"], ["docs/b.md", "R2"]]
    for answer in (None, {}, {"violations": "all"}, {"violations": [{"document": "docs/a.md"}]},
                   {"violations": [{"document": "docs/a.md", "rule": "first"}]}, {"violations": []}):
        world = World.from_snapshot({"files": {}, "submission": answer})
        assert not fn(world, None, violations=truth, max_errors=5)[0]
    ok = {"violations": [{"document": "docs/a.md", "rule": "Rule 1"}, {"document": "docs\\b.md", "rule": " r2 "}]}
    assert fn(World.from_snapshot({"files": {}, "submission": ok}), None, violations=truth)[0]
