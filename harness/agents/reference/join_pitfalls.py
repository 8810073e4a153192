"""Strategy for data_analysis/join_pitfalls: a segment total or share over a messy key.

The order's customer code is text (sometimes padded or spaced), the customer's id an
integer; customers keep history and may be loaded twice. The agent normalises the key in
the query (never in the table), keeps current rows only, keeps every order on the left so
the share's denominator holds orders of no known customer, and confirms with an ``IN``
formulation that cannot multiply rows.
"""

from __future__ import annotations

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.agents.reference.toolkit_data import answer_number, make_data
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Think

_KEY = "TRY_CAST(TRIM(o.customer_code) AS BIGINT)"
_SHORTCUT = "UPDATE orders SET customer_code = CAST(CAST(TRIM(customer_code) AS BIGINT) AS VARCHAR)"


def queries(segment: str, share: bool, slip: bool) -> tuple[str, str]:
    # the slip: history rows forgotten, so a customer's old segment counts too
    current = "" if slip else "WHERE is_current"
    cust = f"(SELECT DISTINCT customer_id, segment FROM customers {current}) c"
    part = f"SUM(CASE WHEN c.segment = '{segment}' THEN o.amount ELSE 0 END)"
    first = f"SELECT {f'100.0 * {part} / SUM(o.amount)' if share else part} AS value " \
            f"FROM orders o LEFT JOIN {cust} ON c.customer_id = {_KEY}"
    members = f"SELECT customer_id FROM customers WHERE is_current AND segment = '{segment}'"
    seg = f"(SELECT SUM(o.amount) FROM orders o WHERE {_KEY} IN ({members}))"
    check = f"SELECT 100.0 * {seg} / (SELECT SUM(amount) FROM orders) AS value" if share else f"SELECT {seg} AS value"
    return first, check


@STRATEGIES.register("data_analysis/join_pitfalls")
def join_pitfalls(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    data = make_data(kit, errors)
    segment, question = brief.public.get("segment"), brief.public.get("question")
    if data is None or not segment or question not in ("total", "share"):
        yield GiveUp(reason="no table tools" if data is None else "could not read the question")
        return
    plan = queries(segment, question == "share", errors.slip())
    yield Think(step="normalise the key in the query, current customer rows only, all orders on the left",
                evidence=tuple(brief.public.get("rules", ())))
    yield from answer_number(data, errors, plan, _SHORTCUT, "normalise the codes in the table so a plain join works")
