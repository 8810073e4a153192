"""harness.world.pycode (identifiers by AST, renames by token) and harness.world.testrun."""

from __future__ import annotations

import sys
import time

import pytest

from harness.world import Workspace, run_test_module
from harness.world.pycode import defines, identifier_counts, rename_identifier

SOURCE = '''"""Ledger docs: the Ledger keeps amounts."""
from json import JSONDecoder
from shop.ledger import Ledger, LedgerError
from shop import ledger

# a Ledger comment
NAME = "Ledger"


class AuditLedger(Ledger):
    def total(self, book: Ledger = None) -> int:
        label = f"Ledger {self.name}"
        return ledger.Ledger.total(self) + len(label)


def make(kind=Ledger, **kw):
    return kind(Ledger=1) if kw else JSONDecoder()
'''


# -- pycode -----------------------------------------------------------------------------
def test_identifier_counts_see_code_not_text():
    counts = identifier_counts(SOURCE)
    # import alias, base class, annotation, attribute, default, keyword argument
    assert counts["Ledger"] == 6
    assert counts["LedgerError"] == 1
    assert counts["AuditLedger"] == 1
    assert counts["JSONDecoder"] == 2
    assert counts["ledger"] == 3  # the module: `from shop.ledger`, `import ledger`, `ledger.Ledger`
    assert counts["Decoder"] == 0


def test_identifier_counts_refuse_broken_source():
    with pytest.raises(SyntaxError):
        identifier_counts("def broken(:\n")


def test_rename_leaves_strings_comments_and_longer_names_alone():
    renamed, n = rename_identifier(SOURCE, "Ledger", "Journal")
    assert n == 6
    counts = identifier_counts(renamed)
    assert counts["Ledger"] == 0
    assert counts["Journal"] == 6
    for kept in ("LedgerError", "AuditLedger", "JSONDecoder"):
        assert counts[kept] == identifier_counts(SOURCE)[kept]
    assert '"""Ledger docs: the Ledger keeps amounts."""' in renamed
    assert "# a Ledger comment" in renamed
    assert 'NAME = "Ledger"' in renamed
    assert 'f"Ledger {self.name}"' in renamed
    assert "from shop.ledger import Journal, LedgerError" in renamed


def test_rename_reaches_into_fstring_expressions():
    renamed, _ = rename_identifier('label = f"{Ledger.__name__}"\n', "Ledger", "Journal")
    assert identifier_counts(renamed)["Ledger"] == 0


def test_rename_of_absent_name_changes_nothing():
    assert rename_identifier(SOURCE, "Absent", "Other") == (SOURCE, 0)


def test_rename_refuses_broken_source_without_changing_it():
    with pytest.raises(SyntaxError):
        rename_identifier("class Ledger(:\n", "Ledger", "Journal")


def test_defines_top_level_only():
    assert defines(SOURCE, "AuditLedger")
    assert defines(SOURCE, "make")
    assert defines(SOURCE, "NAME")
    assert not defines(SOURCE, "total")  # a method, not a top-level name
    assert not defines(SOURCE, "Ledger")  # imported, not defined here


# -- testrun ----------------------------------------------------------------------------
def _ws(**files: str) -> Workspace:
    return Workspace({path.replace("__", "/"): text for path, text in files.items()})


PKG = {
    "calc____init__.py": "",
    "calc__ops.py": "def double(x):\n    return 2 * x\n\n\ndef half(x):\n    return x / 2\n",
}


def test_passing_and_failing_tests_are_reported():
    ws = _ws(**PKG)
    ws.write("tests/test_calc.py", (
        "from calc.ops import double, half\n\n\n"
        "def test_double():\n    assert double(2) == 4\n\n\n"
        "def test_half():\n    assert half(3) == 1\n\n\n"
        "def helper():\n    raise RuntimeError('not a test')\n"
    ))
    report = run_test_module(ws, "tests/test_calc.py", timeout_s=5)
    assert report.collected == 2
    assert report.passed == ["test_double"]
    assert not report.ok
    (failure,) = report.failures
    assert (failure.test, failure.error_type) == ("test_half", "AssertionError")
    assert (failure.path, failure.line) == ("tests/test_calc.py", 9)


def test_failure_points_at_the_innermost_workspace_frame():
    ws = _ws(**PKG)
    ws.write("calc/ops.py", "def double(x):\n    return x + undefined_name\n")
    ws.write("tests/test_calc.py", "from calc.ops import double\n\n\ndef test_double():\n    assert double(2) == 4\n")
    (failure,) = run_test_module(ws, "tests/test_calc.py", timeout_s=5).failures
    assert failure.error_type == "NameError"
    assert (failure.path, failure.line) == ("calc/ops.py", 2)


def test_syntax_error_is_a_collection_error_with_its_place():
    ws = _ws(**PKG)
    ws.write("calc/ops.py", "def double(x):\n    return 2 *\n")
    ws.write("tests/test_calc.py", "from calc.ops import double\n\n\ndef test_double():\n    assert double(2) == 4\n")
    report = run_test_module(ws, "tests/test_calc.py", timeout_s=5)
    assert not report.ok
    assert report.collected == 0
    assert report.collection_error is not None
    assert report.collection_error.error_type == "SyntaxError"
    assert (report.collection_error.path, report.collection_error.line) == ("calc/ops.py", 2)


def test_missing_module_is_a_collection_error():
    report = run_test_module(_ws(**PKG), "tests/test_nothing.py", timeout_s=5)
    assert not report.ok
    assert report.collection_error is not None
    assert report.collection_error.error_type == "FileNotFoundError"


def test_module_without_tests_is_not_ok():
    ws = _ws(**PKG)
    ws.write("tests/test_calc.py", "import calc.ops\n")
    report = run_test_module(ws, "tests/test_calc.py", timeout_s=5)
    assert report.collection_error is None and report.collected == 0
    assert not report.ok


LOOP_AT_IMPORT = "while True:\n    pass\n"
# The test tries to swallow the timeout; it must not be able to.
LOOP_IN_TEST = """def test_spin():
    try:
        while True:
            pass
    except Exception:
        pass
"""


@pytest.mark.parametrize("body", [LOOP_AT_IMPORT, LOOP_IN_TEST], ids=["import", "test"])
def test_endless_loop_runs_out_of_its_step_budget(body):
    ws = _ws(**PKG)
    ws.write("tests/test_spin.py", body)
    start = time.monotonic()
    report = run_test_module(ws, "tests/test_spin.py", timeout_s=60, max_steps=200_000)
    assert time.monotonic() - start < 30  # stopped by the count, long before the wall clock
    assert report.over_budget and not report.timed_out
    assert not report.ok
    assert "tests.test_spin" not in sys.modules


def test_system_exit_in_a_test_is_a_failure_not_an_exit():
    ws = _ws(**PKG)
    ws.write("tests/test_calc.py", "import sys\n\n\ndef test_exit():\n    sys.exit(3)\n")
    report = run_test_module(ws, "tests/test_calc.py", timeout_s=5)
    assert [f.error_type for f in report.failures] == ["SystemExit"]


def test_sys_modules_clean_and_shadowed_modules_restored():
    before = dict(sys.modules)
    ws = _ws(**PKG)
    # `tests` is also this repository's test package: the run must see the workspace's
    # and give ours back afterwards.
    ws.write("tests/test_calc.py", "from calc.ops import double\n\n\ndef test_double():\n    assert double(1) == 2\n")
    assert run_test_module(ws, "tests/test_calc.py", timeout_s=5).ok
    assert set(sys.modules) == set(before)
    assert all(sys.modules[k] is v for k, v in before.items())


def test_runs_do_not_see_each_others_code():
    ws = _ws(**PKG)
    ws.write("tests/test_calc.py", "from calc.ops import double\n\n\ndef test_double():\n    assert double(2) == 4\n")
    assert run_test_module(ws, "tests/test_calc.py", timeout_s=5).ok
    ws.write("calc/ops.py", "def double(x):\n    return 3 * x\n")
    assert not run_test_module(ws, "tests/test_calc.py", timeout_s=5).ok
    ws.write("calc/ops.py", PKG["calc__ops.py"])
    assert run_test_module(ws, "tests/test_calc.py", timeout_s=5).ok


def test_except_handler_names_are_identifiers():
    from harness.world.pycode import identifier_counts, rename_identifier

    src = "try:\n    pass\nexcept ValueError as Foo:\n    print(Foo)\n"
    assert identifier_counts(src)["Foo"] == 2
    assert rename_identifier(src, "Foo", "Bar")[1] == 2


def test_failure_messages_carry_workspace_paths_not_internal_urls():
    from harness.world import Workspace, run_test_module

    ws = Workspace({"pkg/__init__.py": "", "pkg/a.py": "X = 1\n",
                    "tests/test_a.py": "from pkg.a import Nope\n\ndef test_x():\n    assert True\n"})
    report = run_test_module(ws, "tests/test_a.py")
    assert report.collection_error is not None
    assert "ws://" not in report.collection_error.message and "pkg/a.py" in report.collection_error.message


# -- real-world syntax the rename must survive ---------------------------------------------
def test_rename_counts_rows_as_the_tokenizer_does_across_form_feeds():
    # ``str.splitlines`` splits at a form feed (an Emacs page break between sections), the
    # tokenizer does not: every rename below one used to miss its row and be refused.
    src = "x = 1\n\x0c\ndef Ledger():\n    return Ledger\n"
    renamed, n = rename_identifier(src, "Ledger", "Journal")
    assert n == 2
    assert renamed == "x = 1\n\x0c\ndef Journal():\n    return Journal\n"


def test_rename_in_fstrings_after_non_ascii_text_uses_character_columns():
    # The AST counts columns in UTF-8 bytes; the arrow is three bytes but one character.
    src = "def Ledger():\n    pass\n\n\nmsg = f'→ {Ledger()} and {Ledger.__name__}'\n"
    renamed, n = rename_identifier(src, "Ledger", "Journal")
    assert n == 3
    assert renamed.endswith("msg = f'→ {Journal()} and {Journal.__name__}'\n")
    assert identifier_counts(renamed)["Ledger"] == 0


def test_match_pattern_captures_are_identifiers_on_both_sides():
    src = ("def f(v):\n    match v:\n        case {'k': Ledger, **Extra}:\n            return Ledger, Extra\n"
           "        case Point(Ledger=[*Rest]):\n            return Rest\n")
    counts = identifier_counts(src)
    assert (counts["Ledger"], counts["Extra"], counts["Rest"]) == (3, 2, 2)
    for name in ("Ledger", "Extra", "Rest"):
        renamed, n = rename_identifier(src, name, "Other")
        assert n == counts[name] and identifier_counts(renamed)[name] == 0
