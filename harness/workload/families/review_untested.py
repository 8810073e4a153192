"""code_review/review_untested: which functions does the change modify without a test?

The change edits many functions; the package's test module calls all but one of them (two
or three at higher difficulty). The finding is the ``def`` line of each changed function
no test calls. Unchanged untested functions are not findings. From difficulty 3 the test
module mentions an untested function in a comment, and from difficulty 4 imports one it
never calls, so searching the tests for the name is not enough.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from harness.workload.families.review_common import (
    MARK,
    Block,
    Draft,
    ReviewFamily,
    benign,
    filler_source,
    sample_common,
    unmark,
)
from harness.workload.registry import family

N_UNTESTED = {1: (1, 1), 2: (1, 1), 3: (1, 2), 4: (2, 2), 5: (2, 3)}
_DEF = re.compile(r"def (\w+)\(")


def _name(source: str) -> str | None:
    match = _DEF.match(source)
    return match.group(1) if match else None


def _call(name: str, source: str) -> tuple[str, str]:
    """A call a test can make, and the literal it returns (computed by running the code)."""
    arg = "'north'" if "label: str" in source.split("\n")[0] else "[3, 1, 4, 1, 5]"
    namespace: dict[str, Any] = {}
    exec(compile("from __future__ import annotations\n" + unmark(source), "<filler>", "exec"), namespace)  # noqa: S102 - generated filler
    return f"{name}({arg})", repr(namespace[name](eval(arg)))  # noqa: S307 - a literal we wrote


@family
class ReviewUntested(ReviewFamily):
    name = "code_review/review_untested"
    input_keys = ("n_untested",)
    kinds = ("untested",)

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        params = sample_common(rng, difficulty)
        low, high = N_UNTESTED[difficulty]
        return {**params, "n_untested": int(rng.integers(low, high + 1))}

    def compose(self, draft: Draft, params: dict[str, Any]) -> None:
        untested = []
        for _ in range(int(params["n_untested"])):
            source = filler_source(draft)
            after = benign(draft.rng, source)
            lines = after.split("\n")
            draft.add(Block(source, "\n".join([lines[0] + MARK, *lines[1:]]), "untested"))
            untested.append(_name(source))
        draft.meta["untested"] = untested

    def finish(self, draft: Draft, params: dict[str, Any]) -> None:
        """The test module: every changed function but the untested ones, and some unchanged."""
        difficulty = int(params["difficulty"])
        untested = draft.meta["untested"]
        imports: dict[str, list[str]] = {}
        tests = []
        for module in draft.modules:
            dotted = module.path[:-3].replace("/", ".")
            for block in module.blocks:
                name = _name(block.after or "")
                if name is None or name in untested or block.kind is not None:
                    continue
                if block.before == block.after and draft.rng.random() < 0.5:
                    continue  # unchanged and untested: not a finding either
                call, expected = _call(name, block.after)
                imports.setdefault(dotted, []).append(name)
                tests.append(f"def test_{name}():\n    assert {call} == {expected}\n")
        home = {n: m.path[:-3].replace("/", ".") for m in draft.modules for b in m.blocks
                if (n := _name(b.after or "")) in untested}
        if difficulty >= 4:
            imports.setdefault(home[untested[0]], []).append(untested[0])  # imported, never called
        order = draft.rng.permutation(len(tests))
        body = [tests[int(i)] for i in order]
        if difficulty >= 3:
            body.insert(randint_between(draft.rng, len(body)),
                        f"# {untested[-1]} is exercised by the nightly end-to-end run.\n")
        header = "\n".join(f"from {m} import {', '.join(sorted(names))}" for m, names in sorted(imports.items()))
        draft.extra_files[f"tests/test_{draft.package}.py"] = (
            f'"""Unit tests of the {draft.package} package."""\n\n{header}\n\n\n' + "\n\n".join(body))
        draft.meta["test_module"] = f"tests/test_{draft.package}.py"

    def task_text(self, package: str) -> str:
        return (f"Test-coverage review: the change to the package `{package}/` shown in "
                f"`review/change.diff` (the workspace already holds the changed files) modifies "
                f"several functions. The package's tests are in `tests/test_{package}.py`. Flag every "
                f"function the change adds or modifies that no test calls, at the line of its `def`, "
                f"with kind `untested`. Functions the change does not touch are not findings.")


def randint_between(rng: np.random.Generator, n: int) -> int:
    return int(rng.integers(0, n + 1))
