"""The reference report's published numbers (``paper/claims.yaml``), loaded and validated.

DESIGN §5 invariant 7: those numbers live in that file only and are only compared
against. ``leak_pattern`` turns the distinctive ones into a regex so a test can prove no
code or config repeats them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.core.resources import data_path

DEFAULT_PATH = data_path("paper", "claims.yaml")

Unit = Literal[
    "pp", "percent", "x", "ms", "s", "min", "MB", "usd_per_month", "count", "weeks", "months", "label"
]


class Claim(BaseModel):
    """One printed number (or text cell) of the report, where and how it is printed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    table: str
    row: str | None = None
    column: str | None = None
    value: float | str | None = None
    low: float | None = None
    high: float | None = None
    ci: tuple[float, float] | None = None
    unit: Unit
    kind: Literal["result", "setting"] = "result"
    text: str = Field(min_length=1, max_length=160)
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Claim:
        bounded = self.low is not None or self.high is not None
        if (self.value is None) == (not bounded):
            raise ValueError("give either value, or low/high (a range or a bound), not both or neither")
        if isinstance(self.value, str) != (self.unit == "label"):
            raise ValueError("text values (and only they) take unit 'label'")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low} > high {self.high}")
        if self.ci is not None:
            self._check_ci()
        return self

    def _check_ci(self) -> None:
        if not isinstance(self.value, float):
            raise ValueError("ci needs a numeric value")
        lo, hi = self.ci
        if not lo <= self.value <= hi:
            raise ValueError(f"ci [{lo}, {hi}] does not contain value {self.value}")

    def numbers(self) -> list[float]:
        """Every number this claim prints: value, low, high and the CI endpoints."""
        found = [self.value] if isinstance(self.value, float) else []
        found += [x for x in (self.low, self.high) if x is not None]
        return found + list(self.ci or ())


class Claims(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1]
    source: str
    claims: tuple[Claim, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Claims:
        seen: set[str] = set()
        for claim in self.claims:
            if claim.id in seen:
                raise ValueError(f"duplicate claim id {claim.id!r}")
            seen.add(claim.id)
        return self

    def get(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        close = difflib.get_close_matches(claim_id, [c.id for c in self.claims], n=5, cutoff=0.6)
        raise KeyError(f"no claim {claim_id!r}; close ids: {close or 'none'}")

    def by_table(self, table: str) -> list[Claim]:
        return [c for c in self.claims if c.table == table]


def load_claims(path: Path | str | None = None) -> Claims:
    """Read and validate the claims file; errors name the file and the offending entry."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if not path.is_file():
        raise FileNotFoundError(f"claims file not found: {path} (expected <repo>/paper/claims.yaml)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict) or not isinstance(raw.get("claims"), list):
        raise ValueError(f"{path}: expected a mapping with a 'claims' list")
    claims = [_entry(path, i, entry) for i, entry in enumerate(raw["claims"])]
    _reject_duplicates(path, claims)
    try:
        return Claims.model_validate({**raw, "claims": claims})
    except ValidationError as err:
        raise ValueError(f"{path}: {err}") from err


def _entry(path: Path, index: int, entry: object) -> Claim:
    name = entry.get("id", "<no id>") if isinstance(entry, dict) else "<not a mapping>"
    try:
        return Claim.model_validate(entry)
    except ValidationError as err:
        raise ValueError(f"{path}: claims entry #{index} ({name!r}) is invalid: {err}") from err


def _reject_duplicates(path: Path, claims: list[Claim]) -> None:
    first: dict[str, int] = {}
    for i, claim in enumerate(claims):
        if claim.id in first:
            raise ValueError(f"{path}: duplicate claim id {claim.id!r} (entries #{first[claim.id]} and #{i})")
        first[claim.id] = i


# --- invariant 7: which printed forms would betray a copied result ---------------------
#
# A number is only worth searching for if it is unlikely to turn up by chance:
# - settings (5 repeats, 10,000 resamples, K=50 ...) are design parameters the harness
#   adopts, and one-sided bounds ("50,000+ sessions", "sub-50ms") are orders of magnitude,
#   not values a run reproduces: neither is searched for;
# - decimals with three or more significant digits (like 12.3) and integers >= 1000 (like
#   1234) are searched for as bare tokens, in any spelling (1,234 and 1_234; a rate like
#   12.3% also as the fraction 0.123);
# - shorter decimals and all ratios (like 1.5 or 7x) are everywhere in code as figure sizes
#   or kilobytes, so they count only with the unit the report prints (1.5s, 7x, 1.5 min);
# - integers below 1000 (18%, 240ms) are too common to mean anything and are exempt, as
#   are named physical constants that happen to equal a published number.

KNOWN_CONSTANTS = {24 * 60 * 60: "seconds per day"}
UNIT_SUFFIXES = {"x": ("x", "×"), "s": ("s", " s"), "min": ("min", " min")}


def leak_forms(claim: Claim) -> set[str]:
    """The spellings of this claim's numbers that no code or config should contain."""
    one_sided = claim.value is None and (claim.low is None or claim.high is None)
    if claim.kind == "setting" or one_sided:
        return set()
    return {form for n in claim.numbers() for form in _forms(n, claim.unit)}


def _forms(number: float, unit: str) -> set[str]:
    if number in KNOWN_CONSTANTS:
        return set()
    integral = number == int(number)
    if integral and number >= 1000:
        n = int(number)
        return {str(n), f"{n:,}", f"{n:_}"}
    if not integral and _significant_digits(number) >= 3:
        fraction = {repr(round(number / 100, 6))} if unit in ("percent", "pp") else set()
        return {repr(number)} | fraction
    if unit == "x" or not integral:
        spellings = {repr(number)} | ({str(int(number))} if integral else set())
        return {s + suffix for s in spellings for suffix in UNIT_SUFFIXES.get(unit, (unit,))}
    return set()


def _significant_digits(number: float) -> int:
    return len(Decimal(repr(number)).normalize().as_tuple().digits)


def leak_pattern(claims: Iterable[Claim]) -> re.Pattern[str] | None:
    """A regex matching any leak form as a standalone token (a unit may follow it)."""
    forms = {f for c in claims for f in leak_forms(c)}
    if not forms:
        return None
    # Longest first so "1,234" wins over "1"; the guards stop "112.3" or "1.12.3" matching.
    alternation = "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f)))
    return re.compile(rf"(?<![\w.,])(?:{alternation})(?![\d]|[.,]\d)")
