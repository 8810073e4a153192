"""Strategy for extracting a repeated block into one helper: read the block from the brief,
find its copies, define the helper, replace every copy by a call, verify, repair, submit.

The brief quotes the block verbatim, so copies are found by searching for its most
distinctive line and replaced as text; a file that still holds a copy after a round is
found by the next search. Slips (a forgotten import) are found by reading back what was
written when the tests fail.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from harness.agents.reference import codemod_support as cs
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Think


@dataclass(frozen=True)
class Extraction:
    block: str  # the repeated statements, unindented
    helper: str
    home: str  # path of the module that defines the helper
    package: str

    @property
    def copy(self) -> str:
        return textwrap.indent(self.block, "    ")

    @property
    def call(self) -> str:
        return f"    cleaned = {self.helper}(values)"

    @property
    def probe(self) -> str:
        """The line searched for: the first one that reads the input."""
        lines = self.block.splitlines()
        return next((ln.strip() for ln in lines if "values" in ln), lines[0].strip())

    @property
    def import_line(self) -> str:
        return f"from {self.home.removesuffix('.py').replace('/', '.')} import {self.helper}"

    def definition(self) -> str:
        return (f"def {self.helper}(values: list[int]) -> list[int]:\n"
                f'    """The amounts cleaned the shared way."""\n{self.copy}\n    return cleaned\n')


def parse_block(instructions: str) -> str | None:
    raw = cs.between(instructions, ":\n\n", "\n\nExtract it into")
    return textwrap.dedent(raw).strip("\n") if raw else None


@STRATEGIES.register("code_modification/extract_helper")
def extract_helper(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    block = parse_block(brief.instructions)
    if block is None:
        yield GiveUp(reason="the brief does not show the block")
        return
    job = Extraction(block, brief.public["helper"], brief.public["helper_module"], brief.public["package"])
    test_module = brief.public["test_module"]
    yield Think(step=f"extract the block into {job.helper} in {job.home}; replace every copy")
    meant = cs.EditMemory(errors.capacity)
    home_text = yield from kit.read(job.home)
    if home_text is None:
        yield GiveUp(reason=f"cannot read {job.home}")
        return
    intended = _replaced(home_text, job, home=True)
    meant[job.home] = intended
    yield from cs.edit_checked(kit, errors, job.home, home_text, intended)
    clean = yield from _replace_copies(kit, errors, job, meant)
    if not clean:
        yield GiveUp(reason="copies of the block remain")
        return
    yield from cs.verify_and_submit(kit, errors, test_module, meant,
                                    lambda path, text: _replaced(text, job, home=path == job.home))


def _replace_copies(kit: Toolkit, errors: ErrorProcesses, job: Extraction, meant: cs.EditMemory) -> Steps:
    """Rounds of: search for copies, edit what fits in mind, search again. True when none
    is left outside the helper."""
    for _ in range(3 + errors.retries):
        files = yield from _holders(kit, job)
        if files is None:
            continue
        if not files:
            return True
        for path in files[: errors.capacity]:
            text = yield from kit.read(path)
            if text is None:
                continue
            intended = _replaced(text, job, home=path == job.home)
            meant[path] = intended
            written = _replaced(text, job, home=path == job.home, forget_import=errors.slip())
            yield from cs.edit_checked(kit, errors, path, text, written)
    return False


def _holders(kit: Toolkit, job: Extraction) -> Steps:
    """Files with a copy of the block outside the helper's own definition."""
    hits = yield from kit.search(job.probe, [job.package])
    if hits is None:
        return None
    files = set()
    for hit in hits:
        if hit.path != job.home:
            files.add(hit.path)
            continue
        text = yield from kit.read(hit.path)
        if text is not None and text.count(job.copy) > text.count(job.definition()):
            files.add(hit.path)
    return sorted(files)


def _replaced(text: str, job: Extraction, *, home: bool, forget_import: bool = False) -> str:
    if home:
        body = text.replace(job.definition(), "\0")  # the helper keeps its own copy
        body = body.replace(job.copy, job.call).replace("\0", job.definition())
        if job.definition() not in body:
            body = body.rstrip("\n") + "\n\n\n" + job.definition()
        return body
    body = text.replace(job.copy, job.call)
    if body != text and not forget_import:
        body = cs.add_import(body, job.import_line)
    return body
