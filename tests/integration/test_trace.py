"""``harness trace``: a stored episode re-run from the store alone reproduces its row, its
observability record is shown as DOT or drawn, bad input is a short exit-2 message, and an
episode that no longer comes out as stored is refused."""

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.cli.trace_cmd import EpisodeRef
from harness.core.errors import UserInputError
from harness.experiment.rerun import differing_columns, rerun_episode
from harness.paper.dag import draw_dag
from harness.runtime.observability.base import ActionEvent, ReasoningTrace
from harness.runtime.observability.causal import CausalLayer
from harness.runtime.observability.textlog import TextLogLayer
from harness.store import reader
from tests.conftest import run_cli

SMALL = ["experiment=smoke", "workload.limit=4", "repeats=1", "executor.workers=1"]
ACTION_COLUMNS = ["seq", "parent", "tool", "ok", "accurate", "sim_minutes"]
PNG_MAGIC, PDF_MAGIC = b"\x89PNG\r\n\x1a\n", b"%PDF"
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
STATEMENT = re.compile(r"^(\w+=\w+|\w+ \[[^\]]*\]|\w+ -> \w+( \[[^\]]*\])?);$")


def parse_digraph(dot: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A strict reading of the DOT subset the harness writes: ``digraph NAME { ... }`` with one
    statement a line; returns (node ids, edges). Anything else fails the test."""
    lines = QUOTED.sub('""', dot).strip().splitlines()  # labels may hold braces and arrows
    assert re.fullmatch(r"digraph \w+ \{", lines[0]) and lines[-1] == "}", dot[:200]
    nodes, edges = [], []
    for line in (x.strip() for x in lines[1:-1]):
        assert STATEMENT.match(line), line
        if "->" in line:
            a, _, rest = line.partition(" -> ")
            edges.append((a, re.match(r"\w+", rest).group()))
        elif "[" in line and not line.startswith(("node ", "edge ", "graph ")):
            nodes.append(line.split(" ", 1)[0])
    return nodes, edges


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("trace") / "smoke.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    return db, reader.latest_run(db)


def _keys(db, run_id, condition=None):
    ep = reader.episodes(db, run_id)
    if condition is not None:
        ep = ep[ep.condition == condition]
    return [(r.condition, r.task_id, int(r.repeat)) for r in ep.itertuples()]


def _failed_first(db, run_id, condition):
    """A failed episode of ``condition`` when there is one (the figure's subject), else any."""
    ep = reader.episodes(db, run_id)
    ep = ep[ep.condition == condition].sort_values(["success", "task_id"])
    r = ep.iloc[0]
    return r["condition"], r["task_id"], int(r["repeat"])


# -- re-run --------------------------------------------------------------------------------
@pytest.mark.slow
def test_rerun_reproduces_every_stored_row_and_action(store):
    db, run_id = store
    stored = {tuple(r[:3]): tuple(r) for r in reader.deterministic_episode_rows(db, run_id)}
    acts = reader.actions(db, run_id)
    assert len(stored) == 8
    for key in stored:
        again = rerun_episode(db, run_id, *key)
        assert differing_columns(stored[key], again.episode) == []
        mine = acts[(acts.condition == key[0]) & (acts.task_id == key[1]) & (acts.repeat == key[2])]
        assert [a.model_dump(include=set(ACTION_COLUMNS)) for a in again.actions] == \
            mine[ACTION_COLUMNS].to_dict("records")
        assert again.record is not None and again.record["variant"] in ("causal", "textlog")


@pytest.mark.slow
def test_causal_record_has_one_node_per_stored_action(store):
    db, run_id = store
    key = _failed_first(db, run_id, "agent_native")
    again = rerun_episode(db, run_id, *key)
    nodes = again.record["nodes"]
    assert again.record["variant"] == "causal"
    assert [(n["seq"], n["parent"], n["tool"], n["ok"]) for n in nodes] == \
        [(a.seq, a.parent, a.tool, a.ok) for a in again.actions]


@pytest.mark.slow
def test_tampered_row_is_refused(store, tmp_path):
    db, run_id = store
    copy = tmp_path / "tampered.duckdb"
    shutil.copy(db, copy)
    condition, task_id, repeat = _keys(db, run_id, "agent_native")[0]
    con = duckdb.connect(str(copy))
    con.execute("UPDATE episodes SET actions = actions + 1 WHERE run_id = ? AND condition = ? AND task_id = ? "
                "AND repeat = ?", [run_id, condition, task_id, repeat])
    con.close()
    with pytest.raises(UserInputError) as err:
        rerun_episode(copy, run_id, condition, task_id, repeat)
    assert "actions" in err.value.message and "code changed" in err.value.hint
    assert "tool_calls" not in err.value.message  # only the column that differs is named
    proc = run_cli("trace", f"{run_id}:{condition}:{task_id}:{repeat}", "--db", str(copy))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "columns differ: actions" in proc.stderr and proc.stdout == ""


@pytest.mark.slow
def test_rerun_applies_the_runs_fault_model(tmp_path):
    """The conditions table keeps each condition's own spec; the run's fault model is merged
    in as the runner does, or crashing episodes would not come out as stored."""
    db = tmp_path / "faults.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}", "faults.crash_rate=0.08", "faults.transient_failure_rate=0.08")
    assert proc.returncode == 0, proc.stderr
    run_id = reader.latest_run(db)
    ep = reader.episodes(db, run_id)
    assert (ep.crashes + ep.transient_failures).sum() > 0  # the faults did something
    for key in _keys(db, run_id):
        assert rerun_episode(db, run_id, *key).episode.world_digest


# -- the command ---------------------------------------------------------------------------
@pytest.mark.slow
def test_dot_is_a_digraph_with_one_node_per_action(store):
    db, run_id = store
    condition, task_id, repeat = _failed_first(db, run_id, "agent_native")
    proc = run_cli("trace", f"{condition}:{task_id}:{repeat}", "--db", str(db))  # latest run
    assert proc.returncode == 0, proc.stderr
    nodes, edges = parse_digraph(proc.stdout)
    stored = reader.actions(db, run_id)
    n = int(((stored.condition == condition) & (stored.task_id == task_id) & (stored.repeat == repeat)).sum())
    assert n > 0
    assert nodes == [f"a{i}" for i in range(n)]
    seqs = [(int(a[1:]), int(b[1:])) for a, b in edges]
    assert all(0 <= a < b < n for a, b in seqs)  # only earlier -> later: acyclic
    assert len(seqs) >= n - 1  # every action but the first has its parent


@pytest.mark.slow
def test_dot_of_a_text_log_is_a_single_chain(store):
    db, run_id = store
    condition, task_id, repeat = _failed_first(db, run_id, "human")
    proc = run_cli("trace", f"{run_id}:{condition}:{task_id}:{repeat}", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    nodes, edges = parse_digraph(proc.stdout)
    assert len(nodes) >= 2 and nodes == [f"l{i}" for i in range(len(nodes))]
    assert edges == [(f"l{i}", f"l{i + 1}") for i in range(len(nodes) - 1)]


@pytest.mark.slow
@pytest.mark.parametrize("condition", ["agent_native", "human"])
def test_the_dot_title_is_the_verdict(store, condition):
    """Not "submitted" for a failed episode: success or FAILURE first, then how it ended."""
    db, run_id = store
    _, task_id, repeat = _failed_first(db, run_id, condition)
    proc = run_cli("trace", f"{run_id}:{condition}:{task_id}:{repeat}", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    ep = reader.episodes(db, run_id).set_index(["condition", "task_id", "repeat"]).loc[(condition, task_id, repeat)]
    title = next(line for line in proc.stdout.splitlines() if line.strip().startswith("graph [label="))
    assert f"{'success' if ep.success else 'FAILURE'} ({ep.termination}), checks " in title


@pytest.mark.slow
def test_svg_is_laid_out_by_dot(store, tmp_path):
    db, run_id = store
    _, task_id, repeat = _failed_first(db, run_id, "agent_native")
    proc = run_cli("trace", f"{run_id}:agent_native:{task_id}:{repeat}", "--db", str(db), "--format", "svg",
                   "--out", str(tmp_path))
    if shutil.which("dot") is None:
        assert proc.returncode == 2 and "dot" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    text = Path(proc.stdout.strip()).read_text(encoding="utf-8")
    assert text.startswith("<svg") and "checks" in text


@pytest.mark.slow
@pytest.mark.parametrize("condition", ["agent_native", "human"])
def test_png_and_pdf_are_written(store, tmp_path, condition):
    db, run_id = store
    _, task_id, repeat = _failed_first(db, run_id, condition)
    proc = run_cli("trace", f"{run_id}:{condition}:{task_id}:{repeat}", "--db", str(db), "--format", "png",
                   "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    paths = sorted(proc.stdout.split())
    assert [p.rsplit(".", 1)[1] for p in paths] == ["pdf", "png"]
    pdf, png = (open(p, "rb").read() for p in paths)  # noqa: SIM115 - read whole, closed by gc
    assert pdf.startswith(PDF_MAGIC) and png.startswith(PNG_MAGIC) and len(png) > 5000


@pytest.mark.slow
@pytest.mark.parametrize("episode, says", [
    ("a:b:c:d:0", "malformed EPISODE"),
    ("nope-run:agent_native:fix_bug-0029:0", "unknown run 'nope-run'"),
    ("no_such_condition:fix_bug-0029:0", "conditions: agent_native, human"),
])
def test_bad_episode_exits_2_naming_what_exists(store, episode, says):
    db, _ = store
    proc = run_cli("trace", episode, "--db", str(db))
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3 and proc.stdout == ""


@pytest.mark.parametrize("episode, says", [
    ("agent_native:fix_bug-0029", "malformed EPISODE"),
    ("agent_native::0", "malformed EPISODE"),
    ("agent_native:fix_bug-0029:x", "REPEAT must be a number"),
    ("agent_native:fix_bug-0029:-1", "REPEAT must be a number"),
])
def test_malformed_episode(episode, says):
    with pytest.raises(UserInputError, match=says) as err:
        EpisodeRef.parse(episode)
    assert "RUN_ID:CONDITION:TASK_ID:REPEAT" in err.value.hint


@pytest.mark.slow
@pytest.mark.parametrize("which, says", [
    ("task", "has no task 'no_such_task'"),
    ("repeat", "has no repeat 7"),
])
def test_unknown_task_or_repeat_names_what_exists(store, which, says):
    db, run_id = store
    _, task, _ = _keys(db, run_id, "agent_native")[0]
    key = ("agent_native", "no_such_task", 0) if which == "task" else ("agent_native", task, 7)
    with pytest.raises(UserInputError, match=says) as err:
        rerun_episode(db, run_id, *key)
    assert (task in err.value.hint) if which == "task" else (err.value.hint == "repeats: 0..0")


# -- pieces --------------------------------------------------------------------------------
names = st.text(st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), min_size=1, max_size=12)


@given(run=st.none() | names, condition=names, task=names, repeat=st.integers(0, 10**6))
def test_episode_ref_round_trips(run, condition, task, repeat):
    text = ":".join(([run] if run is not None else []) + [condition, task, str(repeat)])
    assert EpisodeRef.parse(text) == EpisodeRef(run, condition, task, repeat)


def _synthetic_causal() -> dict:
    layer = CausalLayer()
    for i in range(13):
        if i % 4 == 0:
            layer.think(ReasoningTrace(step="look first"))
        layer.record(ActionEvent(tool="apply_patch" if i % 3 == 0 else "read_file", ok=i != 5, line="ab"[i % 2],
                                 session=i // 7, deps=(i - 3,) if i >= 3 and i % 3 == 0 else (),
                                 summary="echo $HOME {x}"))
    return layer.export()


def _synthetic_log(n: int) -> dict:
    layer = TextLogLayer()
    for i in range(n):
        layer.record(ActionEvent(tool="shell", args={"command": f"cat $f_{i} | grep '^x'"}, sim_minutes=i))
    return layer.export()


@pytest.mark.parametrize("record", [_synthetic_causal(), _synthetic_log(3), _synthetic_log(120),
                                    {"variant": "causal", "nodes": []}, {"variant": "textlog", "lines": []}],
                         ids=["dag", "short-log", "long-log", "empty-dag", "empty-log"])
def test_draw_dag_writes_both_files(tmp_path, record):
    paths = draw_dag(record, tmp_path / "sub" / "ep.r0", "title with $dollars$")
    assert [p.name for p in paths] == ["ep.r0.pdf", "ep.r0.png"]
    assert paths[0].read_bytes().startswith(PDF_MAGIC) and paths[1].read_bytes().startswith(PNG_MAGIC)


def test_draw_dag_grows_with_the_record(tmp_path):
    from PIL import Image

    small = draw_dag(_synthetic_log(3), tmp_path / "small", "t")[1]
    big = draw_dag(_synthetic_log(30), tmp_path / "big", "t")[1]
    (w1, h1), (w2, h2) = Image.open(small).size, Image.open(big).size
    assert w1 == w2 == 1400 and h2 > h1  # 7 in at 200 dpi, taller for more lines


def test_draw_dag_rejects_an_unknown_variant(tmp_path):
    with pytest.raises(ValueError, match="no drawing for observability variant 'spans'"):
        draw_dag({"variant": "spans"}, tmp_path / "x", "t")
    assert not list(tmp_path.iterdir())


def test_draw_dag_is_byte_identical_when_redrawn(tmp_path):
    first = [p.read_bytes() for p in draw_dag(_synthetic_causal(), tmp_path / "a", "t")]
    second = [p.read_bytes() for p in draw_dag(_synthetic_causal(), tmp_path / "b", "t")]
    assert first == second
