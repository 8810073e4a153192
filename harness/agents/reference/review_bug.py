"""Strategy for a bug review: which edits change what a function does?

A reviewer sets aside what cannot change behaviour (comments, docstrings, a local name
renamed throughout, a value put in a temporary and returned) and compares what is left
of each function before and after the change. Where the two still differ, the change did
something its author did not announce, and the first differing line is the finding.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
from difflib import SequenceMatcher

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.review_diff import Block
from harness.agents.reference.review_flow import Finding, Review, pure, run_review
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief

Line = tuple[int, str]  # (post- or pre-change line number, code with spacing normalised)
_TEMP = re.compile(r"^(\w+) = (.+)$")
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
_COMPARE = re.compile(r"(<=|>=|==|!=|<|>|\bnot\b|\bin\b)")


@STRATEGIES.register("code_review/review_bug")
def review_bug(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    yield from run_review(brief, kit, errors, pure(find_bugs))


def find_bugs(review: Review) -> list[Finding]:
    found = []
    for change in review.changed:
        if change.before is None or not isinstance(change.after.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue  # a new definition has no old behaviour to compare with
        hit = first_difference(change.before, change.after)
        if hit is not None:
            found.append(Finding(change.path, hit[0], hit[1]))
    return found


def first_difference(before: Block, after: Block) -> tuple[int, str] | None:
    """(post-change line, kind) of the first behavioural difference, or None."""
    old, new = semantic(before), semantic(after)
    old = align_names(old, new)
    matcher = SequenceMatcher(None, [t for _, t in old], [t for _, t in new], autojunk=False)
    ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not ops or not new:
        return None
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "delete":
        line = new[max(j1 - 1, 0)][0]
        return line, "missing_return" if any(t.startswith("return") for _, t in old[i1:i2]) else "missing_code"
    removed = old[i1][1] if tag == "replace" else ""
    return new[j1][0], kind_of(removed, new[j1][1])


def kind_of(old: str, new: str) -> str:
    """A reviewer's label for a one-line change (free text: only the place is judged)."""
    if old.startswith("return") and not new.startswith("return"):
        return "missing_return"
    if _COMPARE.findall(old) != _COMPARE.findall(new):
        return "inverted_condition"
    if re.sub(r"\s*[-+]\s*\d+", "", old) == re.sub(r"\s*[-+]\s*\d+", "", new):
        return "off_by_one"
    return "wrong_variable"


def semantic(block: Block) -> list[Line]:
    """What a block does, line by line: no comments, no docstring, temporaries inlined."""
    skip = _docstring_lines(block.node)
    code = _without_comments(block.text)
    lines = [(block.start + i, " ".join(text.split())) for i, text in enumerate(code)
             if block.start + i not in skip and text.strip()]
    out: list[Line] = []
    for n, text in lines:
        m = _TEMP.match(out[-1][1]) if out else None
        if m and text == f"return {m[1]}":
            out[-1] = (out[-1][0], f"return {m[2]}")  # `x = e; return x` is `return e`
            continue
        out.append((n, text))
    return out


def align_names(old: list[Line], new: list[Line]) -> list[Line]:
    """``old`` with each vanished local name replaced by the new name that matches best,
    where that makes more lines agree: a rename throughout is not a behaviour change."""
    gone = sorted(_idents(old) - _idents(new))
    fresh = sorted(_idents(new) - _idents(old))
    for name in gone:
        current = _agreement(old, new)
        scored = [(_agreement(_subst(old, name, f), new), f) for f in fresh]
        best = max(scored, default=(current, ""), key=lambda s: s[0])
        if best[0] > current:
            old = _subst(old, name, best[1])
            fresh.remove(best[1])
    return old


def _idents(lines: list[Line]) -> set[str]:
    return {w for _, t in lines for w in _IDENT.findall(t) if not keyword.iskeyword(w)}


def _subst(lines: list[Line], old: str, new: str) -> list[Line]:
    return [(n, re.sub(rf"\b{re.escape(old)}\b", new, t)) for n, t in lines]


def _agreement(old: list[Line], new: list[Line]) -> int:
    matcher = SequenceMatcher(None, [t for _, t in old], [t for _, t in new], autojunk=False)
    return sum(size for *_, size in matcher.get_matching_blocks())


def _docstring_lines(node: ast.stmt) -> set[int]:
    body = getattr(node, "body", [])
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
        return set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return set()


def _without_comments(text: str) -> list[str]:
    """The block's lines with comments cut off (by the tokenizer, so '#' in strings stays)."""
    lines = text.split("\n")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return lines
    for tok in reversed(tokens):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col]
    return lines
