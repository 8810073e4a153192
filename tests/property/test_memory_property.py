"""Properties of the memory layer's parts, for arbitrary inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runtime.memory import MEMORY_LAYERS, InMemoryStore
from harness.runtime.memory.consolidation import LongTermMemory
from harness.runtime.memory.embedders import HashingEmbedder
from harness.runtime.memory.episodic import EpisodicBuffer, EpisodicItem
from harness.runtime.memory.working import WorkingMemory, _norm, count_tokens, split_sentences

WORD = st.sampled_from(
    ["alpha", "beta", "gamma", "delta", "db", "cache", "deploy", "west", "east", "the", "is", "a"]
)
SENTENCE = st.lists(WORD, min_size=1, max_size=8).map(lambda ws: " ".join(ws) + ".")
TEXT = st.lists(SENTENCE, min_size=1, max_size=4).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=12), budget=st.integers(1, 60), goal=TEXT)
def test_working_view_respects_budget_and_only_extracts(texts, budget, goal):
    wm = WorkingMemory(token_budget=budget)
    for i, t in enumerate(texts):
        wm.add(f"k{i}", t)
    v = wm.view(goal)
    assert v.tokens_shown <= budget
    assert v.tokens_shown == sum(count_tokens(it.text) for it in v.verbatim) + sum(
        map(count_tokens, v.extracts)
    )
    assert v.compression_ratio >= 1.0 or v.tokens_shown == 0
    held = {s for it in wm.items for s in split_sentences(it.text)}
    assert set(v.extracts) <= held  # extractive: nothing invented
    shown = [_norm(s) for it in v.verbatim for s in split_sentences(it.text)]
    extracted = [_norm(s) for s in v.extracts]
    assert len(set(extracted)) == len(extracted) and not set(extracted) & set(shown)
    # the verbatim part is a suffix of the held items (newest first)
    assert [it.key for it in v.verbatim] == [it.key for it in reversed(wm.items)][: len(v.verbatim)]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 120),
    deletes=st.sets(st.integers(0, 119), max_size=80),
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 15),
)
def test_flat_search_equals_brute_force_after_deletions(n, deletes, seed, k):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    buf = EpisodicBuffer(8)
    buf.add([EpisodicItem(i, "") for i in range(n)], x)
    for d in deletes:
        assert buf.delete(d) == (d < n)
    live = np.array(sorted(set(range(n)) - deletes), dtype=int)
    q = rng.standard_normal(8).astype(np.float32)
    hits = buf.search(q, k)
    assert len(hits) == min(k, len(live))
    if len(live):
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        exact = xn[live] @ (q / np.linalg.norm(q))
        # scores match the exact top-k (ids may swap only on float ties)
        assert np.allclose([h.score for h in hits], np.sort(exact)[::-1][: len(hits)], atol=1e-5)
        assert {h.id for h in hits} <= set(live.tolist())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_hashing_embedder_deterministic_and_normalised(texts):
    a, b = HashingEmbedder(dim=64).embed(texts), HashingEmbedder(dim=64).embed(texts)
    assert np.array_equal(a, b)
    norms = np.linalg.norm(a, axis=1)
    assert np.all((np.abs(norms - 1) < 1e-5) | (norms == 0))


PUTS = st.lists(
    st.tuples(st.sampled_from(["k1", "k2", "k3"]), st.integers(0, 30), st.integers(0, 10)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(PUTS)
def test_consolidation_newest_value_wins_and_history_keeps_the_rest(puts):
    # merge_threshold 1.0 + distinct texts: only the per-key rules are exercised
    lt = LongTermMemory(InMemoryStore(), HashingEmbedder(), merge_threshold=1.0, history_limit=100)
    for key, value, t in puts:
        lt.put(key, f"{key} value {value}", t=float(t))
    for key in {p[0] for p in puts}:
        mine = [(t, i, f"{key} value {v}") for i, (k, v, t) in enumerate(puts) if k == key]
        rec = lt.get(key)
        best_t = max(t for t, _, _ in mine)
        assert rec["updated"] == best_t
        assert rec["text"] in {text for t, _, text in mine if t == best_t}
        kept = {rec["text"]} | {h["text"] for h in rec["history"]}
        assert {text for _, _, text in mine} <= kept


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 30), window=st.integers(1, 10))
def test_context_keeps_exactly_the_last_window_items(n, window):
    m = MEMORY_LAYERS.build("context", {"window": window})
    for i in range(n):
        m.remember(f"k{i}", f"shared fact {i}")
    assert [h.key for h in m.recall("shared fact", 100)] == [
        f"k{i}" for i in range(n - 1, max(-1, n - window - 1), -1)
    ]
