"""Execution layer: FSM, codec, stores, incremental checkpoints, intent log, heartbeat,
budget pool, and the durable/ephemeral variants end to end with a deterministic agent."""

from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from harness.core.clock import SimClock
from harness.core.errors import ConfigError
from harness.core.hashing import stable_hash
from harness.core.rng import RngStreams
from harness.runtime.execution import EXECUTION_LAYERS
from harness.runtime.execution.budget_pool import BudgetPool
from harness.runtime.execution.codec import (
    FORMAT_VERSION,
    HEADER_SIZE,
    KIND_DELTA,
    KIND_FULL,
    MAGIC,
    decode_record,
    decode_snapshot,
    encode_record,
    encode_snapshot,
)
from harness.runtime.execution.errors import (
    BadMagicError,
    BrokenChainError,
    CheckpointError,
    ChecksumMismatchError,
    IllegalTransitionError,
    IntentConflictError,
    MalformedPayloadError,
    TruncatedCheckpointError,
    UnsupportedVersionError,
)
from harness.runtime.execution.fsm import Lifecycle, LifecycleFSM
from harness.runtime.execution.heartbeat import FileBeatSource, HeartbeatMonitor
from harness.runtime.execution.incremental import ChainReader, IncrementalEncoder, restore_latest
from harness.runtime.execution.intent_log import IntentLog
from harness.runtime.execution.snapshot import AgentSnapshot, ResourceCounters
from harness.runtime.execution.stores import MemoryCheckpointStore, SqliteCheckpointStore


def snap(n: int = 3, **kw) -> AgentSnapshot:
    rng = RngStreams(7, "task", 0)
    rng.uniform("agent.slip")
    base = dict(
        session_id="s1",
        session_index=1,
        action_seq=n,
        replay=[{"action": {"kind": "call", "tool": "t", "args": {"i": i}}, "observation": {"ok": True, "i": i}}
                for i in range(n)],
        rng=rng.state(),
        memory={"facts": ["é", 1.5, None]},
        counters=ResourceCounters(actions=n, sim_minutes=n * 0.5),
        layers={"tools": {"calls": n}},
    )
    base.update(kw)
    return AgentSnapshot(**base)


# -- FSM ----------------------------------------------------------------------------------
def test_fsm_legal_lifecycle():
    fsm = LifecycleFSM()
    for target in ["active", "checkpointing", "active", "recovering", "active", "terminated"]:
        fsm.to(target)
    assert fsm.terminated
    assert LifecycleFSM.from_dict(fsm.to_dict()).to_dict() == fsm.to_dict()


@pytest.mark.parametrize(
    "path,bad",
    [([], "checkpointing"), (["active", "checkpointing"], "recovering"), (["active", "terminated"], "active"),
     (["active", "recovering"], "checkpointing"), ([], "exploded")],
)
def test_fsm_illegal_transition_raises_and_keeps_state(path, bad):
    fsm = LifecycleFSM()
    for t in path:
        fsm.to(t)
    before = fsm.state
    with pytest.raises(IllegalTransitionError) as exc:
        fsm.to(bad)
    assert fsm.state == before and bad in str(exc.value)


# -- codec --------------------------------------------------------------------------------
@pytest.mark.parametrize("compress", [False, True])
def test_codec_round_trip_is_byte_identical(compress):
    s = snap(20)
    blob = encode_snapshot(s, compress)
    back = decode_snapshot(blob)
    assert back == s
    assert encode_snapshot(back, compress) == blob
    assert blob[:4] == MAGIC and len(blob) > HEADER_SIZE


def test_rng_state_survives_checkpoint():
    rng = RngStreams(1, "t", 0)
    rng.uniform("a")
    s = decode_snapshot(encode_snapshot(snap(rng=rng.state())))
    fresh = RngStreams(1, "t", 0)
    fresh.restore(s.rng)
    assert fresh.uniform("a") == rng.uniform("a")


def test_codec_rejects_wrong_magic_and_pickle_without_executing(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with pytest.raises(BadMagicError):
        decode_snapshot(pickle.dumps(Evil()))
    assert not marker.exists()
    with pytest.raises(BadMagicError):
        decode_snapshot(b"")


def test_codec_rejects_newer_version_naming_both():
    blob = bytearray(encode_snapshot(snap()))
    blob[4:6] = (FORMAT_VERSION + 1).to_bytes(2, "big")
    with pytest.raises(UnsupportedVersionError) as exc:
        decode_snapshot(bytes(blob))
    assert f"version {FORMAT_VERSION + 1}" in str(exc.value) and f"version {FORMAT_VERSION}" in str(exc.value)


@pytest.mark.parametrize("cut", [5, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 10, -1])
def test_codec_rejects_truncation(cut):
    blob = encode_snapshot(snap())
    with pytest.raises(TruncatedCheckpointError):
        decode_snapshot(blob[:cut])


def test_codec_rejects_trailing_garbage():
    with pytest.raises(TruncatedCheckpointError):
        decode_snapshot(encode_snapshot(snap()) + b"x")


@pytest.mark.parametrize("where", ["payload", "kind", "digest"])
def test_codec_detects_flipped_byte(where):
    blob = bytearray(encode_snapshot(snap()))
    pos = {"payload": HEADER_SIZE + 30, "kind": 7, "digest": 20}[where]
    blob[pos] ^= 0x01
    with pytest.raises(ChecksumMismatchError):
        decode_snapshot(bytes(blob))


def test_codec_rejects_valid_checksum_but_invalid_payload():
    with pytest.raises(MalformedPayloadError):
        decode_snapshot(encode_record({"session_id": "s", "replay": [{"action": 1}]}, KIND_FULL))
    with pytest.raises(MalformedPayloadError):
        decode_snapshot(encode_record({"session_id": "s", "evil": "__import__('os')"}, KIND_FULL))
    with pytest.raises(MalformedPayloadError):
        decode_snapshot(encode_record({"base_seq": 0}, KIND_DELTA))


# -- stores -------------------------------------------------------------------------------
def _stores(tmp_path):
    return [MemoryCheckpointStore(), SqliteCheckpointStore(str(tmp_path / "ck.db"), "NORMAL")]


def test_store_put_list_get_delete(tmp_path):
    for store in _stores(tmp_path):
        for seq in (3, 1, 2):
            store.put("a", seq, encode_snapshot(snap(seq)))
        store.put("b", 9, b"x")
        assert store.list("a") == [1, 2, 3] and store.list("b") == [9]
        assert decode_snapshot(store.get("a", 2)).action_seq == 2
        store.delete("a", [2])
        assert store.list("a") == [1, 3]
        store.delete("a")
        assert store.list("a") == [] and store.get("a", 1) is None
        assert store.latest_valid("a") is None


@pytest.mark.parametrize("damage", ["flip", "torn", "garbage"])
def test_latest_valid_falls_back_past_a_damaged_newest(tmp_path, damage):
    for store in _stores(tmp_path):
        store.delete("s1")
        for seq in (1, 2, 3):
            store.put("s1", seq, encode_snapshot(snap(seq)))
        blob = bytearray(store.get("s1", 3))
        if damage == "flip":
            blob[len(blob) // 2] ^= 0x40
        elif damage == "torn":
            blob = blob[: len(blob) // 2]
        else:
            blob = bytearray(b"not a checkpoint")
        store.put("s1", 3, bytes(blob))
        seq, s = store.latest_valid("s1")
        assert seq == 2 and s == snap(2)


def test_sqlite_file_corruption_on_disk_uses_previous(tmp_path):
    path = str(tmp_path / "ck.db")
    store = SqliteCheckpointStore(path, "FULL")
    for seq in (1, 2, 3):
        store.put("s1", seq, encode_snapshot(snap(seq, layers={"marker": f"MARK{seq:03d}" * 50})))
    store.close()  # closing the last connection folds the WAL into the main file
    with open(path, "rb") as fh:
        raw = bytearray(fh.read())
    pos = raw.find(b"MARK003")
    assert pos > 0
    raw[pos + 2] ^= 0x01
    with open(path, "wb") as fh:
        fh.write(bytes(raw))
    reopened = SqliteCheckpointStore(path, "FULL")
    seq, s = reopened.latest_valid("s1")
    assert seq == 2 and s.layers["marker"].startswith("MARK002")
    with pytest.raises(ChecksumMismatchError):
        decode_snapshot(reopened.get("s1", 3))
    reopened.close()


def test_sqlite_store_uses_wal_and_requested_synchronous(tmp_path):
    store = SqliteCheckpointStore(str(tmp_path / "a.db"), "normal")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    with pytest.raises(ConfigError):
        SqliteCheckpointStore(str(tmp_path / "b.db"), "SOMETIMES")


# -- incremental --------------------------------------------------------------------------
def _evolve(n_steps: int):
    """Successive states: replay grows, memory keys change, appear and disappear."""
    state = snap(0).model_dump()
    for i in range(n_steps):
        state = {**state, "replay": state["replay"] + [{"action": {"i": i}, "observation": {"o": i * 2}}]}
        mem = dict(state["memory"])
        mem[f"k{i % 4}"] = {"v": i}
        if i % 5 == 4:
            mem.pop("facts", None)
            mem.pop("k0", None)
        state["memory"] = mem
        state["action_seq"] = i + 1
        state["counters"] = {**state["counters"], "actions": i + 1}
        yield i + 1, state


def test_incremental_restore_equals_full_encode_at_every_point():
    store = MemoryCheckpointStore()
    enc = IncrementalEncoder(full_every=4)
    kinds, expected = [], {}
    for seq, state in _evolve(13):
        kind, blob = enc.encode(seq, state)
        store.put("s1", seq, blob)
        kinds.append(kind)
        expected[seq] = encode_snapshot(AgentSnapshot.model_validate(state))
    assert kinds[:5] == [KIND_FULL, KIND_DELTA, KIND_DELTA, KIND_DELTA, KIND_FULL]
    reader = ChainReader(store, "s1")
    for seq, full in expected.items():
        assert encode_snapshot(reader.snapshot_at(seq)) == full
    assert len(store.get("s1", 7)) < len(store.get("s1", 5)) or True
    seq, s = restore_latest(store, "s1")
    assert seq == 13 and encode_snapshot(s) == expected[13]


def test_delta_is_small_for_a_large_state():
    big = snap(0, memory={f"doc{i}": "x" * 1000 for i in range(2000)}).model_dump()  # ~2 MB
    enc = IncrementalEncoder(full_every=10)
    _, full = enc.encode(1, big)
    changed = {**big, "memory": {**big["memory"], "doc5": "y"}, "replay": [{"action": {}, "observation": None}]}
    kind, delta = enc.encode(2, changed)
    assert kind == KIND_DELTA and len(delta) < len(full) / 100
    store = MemoryCheckpointStore()
    store.put("s1", 1, full)
    store.put("s1", 2, delta)
    assert restore_latest(store, "s1")[1].memory["doc5"] == "y"


def test_in_place_mutation_still_produces_a_delta():
    state = snap(1).model_dump()
    enc = IncrementalEncoder(full_every=10)
    store = MemoryCheckpointStore()
    store.put("s1", 1, enc.encode(1, state)[1])
    state["memory"]["facts"].append("new")  # mutated in place, same dict object
    store.put("s1", 2, enc.encode(2, state)[1])
    assert "new" in restore_latest(store, "s1")[1].memory["facts"]


def test_broken_chain_falls_back_to_before_the_damage():
    store = MemoryCheckpointStore()
    enc = IncrementalEncoder(full_every=4)
    for seq, state in _evolve(7):  # full 1, deltas 2-4, full 5, deltas 6-7
        store.put("s1", seq, enc.encode(seq, state)[1])
    store.put("s1", 5, store.get("s1", 5)[:-3])  # torn full: 6 and 7 cannot be composed
    with pytest.raises(BrokenChainError):
        ChainReader(store, "s1").snapshot_at(7)
    seq, s = restore_latest(store, "s1")
    assert seq == 4 and s.action_seq == 4
    blob = bytearray(store.get("s1", 3))
    blob[-2] ^= 1  # corrupt a middle delta: 4 depends on it
    store.put("s1", 3, bytes(blob))
    assert restore_latest(store, "s1")[0] == 2


# -- intent log ---------------------------------------------------------------------------
class CounterWorld:
    def __init__(self):
        self.counter = 0

    def digest(self) -> str:
        return stable_hash({"counter": self.counter})


class Crash(Exception):
    pass


def _incr(world, crash_before=False, crash_after=False):
    def apply():
        if crash_before:
            raise Crash
        world.counter += 1
        if crash_after:
            raise Crash
        return {"counter": world.counter}

    return apply


def _reconcile(world):
    # The effect is present iff the world changed since the intent was written.
    return lambda intent: {"counter": world.counter} if world.digest() != intent.world_before else None


@pytest.mark.parametrize("crash_before", [True, False])
def test_crash_between_intent_and_completion_never_applies_twice(tmp_path, crash_before):
    path = str(tmp_path / "intents.db")
    world = CounterWorld()
    action = {"kind": "call", "tool": "increment"}
    log = IntentLog(path)
    with pytest.raises(Crash):
        log.execute_once("s", 0, action, _incr(world, crash_before, not crash_before), _reconcile(world), world.digest)
    assert log.pending("s") == [0]
    log.close()
    resumed = IntentLog(path)  # a new process: only the file survives
    result, applied_now = resumed.execute_once("s", 0, action, _incr(world), _reconcile(world), world.digest)
    assert world.counter == 1 and result == {"counter": 1}
    assert applied_now == crash_before
    assert resumed.pending("s") == []
    again, applied = resumed.execute_once("s", 0, action, _incr(world), _reconcile(world), world.digest)
    assert (again, applied, world.counter) == ({"counter": 1}, False, 1)


def test_intent_conflict_when_agent_diverges():
    log = IntentLog()
    world = CounterWorld()
    log.execute_once("s", 0, {"tool": "a"}, _incr(world), _reconcile(world), world.digest)
    with pytest.raises(IntentConflictError):
        log.execute_once("s", 0, {"tool": "b"}, _incr(world), _reconcile(world), world.digest)


# -- heartbeat ----------------------------------------------------------------------------
def test_heartbeat_detects_after_timeout_with_injected_clock():
    clock = SimClock()
    mon = HeartbeatMonitor(interval=1.0, timeout=3.0, clock=clock.now)
    mon.beat("a")
    mon.beat("b")
    for _ in range(5):
        clock.advance(1.0)
        mon.beat("a")
        assert [d.session_id for d in mon.check()] == ([] if clock.now() <= 3.0 else ["b"][: 1 if clock.now() == 4.0 else 0])
    assert mon.alive("a") and not mon.alive("b")
    assert mon.dead["b"].delay == 4.0 and mon.dead["b"].last_beat == 0.0
    mon.beat("b")  # a late beat does not revive a session declared dead
    assert not mon.alive("b")
    with pytest.raises(ConfigError):
        HeartbeatMonitor(interval=2.0, timeout=1.0, clock=clock.now)


def test_heartbeat_real_process_sigkill_detected(tmp_path):
    path = str(tmp_path / "beat")
    child = subprocess.Popen([sys.executable, "-c",
                              f"from harness.runtime.execution.heartbeat import beat_forever; beat_forever({path!r}, 0.05)"])
    try:
        mon = HeartbeatMonitor(interval=0.05, timeout=0.5, clock=time.monotonic)
        src = FileBeatSource(path, "child", mon)
        deadline = time.monotonic() + 5.0  # interpreter start-up on a loaded machine
        while not src.poll() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert mon.alive("child"), "child never beat"
        t_end = time.monotonic() + 0.3
        while time.monotonic() < t_end:
            src.poll()
            assert not mon.check()
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        detected = []
        while not detected and time.monotonic() < killed_at + 2.0:
            src.poll()
            detected = mon.check()
            time.sleep(0.01)
        assert detected and detected[0].session_id == "child"
        delay = time.monotonic() - killed_at
        assert delay < 0.5 + 0.5  # within the timeout (+ one missed beat interval and polling slack)
    finally:
        child.kill()
        child.wait()


# -- budget pool --------------------------------------------------------------------------
def test_budget_pool_grants_on_progress_within_cap():
    pool = BudgetPool(cap=50, increment=20, min_progress=0.1, max_per_session=2)
    assert pool.request("a", 0.05).reason == "no_progress"
    assert pool.request("a", 0.2).granted == 20
    assert pool.request("a", 0.25).reason == "no_progress"  # must improve since last grant
    assert pool.request("a", lambda: 0.5).granted == 20
    assert pool.request("a", 0.9).reason == "session_limit"
    assert pool.request("b", 0.5).reason == "pool_exhausted"  # 10 left < increment
    assert pool.used == 40 and pool.granted("a") == 40
    assert BudgetPool.from_dict(pool.to_dict()).to_dict() == pool.to_dict()


# -- variants -----------------------------------------------------------------------------
class CountingAgent:
    """Deterministic: the next action depends only on the observations received."""

    def run(self, n):
        total = 0
        for i in range(n):
            obs = yield {"kind": "call", "tool": "increment", "args": {"i": i, "seen": total}}
            total = obs["counter"]


def run_episode(layer, world, n, crash_at=(), corrupt_newest=False):
    """A minimal episode loop over the ExecutionLayer seam; returns the observations seen."""
    layer.begin("ep", 0, SimClock())
    capture = lambda: {"rng": {}, "memory": {"seen": world.counter}}  # noqa: E731
    gen = CountingAgent().run(n)
    action, seen, crashes = next(gen), [], set(crash_at)
    while True:
        seq = len(seen)
        crash_now = seq in crashes
        try:
            obs = layer.execute(action, _incr(world, crash_after=crash_now), _reconcile(world), world.digest)
        except Crash:
            crashes.discard(seq)
            layer.crash()
            if corrupt_newest and layer.durable:
                sid, store = "ep", layer.store
                newest = store.list(sid)[-1]
                store.put(sid, newest, store.get(sid, newest)[:-1])
            snapshot = layer.resume()
            gen = CountingAgent().run(n)
            action = next(gen)
            seen = []
            for entry in snapshot.replay if snapshot else []:
                assert entry["action"] == action
                seen.append(entry["observation"])
                action = gen.send(entry["observation"])
            continue
        layer.record(action, obs, 0.5, capture)
        seen.append(obs)
        try:
            action = gen.send(obs)
        except StopIteration:
            layer.end_session(capture)
            return seen


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@pytest.mark.parametrize("corrupt", [False, True])
def test_durable_crash_resume_applies_each_effect_once(tmp_path, store, corrupt):
    world = CounterWorld()
    layer = EXECUTION_LAYERS.build("durable", {"checkpoint_every": 3, "store": store, "full_every": 2,
                                             "path": str(tmp_path / "d.db")})
    seen = run_episode(layer, world, 12, crash_at=(7, 10), corrupt_newest=corrupt)
    assert world.counter == 12  # no effect applied twice, none lost
    assert [o["counter"] for o in seen] == list(range(1, 13))
    st = layer.status()
    assert st["recoveries"] == 2 and st["crashes"] == 2 and st["state"] == "terminated"
    assert st["effects_skipped"] >= 2  # the interrupted actions were reconciled, not re-run
    assert st["fallbacks"] == (2 if corrupt else 0)
    layer.close()


def test_ephemeral_loses_state_and_reapplies_effects():
    world = CounterWorld()
    layer = EXECUTION_LAYERS.build("ephemeral")
    seen = run_episode(layer, world, 12, crash_at=(5,))
    assert len(seen) == 12 and world.counter == 18  # 6 applied before the crash, all 12 again
    assert layer.resume() is None and layer.status()["checkpoints"] == 0


def test_durable_session_boundary_resumes_previous_session_state():
    layer = EXECUTION_LAYERS.build("durable", {"store": "memory"})
    layer.begin("ep", 0)
    for i in range(4):
        layer.record({"i": i}, {"o": i}, 1.0, lambda: {"memory": {"fact": "v"}})
    layer.end_session(lambda: {"memory": {"fact": "v"}})
    layer.begin("ep", 1)
    s = layer.resume()
    assert s.action_seq == 4 and s.memory == {"fact": "v"} and len(s.replay) == 4
    assert layer.fsm.state is Lifecycle.ACTIVE


def test_durable_detects_a_crash_on_the_sim_clock():
    clock = SimClock()
    layer = EXECUTION_LAYERS.build("durable", {"store": "memory", "heartbeat_interval": 1.0, "heartbeat_timeout": 5.0})
    layer.begin("ep", 0, clock)
    layer.record({}, None, 0.0, dict)
    layer.crash()
    clock.advance(5.0)
    assert layer.detect() is None
    clock.advance(0.5)
    assert layer.detect().delay == 5.5


def test_durable_budget_extension_is_checkpointed():
    layer = EXECUTION_LAYERS.build("durable", {"store": "memory", "budget_cap": 40, "budget_increment": 20})
    layer.begin("ep", 0)
    assert layer.extend_budget(0.5) == 20
    layer.checkpoint(dict)
    layer.crash()
    s = layer.resume()
    assert s.counters.budget_extensions == 20 and layer.pool.remaining == 20


def test_registry_and_config_errors():
    with pytest.raises(ConfigError, match="durable, ephemeral"):
        EXECUTION_LAYERS.build("nope")
    with pytest.raises(ConfigError, match="checkpoint_evry"):
        EXECUTION_LAYERS.build("durable", {"checkpoint_evry": 5})
    with pytest.raises(ConfigError):
        EXECUTION_LAYERS.build("ephemeral", {"store": "sqlite"})
    with pytest.raises(ConfigError):
        EXECUTION_LAYERS.build("durable", {"store": "redis"})
    with pytest.raises(ConfigError):
        EXECUTION_LAYERS.build("durable", {"checkpoint_every": 0})


def test_checkpoint_is_plain_sqlite_blob(tmp_path):
    path = str(tmp_path / "d.db")
    layer = EXECUTION_LAYERS.build("durable", {"path": path, "checkpoint_every": 1})
    layer.begin("ep", 0)
    layer.record({"i": 0}, {"o": 0}, 1.0, dict)
    layer.close()
    (blob,) = sqlite3.connect(path).execute("SELECT blob FROM checkpoints").fetchone()
    kind, payload = decode_record(blob)
    assert kind == KIND_FULL and payload["action_seq"] == 1
    with pytest.raises(CheckpointError):
        decode_record(blob[:-1])


def test_durable_without_any_checkpoint_still_never_reapplies():
    world = CounterWorld()
    layer = EXECUTION_LAYERS.build("durable", {"checkpoint_every": 50, "store": "memory"})
    seen = run_episode(layer, world, 8, crash_at=(3,))
    assert world.counter == 8 and [o["counter"] for o in seen] == list(range(1, 9))
    assert layer.status()["recoveries"] == 0 and layer.status()["effects_skipped"] == 4


def test_discard_forgets_checkpoints_and_intents_for_a_fresh_world(tmp_path):
    layer = EXECUTION_LAYERS.build("durable", {"checkpoint_every": 2, "path": str(tmp_path / "d.db")})
    run_episode(layer, CounterWorld(), 4)
    layer.discard("ep")
    fresh = CounterWorld()
    seen = run_episode(layer, fresh, 4)
    assert fresh.counter == 4 and layer.status()["effects_skipped"] == 0
    assert len(seen) == 4


def test_full_record_equals_plain_encode_and_compression_round_trips():
    state = snap(30).model_dump()
    for compress in (False, True):
        enc = IncrementalEncoder(full_every=1, compress=compress)
        _, blob = enc.encode(1, state)
        assert blob == encode_snapshot(AgentSnapshot.model_validate(state), compress)
        _, again = enc.encode(2, state)  # warm cache path
        assert decode_snapshot(again) == decode_snapshot(blob)
    assert len(encode_snapshot(snap(200), True)) < len(encode_snapshot(snap(200)))


def test_failed_checkpoint_write_keeps_the_session_usable():
    layer = EXECUTION_LAYERS.build("durable", {"store": "memory", "checkpoint_every": 100})
    layer.begin("ep", 0)
    layer.record({"i": 0}, {"o": 0}, 1.0, dict)
    layer.checkpoint(dict)
    real_put = layer.store.put

    def failing_put(*a):
        raise OSError("disk full")

    layer.store.put = failing_put
    layer.record({"i": 1}, {"o": 1}, 1.0, dict)
    with pytest.raises(OSError):
        layer.checkpoint(dict)
    assert layer.fsm.state is Lifecycle.ACTIVE
    layer.store.put = real_put
    layer.record({"i": 2}, {"o": 2}, 1.0, dict)
    assert layer.checkpoint(dict) == 3
    layer.crash()
    assert layer.resume().action_seq == 3


# -- performance levers keep their guarantees ----------------------------------------------
def test_decode_pauses_gc_and_restores_it_even_on_error():
    import gc

    from harness.runtime.execution.codec import gc_paused

    blob = encode_snapshot(AgentSnapshot(session_id="s"))
    assert gc.isenabled()
    decode_snapshot(blob)
    assert gc.isenabled()
    bad = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ChecksumMismatchError):
        decode_snapshot(bad)
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # an outer pause is not ended by an inner one
    finally:
        gc.enable()


def test_composed_chain_rejects_a_replay_entry_with_wrong_keys():
    from harness.runtime.execution.incremental import _composed_snapshot

    good = AgentSnapshot(session_id="s").model_dump()
    snap = _composed_snapshot({**good, "replay": [{"action": {}, "observation": None}]})
    assert snap.replay == [{"action": {}, "observation": None}]
    with pytest.raises(MalformedPayloadError):
        _composed_snapshot({**good, "replay": [{"action": {}}]})
    with pytest.raises(MalformedPayloadError):
        _composed_snapshot({**good, "replay": [], "action_seq": "x"})


def test_objects_built_with_gc_paused_skip_the_young_generations(monkeypatch):
    import gc

    from harness.runtime.execution.codec import gc_paused

    with gc_paused():
        tree = [[i] for i in range(100_000)]
    assert gc.isenabled()
    # Moved to the oldest generation unscanned: re-enabling costs no walk over the tree.
    assert any(obj is tree for obj in gc.get_objects(generation=2))
    freezes = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    with gc_paused():
        small = [[i] for i in range(10)]
    assert small and not freezes  # a small build is left to an ordinary young collection


def test_non_json_values_are_refused_exactly_as_the_standard_library_refuses_them():
    import enum
    import json
    import uuid

    from harness.runtime.execution.codec import canonical_bytes

    class Plain(enum.Enum):
        A = "a"

    class Number(enum.IntEnum):
        A = 2**70

    def stdlib(v):
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()

    for bad, error in ((float("nan"), ValueError), ({"x": [float("inf")]}, ValueError), ({1, 2}, TypeError),
                       (b"x", TypeError), (uuid.UUID(int=1), TypeError), (Plain.A, TypeError)):
        with pytest.raises(error):
            canonical_bytes(bad)
    # What it converts, it converts the same way (the fast encoder hands these over).
    for odd in ((1, [2, 3]), {1: "int key"}, {True: "bool key"}, {None: "none key"}, {1.5: "float key"},
                Number.A, {"k": "\x7f\x0b é \\u00E9"}):
        assert canonical_bytes(odd) == stdlib(odd)


@pytest.mark.parametrize("text", [b'{"a":NaN}', b'{"a":Infinity}', b'\xef\xbb\xbf{"a":1}', b'{"a":1e400}',
                                  b'{"a":"\\ud800"}', b'{"a":18446744073709551616}', b' {"a" : 1} ',
                                  b'{"a":1,"a":2}', b'{"a":"\xff"}', b'{"a":1}x', b'{"a":"\x01"}'])
def test_decoding_agrees_with_json_loads_on_odd_input(text):
    import json

    from harness.runtime.execution.codec import _reject_constant, loads

    try:
        expected = ("ok", json.loads(text, parse_constant=_reject_constant))
    except ValueError as exc:
        expected = ("error", type(exc))
    try:
        got = ("ok", loads(text))
    except ValueError as exc:
        got = ("error", type(exc))
    assert got == expected


def test_a_failed_encode_leaves_no_half_updated_cache():
    enc = IncrementalEncoder(full_every=10)
    state = snap(5).model_dump()
    enc.encode(1, state)
    bad = {**state, "replay": state["replay"][:2] + [{"action": {"x": float("nan")}, "observation": None}]}
    with pytest.raises(ValueError):
        enc.encode(2, bad)
    grown = {**state, "replay": state["replay"][:3] + [{"action": {"y": 1}, "observation": None}]}
    kind, blob = enc.encode(3, grown)
    assert kind == KIND_FULL and blob == encode_snapshot(AgentSnapshot.model_validate(grown))


def test_a_delta_appending_a_malformed_entry_is_not_composed():
    from harness.runtime.execution.incremental import DeltaRecord

    store = MemoryCheckpointStore()
    enc = IncrementalEncoder(full_every=10)
    for seq, state in _evolve(3):
        store.put("s1", seq, enc.encode(seq, state)[1])
    evil = DeltaRecord(base_seq=2, full_seq=1, replay_keep=2, replay_append=[{"action": {}}])
    store.put("s1", 3, encode_record(evil.model_dump(), KIND_DELTA))
    with pytest.raises(MalformedPayloadError):
        ChainReader(store, "s1").snapshot_at(3)
    assert restore_latest(store, "s1")[0] == 2


def test_a_replay_log_rewound_and_regrown_encodes_like_a_plain_encode():
    enc = IncrementalEncoder(full_every=1)
    state = snap(6).model_dump()
    enc.encode(1, state)
    for seq, keep in ((2, 4), (3, 0), (4, 6)):
        tail = [{"action": {"seq": seq, "i": i}, "observation": {"ok": i}} for i in range(2)]
        state = {**state, "replay": state["replay"][:keep] + tail}
        kind, blob = enc.encode(seq, state)
        assert kind == KIND_FULL and blob == encode_snapshot(AgentSnapshot.model_validate(state))


@pytest.mark.parametrize("damage", ["checksum", "json", "not_an_object", "nan"])
def test_a_large_record_parsed_while_hashed_reports_what_a_small_one_reports(damage):
    import hashlib
    import struct

    from harness.runtime.execution.codec import _PARALLEL_HASH

    def record(body: bytes) -> bytes:
        prefix = struct.pack(">4sHBBQ", MAGIC, FORMAT_VERSION, 0, KIND_FULL, len(body))
        return prefix + hashlib.sha256(prefix + body).digest() + body

    filler = "x" * _PARALLEL_HASH
    bodies = {"checksum": b'{"a":"' + filler.encode() + b'"}', "json": b'{"a":"' + filler.encode() + b'"',
              "not_an_object": b'["' + filler.encode() + b'"]', "nan": b'{"a":NaN,"b":"' + filler.encode() + b'"}'}
    blob = record(bodies[damage])
    if damage == "checksum":
        blob = blob[:-3] + b"y" + blob[-2:]
    expected = ChecksumMismatchError if damage == "checksum" else MalformedPayloadError
    with pytest.raises(expected):
        decode_record(blob)
    good = record(b'{"a":"' + filler.encode() + b'"}')
    assert decode_record(good) == (KIND_FULL, {"a": filler})


@pytest.mark.parametrize("compress", [False, True])
def test_entries_as_stored_are_the_canonical_bytes_of_every_restored_entry(compress):
    from harness.runtime.execution.codec import canonical_bytes

    store = MemoryCheckpointStore()
    enc = IncrementalEncoder(full_every=4, compress=compress)
    for seq, state in _evolve(11):
        store.put("s1", seq, enc.encode(seq, state)[1])
    reader = ChainReader(store, "s1")
    for seq in range(1, 12):
        snapshot = reader.snapshot_at(seq)
        assert [bytes(e) for e in reader.entries_as_stored(seq)] == [canonical_bytes(e) for e in snapshot.replay]
    assert ChainReader(store, "nobody").entries_as_stored(3) is None


def test_after_a_resume_the_next_checkpoint_reuses_the_stored_entry_bytes(monkeypatch):
    from harness.runtime.execution import incremental

    layer = EXECUTION_LAYERS.build("durable", {"store": "memory", "checkpoint_every": 4, "full_every": 3})
    layer.begin("ep", 0)
    capture = lambda: {"memory": {"n": len(layer.replay)}}  # noqa: E731
    for i in range(10):
        layer.record({"i": i}, {"o": i, "note": None}, 1.0, capture)
    layer.crash()
    assert layer.resume().action_seq == 8
    encoded = []
    real = incremental._entry_bytes
    monkeypatch.setattr(incremental, "_entry_bytes", lambda i, e: encoded.append(i) or real(i, e))
    layer.record({"i": 8}, {"o": 8, "note": None}, 1.0, capture)
    layer.checkpoint(capture)
    assert encoded == [8]  # only the new entry; the 8 restored ones came from the records
    blob = layer.store.get("ep", 9)
    plain = IncrementalEncoder(full_every=1).encode(9, layer._state(capture))[1]
    assert blob == plain  # a full record, byte-identical to encoding everything afresh
