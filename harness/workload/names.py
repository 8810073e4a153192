"""Word lists and deterministic name drawing for generated code.

Every draw takes an ``np.random.Generator`` so generated tasks depend only on their seed.
Rename targets come from lists disjoint from the general vocabulary, so a new name can
never already exist in a generated package.
"""

from __future__ import annotations

import builtins
import keyword
import sys
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from harness.core.errors import TaskGenerationError

NOUNS = (
    "inventory", "order", "invoice", "account", "shipment", "customer", "supplier",
    "warehouse", "catalog", "payment", "refund", "budget", "report", "schedule", "route",
    "ticket", "batch", "parcel", "vendor", "receipt", "quota", "tariff", "stock", "price",
    "discount", "balance", "cart", "basket", "depot", "fleet", "crate", "pallet", "shelf",
    "tax", "fee", "audit", "forecast", "demand", "carrier", "region", "product", "coupon",
    "rebate", "margin", "credit", "debit", "ledger", "voucher", "manifest", "season",
)
ASPECTS = (
    "rules", "views", "utils", "stats", "sync", "cache", "checks", "models", "helpers",
    "export", "loader", "planner", "pricing", "totals", "alerts", "limits",
)
VERBS = (
    "compute", "summarize", "validate", "merge", "apply", "reconcile", "collect", "estimate",
    "allocate", "adjust", "rank", "tally", "prepare", "resolve", "project", "score", "build",
    "scan", "check", "weigh", "pack", "bundle", "settle", "review", "sort", "trim",
)
# CamelCase words for generated classes (old names of generic class renames, filler classes).
CLASS_WORDS = (
    "Ledger", "Invoice", "Shipment", "Catalog", "Inventory", "Voucher", "Tariff", "Manifest",
    "Allocation", "Forecast", "Requisition", "Consignment", "Receipt", "Quota", "Budget",
    "Account", "Parcel", "Pallet", "Warehouse", "Carrier", "Coupon", "Rebate",
)
FILLER_CLASS_SUFFIXES = ("Pool", "Plan", "Window", "Tracker", "Meter", "Board", "Slot", "Desk")
PACKAGE_SUFFIXES = ("kit", "ops", "desk", "works", "hub", "flow", "lab", "wise", "craft", "yard")

# Rename targets: never used by the general vocabulary above.
CLASS_TARGETS = (
    "Journal", "Roster", "Docket", "Folio", "Chronicle", "Logbook", "Tableau", "Dossier",
    "Almanac", "Steward", "Curator", "Courier", "Conduit", "Vault", "Compendium", "Bulletin",
    "Charter", "Portfolio", "Keeper", "Registrar",
)
TARGET_VERBS = ("tabulate", "aggregate", "consolidate", "distill", "assemble", "derive",
                "gauge", "appraise", "quantify", "survey")
TARGET_NOUNS = ("figures", "tallies", "metrics", "readings", "samples", "quantities")

BUILTIN_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


def randint(rng: np.random.Generator, low: int, high: int | None = None) -> int:
    """Uniform in [low, high) (or [0, low)); one float draw, a few times cheaper than
    ``rng.integers`` for scalars, which matters with thousands of draws per package."""
    if high is None:
        low, high = 0, low
    return low + int(rng.random() * (high - low))


def pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[randint(rng, len(options))]


_F_TO_VES = frozenset({"shelf", "leaf", "half", "calf", "loaf", "wolf", "self", "sheaf", "thief"})


def plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun in _F_TO_VES:
        return noun[:-1] + "ves"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def camel(*words: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in words)


# Third-party names a generated package must not take. A fixed list, not a look-up of what
# happens to be installed: task generation must give the same worlds on every machine.
RESERVED_MODULES = frozenset({
    "tests", "harness", "numpy", "pandas", "scipy", "duckdb", "pydantic", "hydra", "omegaconf", "typer",
    "rich", "faiss", "matplotlib", "pytest", "hypothesis", "yaml", "requests", "attr", "attrs", "six",
    "setuptools", "pip", "click", "jinja2", "dateutil", "pytz", "ray",
})


def is_free_module_name(name: str) -> bool:
    """Not a stdlib or well-known module name, so a generated package never shadows one."""
    return not (name in sys.stdlib_module_names or name in BUILTIN_NAMES or name in RESERVED_MODULES)


class Namer:
    """Draws unique identifiers, refusing any that contain a reserved substring.

    Reserving the old and new name of a rename keeps every accidental near-miss out of
    the generated code; deliberate near-misses are made by the caller, not here.
    """

    def __init__(self, rng: np.random.Generator, reserved: Iterable[str] = ()):
        self.rng = rng
        self.used: set[str] = set()
        self.reserved = tuple(r for r in reserved if r)

    def acceptable(self, name: str) -> bool:
        return (
            name.isidentifier()
            and name not in self.used
            and name not in BUILTIN_NAMES
            and not any(r in name for r in self.reserved)
        )

    def acceptable_near_miss(self, name: str, old: str, taken: set[str]) -> bool:
        """A deliberate near-miss contains ``old`` but no other reserved name."""
        return (
            name.isidentifier()
            and name != old
            and old in name
            and name not in self.used
            and name not in BUILTIN_NAMES
            and name not in taken
            and not any(r in name for r in self.reserved if r != old)
        )

    def claim(self, name: str) -> str:
        self.used.add(name)
        return name

    def draw(self, make: Callable[[np.random.Generator], str], what: str = "name") -> str:
        for _ in range(500):
            name = make(self.rng)
            if self.acceptable(name):
                return self.claim(name)
        raise TaskGenerationError(f"could not draw a fresh {what}; vocabulary exhausted")

    def module(self) -> str:
        def make(rng: np.random.Generator) -> str:
            noun = pick(rng, NOUNS)
            return noun if rng.random() < 0.3 else f"{noun}_{pick(rng, ASPECTS)}"

        return self.draw(make, "module name")

    def function(self, verbs: tuple[str, ...] = VERBS) -> str:
        return self.draw(lambda rng: f"{pick(rng, verbs)}_{plural(pick(rng, NOUNS))}", "function name")

    def klass(self) -> str:
        return self.draw(
            lambda rng: camel(pick(rng, NOUNS), pick(rng, FILLER_CLASS_SUFFIXES)), "class name"
        )

    def package(self) -> str:
        def make(rng: np.random.Generator) -> str:
            return f"{pick(rng, NOUNS)}{pick(rng, PACKAGE_SUFFIXES)}"

        for _ in range(500):
            name = self.draw(make, "package name")
            if is_free_module_name(name):
                return name
        raise TaskGenerationError("no free package name")
