"""harness.world.pyrefs: a symbol's __all__ entries and doctest names are renamed with it;
its mentions in docstrings, strings and comments are found and classified, not renamed."""

from __future__ import annotations

import doctest

import pytest

from harness.world.pycode import identifier_counts
from harness.world.pyrefs import Mention, all_entries, mentions, rename_symbol
from tests.realsyntax import package

EXPORTS = '''\
__all__ = ['Ledger', "Journal", u'Ledger', 'LedgerError']
__all__ += ('Ledger',)
__all__.extend(['Ledger'])
__all__.append("Ledger")
__all__.insert(0, 'Ledger')
__all__: list[str] = ['Ledger']
if True:
    __all__ = __all__ + ['Ledger']
names = ['Ledger']  # not an export list
__all__.remove('Ledger')  # not a way to export
__all__ += ['Led' 'ger']  # implicitly concatenated: left alone, reported


class Ledger:
    pass
'''


def test_every_form_of_all_entry_is_renamed_and_nothing_else():
    result = rename_symbol(EXPORTS, "Ledger", "Book")
    assert (result.identifiers, result.all_entries, result.doctest_names) == (1, 8, 0)
    lines = result.text.splitlines()
    assert lines[0] == """__all__ = ['Book', "Journal", u'Book', 'LedgerError']"""
    assert lines[1:8] == ["__all__ += ('Book',)", "__all__.extend(['Book'])", '__all__.append("Book")',
                          "__all__.insert(0, 'Book')", "__all__: list[str] = ['Book']", "if True:",
                          "    __all__ = __all__ + ['Book']"]
    assert lines[8:11] == EXPORTS.splitlines()[8:11]
    assert "class Book:" in result.text
    assert all_entries(EXPORTS, "Ledger") == 9 and all_entries(result.text, "Book") == 8
    # The entry no token spells whole is left, but named; the list that is not __all__ too.
    assert mentions(result.text, "Ledger") == [Mention(9, "string"), Mention(10, "string"), Mention(11, "string")]


def test_all_entries_inside_functions_are_not_exports():
    src = "def f():\n    __all__ = ['Ledger']\n    return __all__\n\n\nLedger = 1\n"
    assert rename_symbol(src, "Ledger", "Book").all_entries == 0
    assert Mention(2, "string") in mentions(src, "Ledger")


def test_slots_name_attributes_and_are_renamed_with_them():
    # toolz.functoolz.Compose: `__slots__ = 'first', 'funcs'` then `self.first = funcs[0]`.
    src = ("class Compose:\n    __slots__ = 'first', 'funcs'\n\n    def __init__(self, funcs):\n"
           "        self.first = funcs[0]\n\n\nclass One:\n    __slots__ = 'first'\n"
           "    other = ['first']  # not slots\n")
    result = rename_symbol(src, "first", "head")
    assert (result.identifiers, result.slots_entries, result.total) == (1, 2, 3)
    assert "__slots__ = 'head', 'funcs'" in result.text and "self.head = funcs[0]" in result.text
    assert "    __slots__ = 'head'\n" in result.text
    assert mentions(result.text, "first") == [Mention(10, "string")]


DOCTESTS = '''\
def Ledger(x):
    """Double x: Ledger is documented here.

    >>> Ledger(2)
    4
    >>> total = (Ledger(1) +
    ...          Ledger(3))
    >>> getattr(Ledger, "__name__")
    'Ledger'
    >>> text = "Ledger"  # a string in doctest code stays
    """
    return 2 * x
'''


def test_doctest_code_is_renamed_its_output_and_prose_are_reported():
    result = rename_symbol(DOCTESTS, "Ledger", "Book")
    # The def and the name in every doctest code line (continuations too), never in strings.
    assert (result.identifiers, result.doctest_names) == (1, 4)
    examples = doctest.DocTestParser().get_examples(result.text.split('"""')[1])
    assert [e.source for e in examples] == ["Book(2)\n", "total = (Book(1) +\n         Book(3))\n",
                                            'getattr(Book, "__name__")\n', 'text = "Ledger"  # a string in doctest code stays\n']
    assert mentions(result.text, "Ledger") == [Mention(2, "docstring"), Mention(9, "doctest_output"),
                                               Mention(10, "docstring")]


def test_a_docstring_assigned_to_dunder_doc_is_a_docstring():
    # toolz.functoolz: `num_required_args.__doc__ = """ ... >>> num_required_args(f) ..."""`
    src = ('def Ledger():\n    pass\n\n\nLedger.__doc__ = """Ledger help.\n\n    >>> Ledger()\n    """\n'
           'other = """>>> Ledger()"""\n')
    result = rename_symbol(src, "Ledger", "Book")
    assert (result.identifiers, result.doctest_names) == (2, 1)
    assert '>>> Book()\n' in result.text and 'other = """>>> Ledger()"""' in result.text
    assert mentions(result.text, "Ledger") == [Mention(5, "docstring"), Mention(9, "string")]


def test_an_ellipsis_in_expected_output_is_not_code():
    src = ('def Ledger():\n    """\n    >>> print(Ledger)  # doctest: +ELLIPSIS\n    <function Ledger at ...>\n'
           '    ... Ledger(2)\n    """\n')
    result = rename_symbol(src, "Ledger", "Book")
    assert result.doctest_names == 1
    assert "    ... Ledger(2)\n" in result.text  # output (after output), not a continuation line
    assert mentions(result.text, "Ledger") == [Mention(4, "doctest_output"), Mention(5, "doctest_output")]


def test_mentions_classify_strings_comments_and_fstring_text():
    src = ('"""The Ledger module."""\n'
           "# Ledger lives here\n"
           "key = {'Ledger': 1}\n"
           "msg = f'Ledger {Ledger!r} {LedgerError}'\n"
           "Ledger = LedgerError = None\n")
    assert mentions(src, "Ledger") == [Mention(1, "docstring"), Mention(2, "comment"), Mention(3, "string"),
                                       Mention(4, "string")]
    # The field of the f-string is code: once renamed, no mention is left in that string.
    renamed = rename_symbol(src, "Ledger", "Book").text
    assert "f'Ledger {Book!r} {LedgerError}'" in renamed
    assert mentions("x = f'{Ledger}'\nLedger = 1\n", "Ledger") == []


def test_longer_names_in_text_are_not_mentions():
    assert mentions("# LedgerError and Ledgers and my_Ledger\nx = 'ledger'\n", "Ledger") == []


def test_broken_source_is_refused_not_guessed():
    with pytest.raises(SyntaxError):
        rename_symbol("def Ledger(:\n", "Ledger", "Book")
    with pytest.raises(SyntaxError):
        mentions("def Ledger(:\n", "Ledger")


# -- on excerpts of real packages -----------------------------------------------------------
def test_boltons_class_with_all_entry_doctests_and_classmethod():
    src = package("boltons")["boltons/dictutils.py"]
    result = rename_symbol(src, "OrderedMultiDict", "OMDict")
    assert (result.identifiers, result.all_entries, result.doctest_names) == (4, 1, 1)
    assert "__all__ = ['MultiDict', 'OMD', 'OMDict', 'OneToOne'" in result.text
    assert "    >>> omd = OMDict()\n" in result.text
    assert "OMD = OMDict\nMultiDict = OMDict\n" in result.text
    assert "    @classmethod\n    def fromkeys(cls, keys, default=None):" in result.text
    kinds = [m.kind for m in mentions(result.text, "OrderedMultiDict")]
    # The reprs a doctest compares are named as such, apart from the prose.
    assert kinds == ["docstring", "docstring", "doctest_output", "doctest_output", "doctest_output"]


def test_decorated_definitions_are_renamed_under_their_decorators():
    src = package("typeguard")["tests/dummymodule.py"]
    for old in ("type_checked_func", "type_checked_classmethod", "type_checked_staticmethod",
                "unannotated_property", "DummyClass"):
        result = rename_symbol(src, old, "renamed")
        assert identifier_counts(result.text)[old] == 0
        assert identifier_counts(result.text)["renamed"] == identifier_counts(src)[old] == result.identifiers
    # A forward reference is a string: reported, not renamed.
    assert mentions(rename_symbol(src, "DummyClass", "Dummy").text, "DummyClass") == [Mention(14, "string")]
    decorators = package("typeguard")["src/typeguard/_decorators.py"]
    result = rename_symbol(decorators, "typechecked", "type_checked")
    assert result.identifiers == 4  # two @overload stubs, the def, partial(typechecked, ...)
    assert result.text.count("def type_checked(") == 3
