"""Text embedders behind one interface, both offline and deterministic.

``WordLlamaEmbedder`` loads the weights that ship inside the installed ``wordllama`` wheel
(never the network), once per process, on first use. ``HashingEmbedder`` needs nothing but
the standard library: it hashes word and character n-grams with blake2b (stable across
processes, unlike ``hash()``) into a signed bag of features. It is the fallback when
wordllama cannot be loaded; which one is active is reported by ``make_embedder`` so a
result never silently claims the better embedder.

Long texts (over ``LONG_TEXT_CHARS``) are embedded in pieces, so the cost grows linearly
with the text: wordllama's tokenizer has no pre-tokenizer, so its BPE runs over a whole
text as one word, and that grows faster than the text (measured: 0.7 s at 50,000
characters, 23 s at 800,000); a batch is also padded to its longest text. The pieces are
cut at spaces (see ``chunks``) and their token embeddings averaged together, which is the
whole text's mean pooling up to the tokens at the cuts. Every text a task or the reference
agent produces is far shorter, and embeds exactly as it always did.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Protocol

import numpy as np

from harness.core.errors import ConfigError

WORDLLAMA_VERSION = "0.4.0.post1"  # the version whose bundled weights the tests pin

_WORD = re.compile(r"[A-Za-z0-9_]+")

# No published source: a text this long costs ~0.2 s to embed whole; beyond it, pieces.
# Far above any briefing (< 1,300 characters) or note the reference agent writes.
LONG_TEXT_CHARS = 16_384
CHUNK_CHARS = 4_096  # a piece; bounded, so tokenizing one costs bounded time
_CHUNK_BATCH = 32  # pieces tokenized per call (the tokenizer pads a batch to its longest)


class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of shape (len(texts), dim)."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Row-normalise in float32; an all-zero row stays zero (no NaN)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms == 0, 1.0, norms)).astype(np.float32, copy=False)


def spans(text: str, size: int = CHUNK_CHARS) -> Iterator[tuple[int, int]]:
    """``text`` as (start, end) pieces of at most ``size`` characters, each cut at the last
    space of its window (the space itself left out: wordllama's normalizer starts every
    piece with the word-boundary mark that space would have become), or at ``size`` if
    the window has none."""
    start, n = 0, len(text)
    while n - start > size:
        cut = text.rfind(" ", start + 1, start + size + 1)
        if cut < 0:
            yield start, start + size
            start += size
        else:
            yield start, cut
            start = cut + 1
    yield start, n


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[str]:
    return (text[a:b] for a, b in spans(text, size))


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric words: the unit both the hashing embedder and the
    word-overlap scorers of the memory variants agree on."""
    return [w.lower() for w in _WORD.findall(text)]


# -- wordllama ---------------------------------------------------------------------------
_WL_LOCK = threading.Lock()
_WL_MODEL = None  # one model per process: loading costs ~0.3 s and ~10 MB
# One embedding at a time per process: the model and its tokenizer (a Hugging Face
# ``tokenizers`` Rust object behind pyo3, which refuses overlapping mutable use with "Already
# borrowed") are shared by the episodes on a process's threads, and wordllama promises
# nothing about use from several threads. Embedding a note takes well under a millisecond.
_WL_USE = threading.Lock()


def _load_wordllama():
    global _WL_MODEL
    with _WL_LOCK:
        if _WL_MODEL is None:
            # wordllama calls logging.basicConfig(level=INFO) on import, which would turn
            # every INFO record in this process (workspace code's included) into output.
            root = logging.getLogger()
            handlers, level = root.handlers[:], root.level
            try:
                import wordllama
                from wordllama import WordLlama
            finally:
                root.handlers[:] = handlers
                root.setLevel(level)

            # cache_dir=<package dir> finds the weights bundled in the wheel; with
            # disable_download it fails loudly instead of reaching for the network.
            _WL_MODEL = WordLlama.load(
                cache_dir=os.path.dirname(wordllama.__file__), disable_download=True
            )
        return _WL_MODEL


def wordllama_version() -> str:
    from importlib.metadata import version

    return version("wordllama")


class WordLlamaEmbedder:
    """WordLlama (256-d, pooled static token embeddings); loaded lazily on first embed."""

    name = "wordllama"
    dim = 256

    def __init__(self, *, eager: bool = False):
        if eager:
            _load_wordllama()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = _load_wordllama()
        with _WL_USE:
            return self._embed(model, texts)

    def _embed(self, model, texts: list[str]) -> np.ndarray:
        long = [i for i, t in enumerate(texts) if len(t) > LONG_TEXT_CHARS]
        if not long:
            vecs = model.embed(list(texts), norm=False, return_np=True)
            return l2_normalise(np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        short = [i for i, t in enumerate(texts) if len(t) <= LONG_TEXT_CHARS]
        if short:
            # apart from the long ones, which would pad this batch to their length
            vecs = model.embed([texts[i] for i in short], norm=False, return_np=True)
            out[short] = np.asarray(vecs, dtype=np.float32).reshape(len(short), self.dim)
        for i in long:
            out[i] = _pooled_in_pieces(model, texts[i])
        return l2_normalise(out)


def _pooled_in_pieces(model, text: str) -> np.ndarray:
    """Mean of the token embeddings of ``text``'s pieces, tokenized as wordllama does."""
    total = np.zeros(model.embedding.shape[1], dtype=np.float64)
    count = 0
    pieces = list(chunks(text))
    for start in range(0, len(pieces), _CHUNK_BATCH):
        for enc in model.tokenize(pieces[start:start + _CHUNK_BATCH]):
            ids = np.asarray(enc.ids, dtype=np.int64)[np.asarray(enc.attention_mask, dtype=bool)]
            np.clip(ids, 0, model.embedding.shape[0] - 1, out=ids)  # as wordllama does
            total += model.embedding[ids].sum(axis=0, dtype=np.float64)
            count += len(ids)
    return (total / max(count, 1)).astype(np.float32)


# -- hashing -----------------------------------------------------------------------------
@lru_cache(maxsize=200_000)
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    h = int.from_bytes(digest, "little")
    # the low bit picks the sign so colliding features cancel on average instead of piling up
    return (h >> 1) % dim, (1.0 if h & 1 else -1.0)


class HashingEmbedder:
    """Feature hashing of word unigrams (weight 1), word bigrams (0.5) and within-word
    character trigrams (0.25). Deterministic in any process; captures lexical overlap only."""

    name = "hashing"

    def __init__(self, *, dim: int = 256):
        if not isinstance(dim, int) or dim < 8:
            raise ConfigError(f"hashing embedder dim must be an integer >= 8, got {dim!r}")
        self.dim = dim

    def _features(self, text: str) -> Iterator[tuple[str, float]]:
        # a generator: a long text's features never all exist at once (~100 bytes each)
        ws = words(text)
        yield from (("w:" + w, 1.0) for w in ws)
        yield from (("b:" + a + " " + b, 0.5) for a, b in zip(ws, ws[1:], strict=False))
        for w in ws:
            padded = f"<{w}>"
            yield from (("c:" + padded[i : i + 3], 0.25) for i in range(len(padded) - 2))

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feat, weight in self._features(text):
                idx, sign = _bucket(feat, self.dim)
                out[row, idx] += sign * weight
        return l2_normalise(out)


EMBEDDERS = ("wordllama", "hashing")


def make_embedder(name: str = "wordllama", *, fallback: bool = True, dim: int = 256) -> Embedder:
    """The embedder named by config. With ``fallback``, a wordllama that fails to load is
    replaced by the hashing embedder (check ``.name`` to see which one you got)."""
    if name == "hashing":
        return HashingEmbedder(dim=dim)
    if name != "wordllama":
        raise ConfigError(f"unknown embedder {name!r}; known: {', '.join(EMBEDDERS)}")
    if dim != 256:
        raise ConfigError(
            f"the wordllama embedder is 256-dimensional; dim={dim} applies to hashing only"
        )
    try:
        return WordLlamaEmbedder(eager=True)
    except Exception:  # noqa: BLE001 - any load failure (missing weights, import) falls back
        if not fallback:
            raise
        return HashingEmbedder(dim=dim)
