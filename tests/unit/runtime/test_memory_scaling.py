"""Long texts in tiered memory: embedded in pieces (cost linear in the text), the same
vector as the whole text up to the tokens at the cuts; every text up to
``LONG_TEXT_CHARS`` embeds exactly as before. No timings here: ``harness bench`` and the
numbers in the change's description measure speed; these tests only say it finishes."""

from __future__ import annotations

import hashlib
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runtime.memory import MEMORY_LAYERS
from harness.runtime.memory import embedders as emb
from harness.runtime.memory.embedders import (
    HashingEmbedder,
    WordLlamaEmbedder,
    chunks,
    l2_normalise,
    spans,
)

VOCAB = ["deploy", "service", "config", "rollback", "port", "8080", "timeout", "retry", "cache", "the"]


def _prose(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCAB) for _ in range(n // 6))[:n]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab c", max_size=80), st.integers(1, 12))
def test_pieces_are_bounded_and_cover_the_text_but_the_spaces_cut_at(text, size):
    cuts = list(spans(text, size))
    assert cuts[0][0] == 0 and cuts[-1][1] == len(text)
    assert all(0 <= end - start <= size for start, end in cuts)
    for (_, end), (start, _) in zip(cuts, cuts[1:], strict=False):
        assert start == end or (start == end + 1 and text[end] == " ")
    assert list(chunks(text, size)) == [text[a:b] for a, b in cuts]


def test_texts_up_to_the_threshold_embed_exactly_as_wordllama_does():
    model = emb._load_wordllama()
    texts = ["restart billing", _prose(3_000, 1), _prose(emb.LONG_TEXT_CHARS, 2), ""]
    expected = l2_normalise(model.embed(texts, norm=False, return_np=True))
    assert np.array_equal(WordLlamaEmbedder().embed(texts), expected)


def test_a_long_text_embeds_like_the_whole_text():
    model = emb._load_wordllama()
    text = _prose(60_000, 3)
    whole = l2_normalise(model.embed([text], norm=False, return_np=True))[0]
    pieces = WordLlamaEmbedder().embed([text])[0]
    assert float(whole @ pieces) > 0.999
    assert np.isclose(np.linalg.norm(pieces), 1.0, atol=1e-5)


def test_a_short_text_beside_a_long_one_embeds_as_it_would_alone():
    e = WordLlamaEmbedder()
    short = "the cache hit rate dropped"
    mixed = e.embed([short, _prose(200_000, 4)])
    assert np.array_equal(mixed[0], e.embed([short])[0])


def _hashing_reference(text: str, dim: int = 256) -> np.ndarray:
    """The hashing embedder as it was written before its features were streamed."""
    ws = emb.words(text)
    feats = [("w:" + w, 1.0) for w in ws]
    feats += [("b:" + a + " " + b, 0.5) for a, b in zip(ws, ws[1:], strict=False)]
    for w in ws:
        padded = f"<{w}>"
        feats += [("c:" + padded[i:i + 3], 0.25) for i in range(len(padded) - 2)]
    out = np.zeros((1, dim), dtype=np.float32)
    for feat, weight in feats:
        digest = hashlib.blake2b(feat.encode(), digest_size=8).digest()
        h = int.from_bytes(digest, "little")
        out[0, (h >> 1) % dim] += (1.0 if h & 1 else -1.0) * weight
    return l2_normalise(out)[0]


def test_the_hashing_embedder_is_bit_for_bit_what_it_was():
    texts = ["", "a", "restart the billing service now", _prose(5_000, 5), "É漢 mixed_words 42 x-y"]
    got = HashingEmbedder().embed(texts)
    for row, text in zip(got, texts, strict=True):
        assert np.array_equal(row, _hashing_reference(text))


def test_a_megabyte_is_remembered_recalled_and_shown():
    memory = MEMORY_LAYERS.build("tiered", {"max_item_chars": 2_000_000})
    memory.remember("small", "the on-call engineer is Dana")
    big = _prose(1_000_000, 6) + " the deploy window is friday"
    assert memory.remember("runbook", big) is None
    assert memory.remember("another", "retry budget is three attempts") is None
    keys = {r.key for r in memory.recall("deploy rollback config", 5)}
    assert "runbook" in keys
    assert memory.context("deploy")
    assert memory.stats()["long_term_facts"] == 3
