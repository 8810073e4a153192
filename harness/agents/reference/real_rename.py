"""Strategy for renaming a public symbol of a real package: the rename strategy, unchanged.

The brief of ``real_rename`` says what the generated family's says (old and new name,
where the package is, the test module that uses the name most), so the agent renames a
real code base exactly as it renames a generated one: search, rename, look for damage,
run the tests, repair. Whatever the real syntax does to the tools shows up here.
"""

from __future__ import annotations

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.rename_symbol import rename_symbol
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief


@STRATEGIES.register("code_modification/real_rename")
def real_rename(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    return (yield from rename_symbol(brief, kit, errors))
