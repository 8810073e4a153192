"""Building blocks for generated Python packages: filler code and stdlib near-miss uses.

Filler gives a generated package realistic bulk (small functions doing real arithmetic,
classes with methods, imports between modules) without touching the names a task is
about. ``STDLIB_USES`` is the curated table of standard-library names that contain a
plausible old name (``JSONDecoder`` contains ``Decoder``), each with a helper body whose
result a test can assert, so a textual replace of the old name breaks a real import.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

import numpy as np

from harness.workload.names import NOUNS, Namer, camel, pick, plural, randint


@dataclass(frozen=True)
class StdlibUse:
    stems: tuple[str, ...]  # old names that this use is a near-miss of
    kind: str  # the kind of those old names: "class" or "function"
    imports: tuple[str, ...]
    body: tuple[str, ...]  # helper body; the argument is called ``value``
    arg: str  # literal argument a test passes
    expected: str  # literal the helper returns for ``arg``
    verb: str  # helper names are ``<verb>_<noun>``


def _use(stems: str, kind: str, imports: str, body: str, arg: str, expected: str, verb: str) -> StdlibUse:
    return StdlibUse(tuple(stems.split()), kind, tuple(i for i in imports.split(";") if i),
                     tuple(body.split(";")), arg, expected, verb)


STDLIB_USES: tuple[StdlibUse, ...] = (
    # -- class-kind stems ---------------------------------------------------------------
    _use("Decoder", "class", "from json import JSONDecoder", "return JSONDecoder().decode(value)",
         "'{\"qty\": 3}'", "{'qty': 3}", "decode"),
    _use("Encoder", "class", "from json import JSONEncoder",
         "return JSONEncoder(sort_keys=True).encode(value)", "{'b': 1, 'a': 2}",
         "'{\"a\": 2, \"b\": 1}'", "encode"),
    _use("Parser", "class", "from argparse import ArgumentParser",
         "parser = ArgumentParser(prog='tool');parser.add_argument('--limit', type=int, default=1)"
         ";return parser.parse_args(value).limit", "['--limit', '7']", "7", "parse"),
    _use("Parser", "class", "from configparser import ConfigParser",
         "parser = ConfigParser();parser.read_string(value);return parser.get('main', 'name')",
         "'[main]\\nname = depot\\n'", "'depot'", "read"),
    _use("Order", "class", "from collections import OrderedDict",
         "return list(OrderedDict.fromkeys(value))", "[3, 1, 3, 2]", "[3, 1, 2]", "dedupe"),
    _use("Queue", "class", "from queue import PriorityQueue",
         "pending = PriorityQueue();for item in value:;    pending.put(item)"
         ";return [pending.get() for _ in value]", "[3, 1, 2]", "[1, 2, 3]", "prioritize"),
    _use("Queue", "class", "from queue import LifoQueue",
         "pending = LifoQueue();for item in value:;    pending.put(item)"
         ";return [pending.get() for _ in value]", "[3, 1, 2]", "[2, 1, 3]", "unstack"),
    _use("Record", "class", "from logging import LogRecord",
         "return LogRecord('app', 20, 'path', 1, value, None, None).getMessage()",
         "'ready'", "'ready'", "render"),
    _use("Reader", "class", "from csv import DictReader",
         "return [row['qty'] for row in DictReader(value)]", "['sku,qty', 'a,3', 'b,5']",
         "['3', '5']", "read"),
    _use("Writer", "class", "from csv import DictWriter;from io import StringIO",
         "out = StringIO();writer = DictWriter(out, fieldnames=sorted(value), lineterminator='\\n')"
         ";writer.writeheader();writer.writerow(value);return out.getvalue()",
         "{'b': 2, 'a': 1}", "'a,b\\n1,2\\n'", "write"),
    _use("Sequence Matcher", "class", "from difflib import SequenceMatcher",
         "return SequenceMatcher(None, value, 'abcd').ratio()", "'abce'", "0.75", "compare"),
    _use("Wrapper", "class", "from textwrap import TextWrapper",
         "return TextWrapper(width=10).wrap(value)", "'alpha beta gamma delta'",
         "['alpha beta', 'gamma', 'delta']", "wrap"),
    _use("Handler", "class", "from logging import NullHandler",
         "handler = NullHandler();handler.setLevel(value);return handler.level", "30", "30", "silence"),
    _use("Handler Stream", "class", "from logging import StreamHandler;from io import StringIO",
         "handler = StreamHandler(StringIO());handler.setLevel(value);return handler.level",
         "40", "40", "attach"),
    _use("Adapter Logger", "class", "from logging import LoggerAdapter, getLogger",
         "return LoggerAdapter(getLogger('app'), {'job': value}).extra['job']", "'nightly'",
         "'nightly'", "tag"),
    _use("Builder", "class", "from xml.etree.ElementTree import TreeBuilder",
         "builder = TreeBuilder();builder.start(value, {});return builder.end(value).tag",
         "'root'", "'root'", "build"),
    _use("Element", "class", "from xml.etree.ElementTree import SubElement, fromstring",
         "return SubElement(fromstring(value), 'child').tag", "'<root/>'", "'child'", "nest"),
    _use("Lock", "class", "from threading import RLock",
         "guard = RLock();with guard:;    return value * 2", "4", "8", "guard"),
    _use("Value", "class", "", "try:;    return int(value);except ValueError:;    return -1",
         "'x'", "-1", "coerce"),
    _use("Key", "class", "", "try:;    return {'a': 1}[value];except KeyError:;    return 0",
         "'b'", "0", "fetch"),
    _use("Index", "class", "", "try:;    return [1, 2, 3][value];except IndexError:;    return None",
         "5", "None", "pick"),
    _use("Lookup", "class", "", "try:;    return {'a': 1}[value];except LookupError:;    return 0",
         "'z'", "0", "lookup"),
    _use("Connection", "class", "",
         "try:;    raise ConnectionResetError(value);except ConnectionError as exc:;    return str(exc)",
         "'reset'", "'reset'", "probe"),
    _use("Timeout", "class", "",
         "error = TimeoutError(value);return f'{type(error).__name__}: {value}'",
         "'slow'", "'TimeoutError: slow'", "describe"),
    _use("Buffer Reader", "class", "from io import BufferedReader, BytesIO",
         "return BufferedReader(BytesIO(value)).read()", "b'abc'", "b'abc'", "drain"),
    _use("Namespace", "class", "from types import SimpleNamespace",
         "return SimpleNamespace(qty=value).qty", "3", "3", "wrap"),
    _use("Message", "class", "from email.message import EmailMessage",
         "message = EmailMessage();message['Subject'] = value;return message['Subject']",
         "'hi'", "'hi'", "compose"),
    _use("Mapping Proxy", "class", "from types import MappingProxyType",
         "return dict(MappingProxyType(value))", "{'a': 1}", "{'a': 1}", "freeze"),
    _use("Path", "class", "from pathlib import PurePosixPath",
         "return PurePosixPath(value).suffix", "'a/b.csv'", "'.csv'", "suffix"),
    _use("Manager Context", "class", "from contextlib import AbstractContextManager, nullcontext",
         "return isinstance(nullcontext(value), AbstractContextManager)", "1", "True", "check"),
    # -- function-kind stems ------------------------------------------------------------
    _use("median", "function", "from statistics import median_low, median_high",
         "return (median_low(value), median_high(value))", "[1, 2, 3, 4]", "(2, 3)", "bracket"),
    _use("mean", "function", "from statistics import fmean", "return fmean(value)",
         "[1, 2, 3]", "2.0", "smooth"),
    _use("variance", "function", "from statistics import pvariance", "return pvariance(value)",
         "[2, 4]", "1", "spread"),
    _use("stdev", "function", "from statistics import pstdev", "return pstdev(value)",
         "[2, 4]", "1.0", "deviate"),
    _use("largest", "function", "from heapq import nlargest", "return nlargest(2, value)",
         "[5, 1, 9, 3]", "[9, 5]", "top"),
    _use("smallest", "function", "from heapq import nsmallest", "return nsmallest(2, value)",
         "[5, 1, 9, 3]", "[1, 3]", "bottom"),
    _use("delta", "function", "from datetime import timedelta",
         "return timedelta(minutes=value).total_seconds()", "2", "120.0", "seconds"),
    _use("digest", "function", "from hashlib import sha256",
         "return sha256(value.encode()).hexdigest()[:8]", "'abc'", "'ba7816bf'", "fingerprint"),
    _use("quantile", "function", "from statistics import quantiles",
         "return quantiles(value, n=4)", "[1, 2, 3, 4, 5, 6, 7, 8]", "[2.25, 4.5, 6.75]", "cut"),
    _use("mode", "function", "from statistics import multimode", "return multimode(value)",
         "[1, 1, 2, 2, 3]", "[1, 2]", "common"),
    _use("norm", "function", "from os.path import normpath", "return normpath(value)",
         "'a//b/./c'", "'a/b/c'", "clean"),
)

# Bodies of old functions named after a stem (signature ``(values, scale=1) -> int``), and
# natural new names for them.
FUNCTION_STEMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "median": ("ordered = sorted(values);return ordered[len(ordered) // 2] * scale if ordered else 0",
               ("middle_value", "midpoint")),
    "mean": ("return sum(values) * scale // max(len(values), 1)", ("average", "typical_value")),
    "variance": ("center = sum(values) // max(len(values), 1)"
                 ";return sum((item - center) ** 2 for item in values) * scale", ("dispersion",)),
    "stdev": ("center = sum(values) / max(len(values), 1)"
              ";return int((sum((item - center) ** 2 for item in values) / max(len(values), 1)) ** 0.5) * scale",
              ("deviation", "volatility")),
    "largest": ("return max(values, default=0) * scale", ("peak_value", "ceiling_value")),
    "smallest": ("return min(values, default=0) * scale", ("floor_value", "trough_value")),
    "delta": ("return (values[-1] - values[0]) * scale if values else 0", ("difference", "net_change")),
    "digest": ("return sum(i * item for i, item in enumerate(values, start=1)) % 997 * scale",
               ("checksum", "fingerprint_value")),
    "quantile": ("ordered = sorted(values);return ordered[len(ordered) * 3 // 4] * scale if ordered else 0",
                 ("percentile", "upper_quartile")),
    "mode": ("return max(sorted(set(values)), key=values.count) * scale if values else 0",
             ("most_frequent", "prevalent_value")),
    "norm": ("return sum(item * item for item in values) * scale", ("magnitude", "energy")),
}
GENERIC_FUNCTION_BODIES = (
    "return sum(item * scale for item in values)",
    "return sum(item for item in values if item > 0) * scale",
    "return len(values) * scale + sum(values[::2])",
    "return (max(values, default=0) - min(values, default=0)) * scale",
)


def uses_for(kind: str, stem: str) -> list[StdlibUse]:
    return [u for u in STDLIB_USES if u.kind == kind and stem in u.stems]


def stems_for(kind: str) -> list[str]:
    return sorted({s for u in STDLIB_USES if u.kind == kind for s in u.stems})


def render_helper(name: str, use: StdlibUse) -> str:
    body = "\n".join("    " + line for line in use.body)
    return f'def {name}(value):\n    """Thin wrapper kept for callers of the {use.verb} step."""\n{body}\n'


# -- filler ---------------------------------------------------------------------------
_LIST_FILLERS = (
    ("int", """def $name($arg: list[int], factor: int = $k) -> int:
    \"\"\"Total of the $noun amounts, each scaled by ``factor``.\"\"\"
    total = 0
    for item in $arg:
        total += item * factor
    return total
"""),
    ("int", """def $name($arg: list[int], threshold: int = $k) -> int:
    \"\"\"How many $noun amounts exceed ``threshold``.\"\"\"
    return sum(1 for item in $arg if item > threshold)
"""),
    ("dict", """def $name($arg: list[int]) -> dict[str, int]:
    \"\"\"Split the $noun amounts into even and odd totals.\"\"\"
    buckets: dict[str, int] = {}
    for item in $arg:
        key = "even" if item % 2 == 0 else "odd"
        buckets[key] = buckets.get(key, 0) + item
    return buckets
"""),
    ("list", """def $name($arg: list[int], low: int = $k, high: int = $hi) -> list[int]:
    \"\"\"Clamp each $noun amount into [low, high].\"\"\"
    return [min(max(item, low), high) for item in $arg]
"""),
    ("int", """def $name($arg: list[int]) -> int:
    \"\"\"Position-weighted sum of the $noun amounts.\"\"\"
    return sum(index * item for index, item in enumerate($arg, start=1))
"""),
    ("str", """def $name(label: str, count: int = $k) -> str:
    \"\"\"A stable $noun label such as ``$prefix-north-007``.\"\"\"
    return f"$prefix-{label.strip().lower()}-{count:03d}"
"""),
)
_COMPOSED = """def $name($arg: list[int]) -> int:
    \"\"\"The $noun figure: ``$dep`` plus a fixed allowance.\"\"\"
    return $dep($arg) + $k
"""
_CLASS = """class $name:
    \"\"\"A bounded pool of $noun amounts.\"\"\"

    def __init__(self, capacity: int = $k) -> None:
        self.capacity = capacity
        self.items: list[int] = []

    def push(self, item: int) -> bool:
        if len(self.items) >= self.capacity:
            return False
        self.items.append(item)
        return True

    def usage(self) -> float:
        return len(self.items) / self.capacity
"""


@dataclass(frozen=True)
class Filler:
    name: str
    source: str
    int_from_list: bool  # callable as ``name(list_of_ints) -> int`` (usable as a dependency)


def filler_function(namer: Namer, rng: np.random.Generator, dep: str | None = None) -> Filler:
    """One filler function; with ``dep`` (an int-from-list function in scope) it calls it."""
    noun = pick(rng, NOUNS)
    fields = {"name": namer.function(), "arg": plural(noun), "noun": noun,
              "k": randint(rng, 1, 10), "hi": randint(rng, 20, 90), "prefix": noun[:3]}
    if dep is not None:
        return Filler(fields["name"], Template(_COMPOSED).substitute(fields, dep=dep), True)
    returns, template = _LIST_FILLERS[randint(rng, len(_LIST_FILLERS))]
    return Filler(fields["name"], Template(template).substitute(fields), returns == "int")


def filler_class(namer: Namer, rng: np.random.Generator) -> Filler:
    name = namer.klass()
    noun = pick(rng, NOUNS)
    return Filler(name, Template(_CLASS).substitute(name=name, noun=noun, k=randint(rng, 3, 12)), False)


def module_docstring(rng: np.random.Generator, module: str) -> str:
    topic = module.replace("_", " ")
    return pick(rng, (f"Helpers for {topic}.", f"The {topic} step of the nightly run.",
                      f"{camel(topic.split()[0])} calculations shared by the reports."))
