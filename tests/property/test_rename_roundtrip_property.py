"""Properties of the symbol rename on modules built from real-world syntax pieces
(decorators, ``__all__`` in all its forms, ``__slots__``, doctests, f-strings, attributes, form feeds,
non-ASCII text):

- renaming old -> new and then new -> old restores the source byte for byte, when the
  module did not contain ``new``;
- the checker's view agrees with the tool's: after the rename ``old`` is no identifier
  and ``new`` is one exactly as often as ``old`` was (``identifier_counts``, which the
  ``no_identifier`` checker reads).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.world.pycode import identifier_counts
from harness.world.pyrefs import all_entries, rename_symbol

OLD, NEW = "Ledger", "Journal"
NAMES = (OLD, OLD, "LedgerError", "my_Ledger", "other", "Ledgers")

PIECES = (
    "def {a}(x, {b}=None):\n    '''Use {a} and {b}.\n\n    >>> {a}({c})\n    {a}\n    >>> y = ({b} +\n    ...      {c})\n    '''\n"
    "    return {b}(x)\n",
    "__all__ = [{q}{a}{q}, {q}{b}{q}]\n",
    "__all__ += ({q}{a}{q},)\n",
    "__all__.extend([{q}{c}{q}])\n",
    "__all__.append({q}{a}{q})\n",
    "@{a}\n@{b}.setter\ndef {c}(self):\n    return self.{a}  # {b}\n",
    "class {a}({b}):\n    @staticmethod\n    def {c}():\n        return {a}.{b}\n",
    "x = f'{{{a}}} and {{{b}.{c}}} {a}'\n",
    "y = getattr(obj, {q}{a}{q}) or {{{q}{b}{q}: {c}}}\n",
    "from pkg.{a} import {b} as {c}\n",
    "try:\n    pass\nexcept {a} as {b}:\n    {c}({b}=1)\n",
    "\x0c\n",
    "{a}.__doc__ = \"\"\"Help.\n\n    >>> {b}({c})\n    {a}\n    \"\"\"\n",
    "class K:\n    __slots__ = ({q}{a}{q}, {q}{b}{q})\n\n    def f(self):\n        return self.{a}\n",
    "z = '→ {a}'; w = f'→ {{{b}}}'\n",
)

piece = st.builds(
    lambda template, a, b, c, q: template.format(a=a, b=b, c=c, q=q),
    st.sampled_from(PIECES), st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(NAMES),
    st.sampled_from(["'", '"']),
)
modules = st.lists(piece, min_size=1, max_size=8).map("".join)


@settings(max_examples=200, deadline=None)
@given(source=modules)
def test_renaming_there_and_back_restores_the_source(source):
    forward = rename_symbol(source, OLD, NEW)
    back = rename_symbol(forward.text, NEW, OLD)
    assert back.text == source
    assert (back.identifiers, back.all_entries, back.doctest_names, back.slots_entries) == (
        forward.identifiers, forward.all_entries, forward.doctest_names, forward.slots_entries)


@settings(max_examples=200, deadline=None)
@given(source=modules)
def test_the_checker_sees_what_the_tool_did(source):
    before = identifier_counts(source)
    result = rename_symbol(source, OLD, NEW)
    after = identifier_counts(result.text)
    assert after[OLD] == 0
    assert after[NEW] == before[OLD] == result.identifiers
    assert all(after[name] == before[name] for name in NAMES if name != OLD)
    assert all_entries(result.text, OLD) == 0 and all_entries(result.text, NEW) == all_entries(source, OLD)
