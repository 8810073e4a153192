"""Shared pieces of the document_processing families: seeded text generators for
invoices (several layouts, date and currency notations, corrections, OCR-like noise),
the formats and parsers a reader of them needs, the world builder and digests.

Everything is rendered from (params, seed) through numpy generators; the families keep
the structured truth beside the rendered text, so a checker never re-parses a document
to learn what it should have said.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np

from harness.core.hashing import stable_int
from harness.workload.checkers.doc import text_digest
from harness.workload.deadlines import end_of_day
from harness.workload.spec import Budget, GoldStep
from harness.world import World

VENDORS = (
    "Northwind Traders Ltd", "Blue Harbor Supplies Inc", "Kestrel Office GmbH", "Marlow & Finch LLP",
    "Ironbridge Logistics Ltd", "Pinecrest Catering Co", "Halvorsen Print AS", "Sable Creek Electric Inc",
    "Veridian Cleaning Services", "Copperleaf IT Solutions", "Osprey Facilities Ltd", "Greymoor Legal LLP",
    "Lumen Lighting BV", "Rowan Street Bakery", "Tallis Security Group", "Fernhill Stationers Ltd",
)
CUSTOMERS = ("Acme Analytics Ltd", "Brightside Health Trust", "Cobalt Robotics Inc", "Delta Ward Council")
ITEMS = (
    "Consulting hours", "Printer toner (black)", "A4 paper, 5 reams", "Network switch, 24 port",
    "Monthly cleaning service", "Catering, team lunch", "Courier delivery", "Software licence (annual)",
    "Office chairs", "LED panel lights", "Security patrol, night shift", "Legal review", "Desk lamps",
    "Server maintenance", "Window cleaning", "Business cards, 500",
)
PEOPLE = ("Dana Whitfield", "Jonas Berg", "Priya Raman", "Tomasz Nowak", "Alice Moreau", "Samuel Okafor")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
DATE_STYLES = ("iso", "long", "us_long", "abbrev", "dotted", "us_slash")
AMOUNT_STYLES = ("usd_symbol", "usd_code", "eur_comma", "eur_space", "gbp_code", "plain")
LAYOUTS = ("key_value", "table", "prose", "compact")
# The conventions a reader is told: they make every date in the inbox unambiguous.
DATE_CONVENTION = ("numeric dates written with dots are day.month.year (04.03.2025 is 4 March 2025); "
                   "numeric dates written with slashes are month/day/year (03/04/2025 is 4 March 2025)")


def rng_for(seed: int, name: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed) & (2**64 - 1), stable_int(name)])))


# Scalar draws through ``random()``: Generator.integers costs several times more per call,
# and a large inbox makes thousands of them.
def between(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return bounds[0] + int(rng.random() * (bounds[1] - bounds[0] + 1))


def pick(rng: np.random.Generator, options: tuple | list):
    return options[int(rng.random() * len(options))]


def digests(files: dict[str, str]) -> dict[str, str]:
    return {path: text_digest(text) for path, text in sorted(files.items())}


def budget(n_documents: int, per_doc_minutes: int) -> Budget:
    """A careful worker lists the folder, reads each document about once and writes or
    submits once: actions grow with the documents; the work is due by the end of the day."""
    return end_of_day(20 + 2 * n_documents, "the work")


def make_world(files: dict[str, str]) -> World:
    return World.from_snapshot({"files": dict(files), "submission": None})


def submit(answer: dict) -> GoldStep:
    return GoldStep(op="submit", args={"answer": answer})


# -- formats ------------------------------------------------------------------------------
def fmt_date(d: dt.date, style: str) -> str:
    if style == "iso":
        return d.isoformat()
    if style == "long":
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if style == "us_long":
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    if style == "abbrev":
        return f"{d.day:02d}-{MONTHS[d.month - 1][:3]}-{d.year}"
    if style == "dotted":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if style == "us_slash":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    raise ValueError(f"unknown date style {style!r}")


def _grouped(units: int, sep: str) -> str:
    text = str(units)
    groups = []
    while len(text) > 3:
        groups.insert(0, text[-3:])
        text = text[:-3]
    return sep.join([text, *groups])


def fmt_amount(cents: int, style: str) -> str:
    units, rest = divmod(int(cents), 100)
    if style == "usd_symbol":
        return f"${_grouped(units, ',')}.{rest:02d}"
    if style == "usd_code":
        return f"USD {_grouped(units, ',')}.{rest:02d}"
    if style == "eur_comma":
        return f"{_grouped(units, '.')},{rest:02d} EUR"
    if style == "eur_space":
        return f"€ {_grouped(units, ' ')},{rest:02d}"
    if style == "gbp_code":
        return f"GBP {units}.{rest:02d}"
    if style == "plain":
        return f"{units}.{rest:02d}"
    raise ValueError(f"unknown amount style {style!r}")


def cents_str(cents: int) -> str:
    return f"{int(cents) // 100}.{int(cents) % 100:02d}"


_MONTH_RE = "|".join(m[:3] for m in MONTHS)
_DATE_RE = re.compile(  # the lookahead skips most positions before the alternation is tried
    r"(?=[0-9JFMASOND])(?:(?P<iso>\b\d{4}-\d{2}-\d{2}\b)"
    rf"|(?P<long>\b\d{{1,2}} (?:{'|'.join(MONTHS)}) \d{{4}}\b)"
    rf"|(?P<us_long>\b(?:{'|'.join(MONTHS)}) \d{{1,2}}, \d{{4}}\b)"
    rf"|(?P<abbrev>\b\d{{2}}-(?:{_MONTH_RE})-\d{{4}}\b)"
    r"|(?P<dotted>\b\d{2}\.\d{2}\.\d{4}\b)"
    r"|(?P<us_slash>\b\d{2}/\d{2}/\d{4}\b))"
)
AMOUNT_RE = re.compile(r"\d{1,3}(?:[,. ]\d{3})+[.,]\d{2}\b|\b\d+[.,]\d{2}\b")


def parse_date(text: str, style: str) -> dt.date:
    if style == "iso":
        return dt.date.fromisoformat(text)
    if style in ("long", "us_long"):
        words = text.replace(",", "").split()
        day, month, year = (words[0], words[1], words[2]) if style == "long" else (words[1], words[0], words[2])
        return dt.date(int(year), MONTHS.index(month) + 1, int(day))
    if style == "abbrev":
        day, month, year = text.split("-")
        return dt.date(int(year), [m[:3] for m in MONTHS].index(month) + 1, int(day))
    if style == "dotted":
        day, month, year = text.split(".")
        return dt.date(int(year), int(month), int(day))
    month, day, year = text.split("/")
    return dt.date(int(year), int(month), int(day))


def find_dates(text: str) -> list[str]:
    """Every date in ``text`` in reading order, as ISO strings (the stated conventions)."""
    found = []
    for m in _DATE_RE.finditer(text):
        style = m.lastgroup or "iso"
        try:
            found.append(parse_date(m.group(0), style).isoformat())
        except ValueError:
            continue
    return found


def first_date(text: str) -> str:
    """The first date in ``text`` as ISO, or "" (what a first-match extractor reads)."""
    for m in _DATE_RE.finditer(text):
        try:
            return parse_date(m.group(0), m.lastgroup or "iso").isoformat()
        except ValueError:
            continue
    return ""


def parse_amount(text: str) -> int:
    """Cents of an amount in any of the notations: every amount is written with exactly two
    decimals, so the digits alone are the cents whatever the separators."""
    digits = re.sub(r"[^\d]", "", text)
    return int(digits)


# -- invoices -----------------------------------------------------------------------------
@dataclass
class Invoice:
    vendor: str
    customer: str
    number: str
    issued: dt.date
    due: dt.date
    items: list[tuple[str, int, int]]  # description, quantity, unit price in cents
    tax_rate: int  # percent
    date_style: str
    amount_style: str
    layout: str
    corrections: list[tuple[str, object]] = field(default_factory=list)  # ("total", cents) / ("date", date)

    @property
    def subtotal(self) -> int:
        return sum(q * p for _, q, p in self.items)

    @property
    def tax(self) -> int:
        return (self.subtotal * self.tax_rate + 50) // 100

    @property
    def stated_total(self) -> int:
        return self.subtotal + self.tax

    def truth(self) -> dict[str, str]:
        total, issued = self.stated_total, self.issued
        for kind, value in self.corrections:  # a later correction overrides an earlier one
            if kind == "total":
                total = int(value)  # type: ignore[arg-type]
            else:
                issued = value  # type: ignore[assignment]
        return {"vendor": self.vendor, "invoice_number": self.number, "date": issued.isoformat(),
                "total": cents_str(total)}


def random_invoice(rng: np.random.Generator, vendor: str, number: str, year: int) -> Invoice:
    issued = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 350)))
    n_items = between(rng, (1, 5))
    picks = rng.choice(len(ITEMS), n_items, replace=False)
    items = [(ITEMS[int(i)], between(rng, (1, 12)), int(rng.integers(5, 2500)) * 25) for i in picks]
    return Invoice(vendor=vendor, customer=pick(rng, CUSTOMERS), number=number, issued=issued,
                   due=issued + dt.timedelta(days=int(pick(rng, (14, 30, 45, 60)))), items=items,
                   tax_rate=int(pick(rng, (0, 7, 10, 20))), date_style=pick(rng, DATE_STYLES),
                   amount_style=pick(rng, AMOUNT_STYLES), layout=pick(rng, LAYOUTS))


def _item_lines(inv: Invoice) -> list[str]:
    a = inv.amount_style
    return [f"{desc:<30} {q:>4}  {fmt_amount(p, a):>14}  {fmt_amount(q * p, a):>14}" for desc, q, p in inv.items]


def render_invoice(inv: Invoice, rng: np.random.Generator, noisy: bool) -> str:
    d = lambda x: fmt_date(x, inv.date_style)  # noqa: E731
    a = lambda x: fmt_amount(x, inv.amount_style)  # noqa: E731
    tax_label = f"VAT {inv.tax_rate}%" if inv.tax_rate else "VAT (exempt)"
    if inv.layout == "key_value":
        lines = [inv.vendor.upper(), f"{between(rng, (1, 250))} {pick(rng, ('High St', 'Mill Lane', 'Harbour Rd'))}",
                 "", "INVOICE", "", f"From: {inv.vendor}", f"Invoice No: {inv.number}", f"Invoice date: {d(inv.issued)}",
                 f"Due date: {d(inv.due)}", f"Bill to: {inv.customer}", "",
                 f"{'Description':<30} {'Qty':>4}  {'Unit price':>14}  {'Amount':>14}", "-" * 66, *_item_lines(inv),
                 "-" * 66, f"Subtotal: {a(inv.subtotal)}", f"{tax_label}: {a(inv.tax)}", f"Total due: {a(inv.stated_total)}"]
    elif inv.layout == "table":
        lines = [f"# Invoice {inv.number}", "", "| Field | Value |", "|---|---|", f"| Supplier | {inv.vendor} |",
                 f"| Payment due | {d(inv.due)} |", f"| Issued | {d(inv.issued)} |", f"| Customer | {inv.customer} |",
                 "", "## Items", "", "| Item | Qty | Price | Line total |", "|---|---:|---:|---:|",
                 *[f"| {desc} | {q} | {a(p)} | {a(q * p)} |" for desc, q, p in inv.items], "",
                 f"**Subtotal:** {a(inv.subtotal)}  ", f"**{tax_label}:** {a(inv.tax)}  ",
                 f"**Amount payable:** {a(inv.stated_total)}"]
    elif inv.layout == "prose":
        bits = [f"{q} x {desc.lower()} at {a(p)} each" for desc, q, p in inv.items]
        lines = [f"Subject: Invoice {inv.number} from {inv.vendor}", "", "Dear Accounts Payable team,", "",
                 f"Please find below our invoice {inv.number}, issued on {d(inv.issued)}, for goods and services "
                 f"supplied to {inv.customer}.", f"It covers {'; '.join(bits)}, which comes to {a(inv.subtotal)} "
                 f"before tax.", f"Including {tax_label}, the total due is {a(inv.stated_total)}, payable by "
                 f"{d(inv.due)}.", "", "Kind regards,", pick(rng, PEOPLE), inv.vendor]
    else:
        lines = [f"{inv.vendor} -- TAX INVOICE", f"No. {inv.number}    Date {d(inv.issued)}    Terms: pay by {d(inv.due)}",
                 f"Customer: {inv.customer}", "", *_item_lines(inv), "",
                 f"SUBTOTAL {a(inv.subtotal)}   {tax_label.upper()} {a(inv.tax)}", f"TOTAL {a(inv.stated_total)}"]
    for kind, value in inv.corrections:
        lines.append("")
        if kind == "total":
            note = pick(rng, (f"CORRECTION ({d(inv.issued + dt.timedelta(days=5))}): the total due on invoice "
                              f"{inv.number} is amended to {a(int(value))}. This replaces the total stated above.",  # type: ignore[arg-type]
                              f"Addendum: after the agreed adjustment, the amount payable for {inv.number} is "
                              f"{a(int(value))} (supersedes the figure above)."))  # type: ignore[arg-type]
        else:
            note = pick(rng, (f"ADDENDUM: the invoice date shown above is incorrect. The correct invoice date "
                              f"is {d(value)}.",  # type: ignore[arg-type]
                              f"Correction: this invoice was issued on {d(value)}, not on the date printed above."))  # type: ignore[arg-type]
        lines.append(note)
    text = "\n".join(lines) + "\n"
    return ocr_noise(text, rng) if noisy else text


_OCR_SWAPS = (("o", "0"), ("l", "1"), ("I", "l"), ("e", "c"), ("a", "o"), ("t", "f"))
_LABELS = ("Invoice date", "Due date", "Total due", "Subtotal", "Amount payable", "Issued", "Supplier",
           "TOTAL", "SUBTOTAL", "Bill to", "Customer", "Description")


def ocr_noise(text: str, rng: np.random.Generator) -> str:
    """Scanner damage that a careful reader sees through: garbled labels, split words,
    stray marks. Values (names, numbers, dates) are never touched."""
    for label in _LABELS:
        if label in text and rng.random() < 0.6:
            chars = list(label)
            i = int(rng.integers(len(chars)))
            for old, new in _OCR_SWAPS:
                if chars[i] == old:
                    chars[i] = new
                    break
            else:
                chars.insert(i, " ")
            text = text.replace(label, "".join(chars), 1)
    lines = text.split("\n")
    for _ in range(between(rng, (1, 3))):
        lines.insert(int(rng.integers(1, len(lines))), pick(rng, ("  . ,  '", "::: ;", "-- page 1 of 1 --", "~ ~")))
    return "\n".join(lines)
