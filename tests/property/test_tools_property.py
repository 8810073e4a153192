"""Properties relating the two tool layers: same world primitives, different guarantees.

On code where the old name appears only as an identifier, the typed AST-aware rename and
the careful human command ``sed -i 's/\\bOLD\\b/NEW/g'`` must agree exactly. Where strings,
comments and longer names mention it, the typed rename must still touch only the lines
that hold the name as a token.
"""

from __future__ import annotations

import io
import keyword
import tokenize

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.runtime.tools.shell import ShellTools
from harness.runtime.tools.typed import TypedTools
from harness.world import Workspace, World
from harness.world.pycode import identifier_counts

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(alphabet="abxy_", min_size=1, max_size=4).filter(
    lambda s: s.isidentifier() and not keyword.iskeyword(s) and not keyword.issoftkeyword(s)
)

# Top-level statements over four name slots; every one parses whatever the names are.
CODE = [
    "{a} = {b}",
    "{a} = {b}({c}, {d}={a})",
    "def {a}({b}, {c}):\n    return {b}.{d}",
    "class {a}({b}):\n    {c} = {d}",
    "from {a} import {b} as {c}",
    "{a}.{b} += {c}",
    "for {a} in {b}:\n    {c}({a})",
    "{c} = lambda {a}: [{b} for {d} in {a}]",
]
# Statements that mention the names where a rename must not look.
NOISE = [
    '{a} = "{b} {old}"  # {old} {c}',
    "{a} = {old}{b}  # longer names",
    "{a} = '''{old}'''",
    "# {old}",
]


@st.composite
def statement(draw, templates: list[str], old: str) -> str:
    template = draw(st.sampled_from(templates))
    slots = {k: draw(st.one_of(st.just(old), names)) for k in "abcd"}
    return template.format(old=old, **slots)


@st.composite
def workspaces(draw, noisy: bool):
    old = draw(names)
    new = draw(names.filter(lambda n: n != old))
    templates = CODE + (NOISE if noisy else [])
    files = {}
    for i in range(draw(st.integers(1, 3))):
        body = draw(st.lists(statement(templates, old), min_size=1, max_size=6))
        files[f"pkg/m{i}.py"] = "\n".join(body) + "\n"
    return files, old, new


def rename_typed(files: dict[str, str], old: str, new: str):
    world = World(Workspace(files))
    obs = TypedTools().call(world, "rename_symbol", {"old_name": old, "new_name": new})
    return obs, world.workspace.snapshot()


def rename_sed(files: dict[str, str], old: str, new: str):
    world = World(Workspace(files))
    command = rf"sed -i 's/\b{old}\b/{new}/g' " + " ".join(sorted(files))
    obs = ShellTools().call(world, "shell", {"command": command})
    return obs, world.workspace.snapshot()


@SETTINGS
@given(workspaces(noisy=False))
def test_typed_rename_equals_word_bounded_sed_on_plain_code(case):
    files, old, new = case
    typed, typed_files = rename_typed(files, old, new)
    shell, sed_files = rename_sed(files, old, new)
    assert shell.ok, shell.text
    collision = any(identifier_counts(t)[new] for t in files.values())
    if typed.ok:
        assert typed_files == sed_files
        assert typed.data["files_changed"] == sorted(p for p in files if sed_files[p] != files[p])
    else:
        assert typed.error.code in ("not_found", "precondition_failed")
        assert typed_files == files  # refused: nothing changed
        if typed.error.code == "not_found":
            assert sed_files == files  # sed finds nothing either
        else:
            assert collision


def _lines_with_token(source: str, name: str) -> set[int]:
    rows = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string == name:
            rows.update(range(tok.start[0], tok.end[0] + 1))
    return rows


@SETTINGS
@given(workspaces(noisy=True))
def test_typed_rename_touches_only_lines_holding_the_token(case):
    files, old, new = case
    assume(not any(identifier_counts(t)[new] for t in files.values()))
    obs, after = rename_typed(files, old, new)
    if not obs.ok:
        assert obs.error.code == "not_found"
        assert after == files
        return
    for path, before in files.items():
        touched = _lines_with_token(before, old)
        old_lines, new_lines = before.splitlines(), after[path].splitlines()
        assert len(old_lines) == len(new_lines)
        for row, (was, now) in enumerate(zip(old_lines, new_lines, strict=True), start=1):
            if row not in touched:
                assert was == now, (path, row)
        assert identifier_counts(after[path])[old] == 0


@SETTINGS
@given(workspaces(noisy=True), st.sampled_from(["typed", "shell"]))
def test_same_world_same_call_same_observation(case, layer):
    files, old, new = case
    if layer == "typed":
        a, a_files = rename_typed(files, old, new)
        b, b_files = rename_typed(files, old, new)
    else:
        a, a_files = rename_sed(files, old, new)
        b, b_files = rename_sed(files, old, new)
    assert a.model_dump() == b.model_dump()
    assert a_files == b_files
