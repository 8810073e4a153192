"""Strategy for renaming a public symbol of a real package: the rename strategy, unchanged.

The brief of ``real_rename`` says what the generated family's says (old and new name,
where the package is, the test module that uses the name most), so the agent renames a
real code base exactly as it renames a generated one: search, rename, look for damage,
run the tests, repair. Whatever the real syntax does to the tools shows up here.
"""

from __future__ import annotations

from harness.agents.reference.rename_symbol import rename_symbol
from harness.agents.reference.strategies import STRATEGIES

STRATEGIES.register("code_modification/real_rename")(rename_symbol)
