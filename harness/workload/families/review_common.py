"""Shared generator of the code_review families: a package, a change set, its diff.

A family draws a small Python package (filler from ``codegen``) whose changed modules are
lists of blocks, each a top-level definition before and after the change. Issue blocks
carry markers in their after-text (``#@`` the line to flag, ``#+`` another line a
reviewer may reasonably point at); benign blocks are refactors, renames, comments and
docstring edits of filler, more of them at higher difficulty. The workspace holds the
post-change files and ``review/change.diff`` (a unified diff of the whole change); the
issues, with their post-change line numbers, stay private.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from string import Template
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import canonical_json
from harness.workload.checkers.review import file_digest, findings_match
from harness.workload.codegen import filler_class, filler_function, module_docstring
from harness.workload.deadlines import end_of_day
from harness.workload.names import NOUNS, Namer, pick, plural, randint
from harness.workload.registry import get_family
from harness.workload.spec import CheckerRef, GoldStep, Probe, SessionSpec, TaskSpec
from harness.world import World

DIFF_PATH = "review/change.diff"
MARK, ALT = "  #@", "  #+"
TOLERANCE = 2
COMMON_KEYS = ("difficulty", "n_files", "n_benign", "n_untouched")
N_FILES = {1: (2, 2), 2: (2, 3), 3: (3, 4), 4: (4, 5), 5: (5, 6)}
N_BENIGN = {1: (3, 4), 2: (4, 6), 3: (6, 9), 4: (9, 12), 5: (12, 16)}
N_UNTOUCHED = {1: (0, 1), 2: (1, 2), 3: (2, 3), 4: (3, 5), 5: (4, 6)}
HEADER_IMPORTS = "import json\nimport logging\nimport os\n"

SCHEMA = (
    'Submit your review as {"findings": [{"file": "<path, e.g. pkg/module.py>", "line": <line '
    'number in the file as it is now in the workspace>, "kind": "<kind>"}, ...]}: one finding '
    "per problem, at the line where it is. Flag only real problems introduced by the change; "
    "harmless edits (refactors, renames, comments, formatting) are not findings, and flagging "
    "lines at random costs you. An empty list means you approve the change. Do not edit any file."
)

_COMMENTS = (
    "# Kept as a plain loop: the nightly batch is large.",
    "# Order matters to the report that reads this.",
    "# Callers rely on the empty case being cheap.",
    "# Amounts are whole cents throughout.",
    "# Shared with the export job; keep the signature stable.",
)
_DOC_EXTRAS = (
    "Used by the nightly reconciliation.",
    "The result feeds the weekly summary.",
    "Amounts are whole cents.",
    "Kept small on purpose; see the module docstring.",
)
_LOCAL_RENAMES = (("item", "entry"), ("total", "running"), ("buckets", "groups"), ("key", "bucket"))


@dataclass(frozen=True)
class Block:
    """One top-level definition before and after the change (None: absent on that side)."""

    before: str | None
    after: str | None
    kind: str | None = None  # the issue kind when ``after`` carries markers


@dataclass
class Module:
    path: str
    header: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Draft:
    """A package under construction; families add issue and decoy blocks to it."""

    rng: np.random.Generator
    namer: Namer
    package: str
    modules: list[Module]
    extra_files: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # private facts a family records

    def fields(self) -> dict[str, Any]:
        """Fresh template fields: a function name, a noun, its plural, a small number."""
        noun = pick(self.rng, NOUNS)
        return {"name": self.namer.function(), "noun": noun, "arg": plural(noun),
                "k": randint(self.rng, 2, 9), "table": plural(noun), "NOUN": noun.upper()}

    def add(self, block: Block, module: int | None = None) -> int:
        index = randint(self.rng, len(self.modules)) if module is None else module
        blocks = self.modules[index].blocks
        blocks.insert(randint(self.rng, len(blocks) + 1), block)
        return index


def fill(template: str, fields: dict[str, Any]) -> str:
    return Template(template).substitute(fields)


def benign(rng: np.random.Generator, source: str, allow_extract: bool = True) -> str:
    """A harmless edit of a function: a why-comment, a docstring note, a local rename or
    an extracted return value. Markers in ``source`` survive (they stay on their line)."""
    lines = source.split("\n")
    doc = next((i for i, line in enumerate(lines) if line.strip().startswith('"""')), None)
    options = ["comment"]
    if doc is not None and lines[doc].strip().endswith('"""') and lines[doc].count('"""') == 2:
        options.append("doc")
    body = "\n".join(lines[1:])
    rename = next(((old, new) for old, new in _LOCAL_RENAMES
                   if re.search(rf"\b{old}\b", body) and not re.search(rf"\b{new}\b", source)), None)
    if rename and MARK not in source:
        options.append("rename")
    last = lines[-1] if lines[-1] else lines[-2]
    if allow_extract and re.fullmatch(r"    return [^#]+", last) and "result" not in source and "\n" not in last:
        options.append("extract")
    choice = options[randint(rng, len(options))]
    at = (doc if doc is not None else 0) + 1
    if choice == "comment":
        return "\n".join(lines[:at] + ["    " + pick(rng, _COMMENTS)] + lines[at:])
    if choice == "doc":
        text = lines[doc].strip()[3:-3].rstrip()
        return "\n".join(lines[:doc] + [f'    """{text}', "", f"    {pick(rng, _DOC_EXTRAS)}", '    """']
                         + lines[doc + 1:])
    if choice == "rename":
        old, new = rename
        return lines[0] + "\n" + re.sub(rf"\b{old}\b", new, body)
    index = len(lines) - 1 if lines[-1] else len(lines) - 2
    expr = lines[index][len("    return "):]
    return "\n".join(lines[:index] + [f"    result = {expr}", "    return result"] + lines[index + 1:])


def filler_source(draft: Draft) -> str:
    return filler_function(draft.namer, draft.rng).source.rstrip("\n")


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]  # the whole initial workspace (post-change code and the diff)
    issues: list[dict[str, Any]]  # {"file", "line", "lines", "kind"}
    changed: dict[str, list[int]]  # post-change line numbers the diff adds, per file
    meta: dict[str, Any]


def unmark(text: str) -> str:
    """The text without its issue markers (for code that must not count as an issue)."""
    return _strip_markers(text, 0)[0]


def _strip_markers(text: str, base: int) -> tuple[str, int | None, list[int]]:
    main, alts, out = None, [], []
    for offset, line in enumerate(text.split("\n")):
        if line.endswith(MARK):
            main, line = base + offset, line[: -len(MARK)]
        elif line.endswith(ALT):
            alts.append(base + offset)
            line = line[: -len(ALT)]
        out.append(line)
    return "\n".join(out), main, alts


def render_module(module: Module) -> tuple[str, str, list[dict[str, Any]]]:
    """Before text, after text and the issues (post-change lines) of one module."""
    before = [module.header] + [b.before for b in module.blocks if b.before is not None]
    after, issues = [module.header], []
    line = module.header.count("\n") + 1
    for block in module.blocks:
        if block.after is None:
            continue
        line += 3  # the two blank lines between top-level definitions, then the block
        text, main, alts = _strip_markers(block.after, line)
        if block.kind is not None:
            if main is None:
                raise TaskGenerationError(f"issue block of kind {block.kind} has no marked line")
            issues.append({"file": module.path, "line": main, "lines": [main, *alts], "kind": block.kind})
        after.append(text)
        line += text.count("\n")
    return "\n\n\n".join(before) + "\n", "\n\n\n".join(after) + "\n", issues


def render(draft: Draft) -> Rendered:
    files = {f"{draft.package}/__init__.py": f'"""The {draft.package} package."""\n'}
    diff_parts, issues, changed = [], [], {}
    for module in draft.modules:
        before, after, found = render_module(module)
        files[module.path] = after
        issues.extend(found)
        if before == after:
            continue
        a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
        diff_parts.append("".join(difflib.unified_diff(a, b, f"a/{module.path}", f"b/{module.path}")))
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        changed[module.path] = [j + 1 for tag, _, _, j1, j2 in matcher.get_opcodes()
                                if tag in ("replace", "insert") for j in range(j1, j2)]
    files.update(draft.extra_files)
    files[DIFF_PATH] = "".join(diff_parts)
    return Rendered(files, issues, changed, {"package": draft.package, **draft.meta})


def new_draft(rng: np.random.Generator, params: dict[str, Any], header_extra: str = "") -> Draft:
    """The package skeleton: changed modules with unchanged filler, untouched modules."""
    namer = Namer(rng)
    package = namer.package()
    modules = []
    for _ in range(int(params["n_files"])):
        name = namer.module()
        header = f'"""{module_docstring(rng, name)}"""\n\nfrom __future__ import annotations\n\n{HEADER_IMPORTS}{header_extra}'
        module = Module(f"{package}/{name}.py", header.rstrip("\n"))
        for _ in range(randint(rng, 2, 5)):
            source = filler_source_or_class(namer, rng)
            module.blocks.append(Block(source, source))
        modules.append(module)
    return Draft(rng, namer, package, modules)


def filler_source_or_class(namer: Namer, rng: np.random.Generator) -> str:
    made = filler_class(namer, rng) if rng.random() < 0.2 else filler_function(namer, rng)
    return made.source.rstrip("\n")


def add_benign(draft: Draft, count: int) -> None:
    """Benign edits: changed filler, spread so that every changed module has at least one."""
    for i in range(count):
        source = filler_source(draft)
        module = i if i < len(draft.modules) else None
        draft.add(Block(source, benign(draft.rng, source)), module)


def add_untouched(draft: Draft, count: int) -> None:
    for _ in range(count):
        name = draft.namer.module()
        body = "\n\n\n".join(filler_source(draft) for _ in range(randint(draft.rng, 2, 5)))
        draft.extra_files[f"{draft.package}/{name}.py"] = (
            f'"""{module_docstring(draft.rng, name)}"""\n\nfrom __future__ import annotations\n\n\n{body}\n')


def sample_common(rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
    if difficulty not in N_FILES:
        raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")

    def between(bounds: tuple[int, int]) -> int:
        return int(rng.integers(bounds[0], bounds[1] + 1))

    return {"difficulty": difficulty, "n_files": between(N_FILES[difficulty]),
            "n_benign": between(N_BENIGN[difficulty]), "n_untouched": between(N_UNTOUCHED[difficulty])}


class ReviewFamily:
    """The generate/build_world of every review family; subclasses say what to inject."""

    name = ""
    category = "code_review"
    input_keys: tuple[str, ...] = ()
    require_kind = False
    kinds: tuple[str, ...] = ()  # the kinds a reader of the instructions is told

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        raise NotImplementedError

    def compose(self, draft: Draft, params: dict[str, Any]) -> None:
        """Add the issue blocks (and decoys) to the draft."""
        raise NotImplementedError

    def header_extra(self) -> str:
        return ""

    def finish(self, draft: Draft, params: dict[str, Any]) -> None:
        """Last look at the whole draft (e.g. to write tests for what it changed)."""

    def task_text(self, package: str) -> str:
        raise NotImplementedError

    def sessions(self, params: dict[str, Any]) -> tuple[tuple[SessionSpec, ...], tuple[str, ...]]:
        return (SessionSpec(asks="Review the change and submit your findings."),), ()

    def probes(self, params: dict[str, Any]) -> tuple[Probe, ...]:
        """Retention probes of what ``sessions`` tells early and a later session needs."""
        return ()

    def build(self, params: dict[str, Any], seed: int) -> Rendered:
        inputs = self.inputs(params)
        return _rendered(self.name, canonical_json(inputs), int(seed))

    def inputs(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            inputs = {k: params[k] for k in (*COMMON_KEYS, *self.input_keys)}
        except KeyError as exc:
            raise TaskGenerationError(f"{self.name} params lack {exc.args[0]!r}",
                                      "build params with sample_params") from None
        if int(inputs["difficulty"]) not in N_FILES or not 1 <= int(inputs["n_files"]) <= 8:
            raise TaskGenerationError(f"difficulty must be 1..5 and n_files 1..8, got {inputs}")
        return inputs

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        inputs = self.inputs(params)
        r = self.build(inputs, seed)
        difficulty = int(inputs["difficulty"])
        issues = [dict(i, lines=list(i["lines"])) for i in r.issues]
        allowance = 1 if difficulty <= 2 else 2
        finding_args = {"issues": issues, "tolerance": TOLERANCE, "require_kind": self.require_kind,
                        "max_false_positives": allowance}
        reviewed = sorted(p for p in r.files)
        everything = [{"file": path, "line": line, "kind": issues[0]["kind"]}
                      for path, lines in sorted(r.changed.items()) for line in lines]
        traps = {"flag_everything": (GoldStep(op="submit", args={"answer": {"findings": everything}}),),
                 "approve": (GoldStep(op="submit", args={"answer": {"findings": [], "verdict": "approve"}}),)}
        probe = World.from_snapshot({"files": {}, "submission": {"findings": everything}})
        if findings_match(probe, None, **finding_args)[0]:
            raise TaskGenerationError(f"{self.name}: flagging every changed line would pass (seed {seed})")
        sessions, knowledge = self.sessions(inputs)
        n_changed = sum(len(v) for v in r.changed.values())
        return TaskSpec(
            id=task_id, category="code_review", family=self.name, difficulty=difficulty, seed=int(seed),
            params={**inputs, "package": r.meta["package"], "issues": issues, "changed_lines": n_changed,
                    **{k: v for k, v in r.meta.items() if k != "package"}},
            public={"package": r.meta["package"], "diff": DIFF_PATH, **({"kinds": list(self.kinds)} if self.kinds else {})},
            instructions=f"{self.task_text(r.meta['package'])} {SCHEMA}",
            sessions=sessions, knowledge=knowledge, probes=self.probes(inputs),
            # A careful reviewer reads the diff, opens each changed module once or twice and
            # submits once: actions grow with the modules, minutes with the changed lines.
            budget=end_of_day(15 + 3 * (len(r.changed) + 1), "the review"),
            checkers=(CheckerRef(name="findings_match", args=finding_args),
                      CheckerRef(name="review_files_unchanged",
                                 args={"digests": {p: file_digest(r.files[p]) for p in reviewed}})),
            gold=(GoldStep(op="submit", args={"answer": {"findings": [
                {"file": i["file"], "line": i["line"], "kind": i["kind"]} for i in issues]}}),),
            traps=traps,
        )

    def build_world(self, spec: TaskSpec) -> World:
        r = self.build(spec.params, spec.seed)
        return World.from_snapshot({"files": dict(r.files), "submission": None})


@lru_cache(maxsize=64)
def _rendered(family_name: str, inputs_json: str, seed: int) -> Rendered:
    """Shared by generate and build_world; callers must not mutate the result."""
    fam: ReviewFamily = get_family(family_name)  # type: ignore[assignment]
    params = json.loads(inputs_json)
    rng = np.random.Generator(np.random.PCG64(seed))
    draft = new_draft(rng, params, fam.header_extra())
    fam.compose(draft, params)
    add_benign(draft, int(params["n_benign"]))
    add_untouched(draft, int(params["n_untouched"]))
    fam.finish(draft, params)
    r = render(draft)
    if not r.issues:
        raise TaskGenerationError(f"{family_name} rendered no issue for seed {seed}")
    return r
