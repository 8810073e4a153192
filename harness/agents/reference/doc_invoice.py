"""Reading one invoice the way a careful clerk does: recognise the layout, find each field
by its label (seeing through scanner damage to the labels), and let a later correction or
addendum override a field.

Pure functions of the document text. The notations are the ones the instructions state:
dotted numeric dates are day.month.year, slashed ones month/day/year, and every amount
carries exactly two decimals whatever its separators.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
_MONTH_WORD = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE = re.compile(
    r"\b(?:(?P<iso>\d{4}-\d{2}-\d{2})"
    rf"|(?P<long>\d{{1,2}} {_MONTH_WORD} \d{{4}})"
    rf"|(?P<us_long>{_MONTH_WORD} \d{{1,2}}, \d{{4}})"
    r"|(?P<abbrev>\d{2}-[A-Z][a-z]{2}-\d{4})"
    r"|(?P<dotted>\d{2}\.\d{2}\.\d{4})"
    r"|(?P<us_slash>\d{2}/\d{2}/\d{4}))\b"
)
_AMOUNT = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:[,. ]\d{3})+[.,]\d{2}|\d+[.,]\d{2})(?![\d])")


@dataclass(frozen=True)
class Fields:
    vendor: str = ""
    invoice_number: str = ""
    date: str = ""  # ISO
    total: str = ""  # plain, two decimals
    due: str = ""  # ISO: the other date a hurried reader might take for the invoice date
    subtotal: str = ""  # the other amount a hurried reader might take for the total

    @property
    def complete(self) -> bool:
        return all((self.vendor, self.invoice_number, self.date, self.total))


# -- notations ------------------------------------------------------------------------------
def _month(word: str) -> int:
    return [m[:3] for m in MONTHS].index(word[:3].lower()) + 1


def _to_date(m: re.Match[str]) -> dt.date:
    text, style = m.group(0), m.lastgroup
    if style == "iso":
        return dt.date.fromisoformat(text)
    if style == "long":
        day, month, year = text.split()
        return dt.date(int(year), _month(month), int(day))
    if style == "us_long":
        month, day, year = text.replace(",", "").split()
        return dt.date(int(year), _month(month), int(day))
    if style == "abbrev":
        day, month, year = text.split("-")
        return dt.date(int(year), _month(month), int(day))
    if style == "dotted":
        day, month, year = text.split(".")
        return dt.date(int(year), int(month), int(day))
    month, day, year = text.split("/")
    return dt.date(int(year), int(month), int(day))


def dates_in(text: str) -> list[str]:
    found = []
    for m in _DATE.finditer(text):
        try:
            found.append(_to_date(m).isoformat())
        except ValueError:
            continue
    return found


def amounts_in(text: str) -> list[str]:
    """Amounts as plain two-decimal numbers; dates are masked first (04.03.2025 is no amount)."""
    masked = _DATE.sub(lambda m: "#" * len(m.group(0)), text)
    return [_plain(m.group(0)) for m in _AMOUNT.finditer(masked)]


def _plain(amount: str) -> str:
    cents = int(re.sub(r"\D", "", amount))
    return f"{cents // 100}.{cents % 100:02d}"


# -- labels, as a reader sees through scanner damage -------------------------------------------
def _squash(label: str) -> str:
    return re.sub(r"[^a-z]", "", label.lower().replace("0", "o").replace("1", "l"))


def _near(a: str, b: str) -> bool:
    """Equal up to one changed, dropped or added letter (what one scanner slip does)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1 or min(len(a), len(b)) < 4:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def labelled(pairs: list[tuple[str, str]], label: str) -> str:
    """The value of the first pair whose label reads as ``label``."""
    want = _squash(label)
    return next((value.strip() for key, value in pairs if _near(_squash(key), want)), "")


def _colon_pairs(lines: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.strip().startswith("|") and len(cells) == 2:
            pairs.append((cells[0], cells[1]))
        elif ":" in line:
            key, _, value = line.replace("**", "").partition(":")
            pairs.append((key, value))
    return pairs


def _amount_lines(lines: list[str]) -> list[tuple[str, str]]:
    """(text before the first amount, that amount) of every line carrying one."""
    pairs = []
    for line in lines:
        masked = _DATE.sub(lambda m: "#" * len(m.group(0)), line)
        m = _AMOUNT.search(masked)
        if m:
            pairs.append((re.sub(r"[$€]|USD|GBP|EUR", "", line[: m.start()]), _plain(m.group(0))))
    return pairs


# -- the four layouts ----------------------------------------------------------------------------
def _key_value(lines: list[str]) -> Fields:
    pairs = _colon_pairs(lines)
    number = (labelled(pairs, "Invoice No").split() or [""])[0]
    return Fields(vendor=labelled(pairs, "From"), invoice_number=number,
                  date=_first(dates_in(labelled(pairs, "Invoice date"))), due=_first(dates_in(labelled(pairs, "Due date"))),
                  total=_first(amounts_in(labelled(pairs, "Total due"))),
                  subtotal=_first(amounts_in(labelled(pairs, "Subtotal"))))


def _table(lines: list[str]) -> Fields:
    pairs = _colon_pairs(lines)
    number = lines[0].removeprefix("#").strip().split()[-1]
    return Fields(vendor=labelled(pairs, "Supplier"), invoice_number=number,
                  date=_first(dates_in(labelled(pairs, "Issued"))), due=_first(dates_in(labelled(pairs, "Payment due"))),
                  total=_first(amounts_in(labelled(pairs, "Amount payable"))),
                  subtotal=_first(amounts_in(labelled(pairs, "Subtotal"))))


def _prose(lines: list[str]) -> Fields:
    m = re.match(r"Subject:\s*Invoice\s+(\S+)\s+from\s+(.+)$", lines[0])
    text = "\n".join(lines)
    issued = re.search(r"issued on ([^,]+(?:, \d{4})?)", text)
    total = re.search(r"total due is (.+?), payable by (.+?)\.?$", text, re.MULTILINE)
    before_tax = re.search(r"comes to (.+?) before tax", text)
    return Fields(vendor=m.group(2).strip() if m else "", invoice_number=m.group(1) if m else "",
                  date=_first(dates_in(issued.group(1))) if issued else "",
                  due=_first(dates_in(total.group(2))) if total else "",
                  total=_first(amounts_in(total.group(1))) if total else "",
                  subtotal=_first(amounts_in(before_tax.group(1))) if before_tax else "")


def _compact(lines: list[str]) -> Fields:
    vendor = lines[0].split(" -- ")[0].strip()
    head = next((line for line in lines if line.startswith("No.")), "")
    number = re.search(r"No\.\s+(\S+)", head)
    dated = re.search(r"Date\s+(.+?)\s{2,}", head + "  ")
    due = re.search(r"pay by\s+(.+)$", head)
    amounts = _amount_lines(lines)
    return Fields(vendor=vendor, invoice_number=number.group(1) if number else "",
                  date=_first(dates_in(dated.group(1))) if dated else "",
                  due=_first(dates_in(due.group(1))) if due else "",
                  total=next((a for label, a in amounts if _near(_squash(label), "total")), ""),
                  subtotal=next((a for label, a in amounts if _near(_squash(label), "subtotal")), ""))


def _first(items: list[str]) -> str:
    return items[0] if items else ""


Layout = Callable[[list[str]], Fields]
# A layout is recognised by its first line, which scanner noise never shifts.
LAYOUTS: tuple[tuple[Callable[[str], bool], Layout], ...] = (
    (lambda head: head.startswith("# Invoice"), _table),
    (lambda head: head.startswith("Subject:"), _prose),
    (lambda head: "TAX INVOICE" in head, _compact),
    (lambda head: True, _key_value),
)


# -- corrections ---------------------------------------------------------------------------------
def _is_correction(line: str) -> bool:
    return line.strip().lower().startswith(("correction", "addendum"))


def _apply_correction(fields: Fields, line: str) -> Fields:
    low = line.lower()
    if "invoice date" in low or "issued on" in low:
        found = dates_in(line)
        return replace(fields, date=found[-1]) if found else fields
    if "total" in low or "amount payable" in low:
        found = amounts_in(line)
        return replace(fields, total=found[-1]) if found else fields
    return fields


def read_invoice(text: str) -> Fields:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return Fields()
    body = [line for line in lines if not _is_correction(line)]
    layout = next(parse for matches, parse in LAYOUTS if matches(lines[0]))
    fields = layout(body)
    for line in (line for line in lines if _is_correction(line)):  # in order: the latest counts
        fields = _apply_correction(fields, line)
    return fields
