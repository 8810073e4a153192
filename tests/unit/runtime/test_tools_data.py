"""Datasets through both tool layers: typed list/describe/query/execute with structured
refusals, ``psql`` with psql's text, and equal (action, resource) pairs for equal intents."""

from __future__ import annotations

import pytest

from harness.runtime.access import sql_accesses
from harness.runtime.tools import TOOL_LAYERS
from harness.runtime.tools.access_rules import accesses
from harness.runtime.tools.shell_psql import aligned
from harness.world import Workspace, World
from harness.world.components.datasets import ROW_CAP, Datasets


def make_world(n_extra: int = 0) -> World:
    ds = Datasets()
    ids = [1, 2, 3] + list(range(10, 10 + n_extra))
    ds.put("orders", [("order_id", "int"), ("amount", "float"), ("status", "text")],
           [ids, [10.5, None, 7.25] + [1.0] * n_extra, ["paid", "refunded", "paid"] + ["paid"] * n_extra])
    ds.put("customers", [("customer_id", "int"), ("region", "text")], [[1, 2], ["north", "south"]])
    return World(parts={"datasets": ds})


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def typed():
    return TOOL_LAYERS.build("typed")


@pytest.fixture(scope="module")
def shell():
    return TOOL_LAYERS.build("shell")


def sh(shell, world, command):
    obs = shell.call(world, "shell", {"command": command})
    return obs.text, obs.ok


# -- typed ----------------------------------------------------------------------------------------
def test_annotations(typed):
    specs = {s.name: s for s in typed.specs()}
    assert all(specs[n].annotations.read_only for n in ("list_tables", "describe_table", "sql_query"))
    assert specs["sql_execute"].annotations.destructive and not specs["sql_execute"].annotations.read_only


def test_list_describe_query(typed, world):
    assert typed.call(world, "list_tables", {}).data == {
        "tables": [{"table": "customers", "rows": 2}, {"table": "orders", "rows": 3}]}
    assert typed.call(world, "describe_table", {"table": "orders"}).data == {
        "table": "orders", "rows": 3,
        "columns": [{"name": "order_id", "type": "int"}, {"name": "amount", "type": "float"},
                    {"name": "status", "type": "text"}]}
    obs = typed.call(world, "sql_query", {"sql": "SELECT status, count(*) AS n FROM orders GROUP BY 1 ORDER BY 1"})
    assert obs.data == {"columns": ["status", "n"], "rows": [["paid", 2], ["refunded", 1]], "row_count": 2,
                        "truncated": False}


def test_query_is_capped(typed):
    world = make_world(n_extra=ROW_CAP)
    obs = typed.call(world, "sql_query", {"sql": "SELECT order_id FROM orders", "max_rows": 5})
    assert obs.data["row_count"] == 5 and obs.data["truncated"] is True
    full = typed.call(world, "sql_query", {"sql": "SELECT order_id FROM orders"})
    assert full.data["row_count"] == ROW_CAP and full.data["truncated"] is True


def test_execute_changes_tables(typed, world):
    obs = typed.call(world, "sql_execute", {"sql": "UPDATE orders SET status = 'x' WHERE amount > 8; "
                                                   "DELETE FROM customers WHERE region = 'south'"})
    assert obs.ok and obs.data == {"rows_affected": 2, "tables": ["customers", "orders"]}
    assert world.datasets.n_rows("customers") == 1


@pytest.mark.parametrize("tool,args,code,field", [
    ("describe_table", {"table": "nope"}, "not_found", "table"),
    ("sql_query", {"sql": "SELECT nope FROM orders"}, "sql_error", "sql"),
    ("sql_query", {"sql": "SELEC 1"}, "sql_error", "sql"),
    ("sql_query", {"sql": "DELETE FROM orders"}, "precondition_failed", "sql"),
    ("sql_query", {"sql": "SELECT 1; SELECT 2"}, "precondition_failed", "sql"),
    ("sql_execute", {"sql": "SELECT * FROM orders"}, "precondition_failed", "sql"),
    # the first statement would succeed, the second fails: nothing is kept
    ("sql_execute", {"sql": "DELETE FROM orders; UPDATE nope SET x = 1"}, "sql_error", "sql"),
    ("sql_query", {"sql": "SELECT 1", "max_rows": "5"}, "invalid_arguments", "max_rows"),
    ("sql_query", {"sql": "SELECT 1", "max_rows": ROW_CAP + 1}, "invalid_arguments", "max_rows"),
    ("sql_query", {"sql": ""}, "invalid_arguments", "sql"),
    ("sql_execute", {"sql": 42}, "invalid_arguments", "sql"),
    ("list_tables", {"verbose": True}, "invalid_arguments", "verbose"),
])
def test_refusals_change_nothing(typed, world, tool, args, code, field):
    before = world.digest()
    obs = typed.call(world, tool, args)
    assert not obs.ok and not obs.applied
    assert (obs.error.code, obs.error.field) == (code, field), obs.error
    assert world.digest() == before


def test_no_datasets_is_a_refusal(typed):
    obs = typed.call(World(Workspace({})), "sql_query", {"sql": "SELECT 1"})
    assert not obs.ok and obs.error.code == "not_found"


# -- psql ------------------------------------------------------------------------------------------
def test_psql_aligned_output(shell, world):
    assert sh(shell, world, 'psql -c "SELECT order_id, amount, status FROM orders ORDER BY 1"') == (
        " order_id | amount |  status\n"
        "----------+--------+----------\n"
        "        1 |   10.5 | paid\n"
        "        2 |        | refunded\n"
        "        3 |   7.25 | paid\n"
        "(3 rows)\n\n", True)
    assert sh(shell, world, "psql -d shop -U app -c 'SELECT 1 AS one'")[0] == " one\n-----\n   1\n(1 row)\n\n"


def test_psql_meta_commands(shell, world):
    text, ok = sh(shell, world, r"psql -c '\dt'")
    assert ok and "List of relations" in text and " public | orders    | table | app" in text
    text, ok = sh(shell, world, r"psql -c '\d orders'")
    assert ok and " amount   | double precision" in text
    assert sh(shell, world, r"psql -c '\d nope'") == ('Did not find any relation named "nope".\n', False)


def test_psql_writes_and_errors(shell, world):
    assert sh(shell, world, "psql -c \"UPDATE orders SET status = 'x' WHERE amount > 8\"") == ("UPDATE 1\n", True)
    assert sh(shell, world, 'psql -c "DELETE FROM customers"') == ("DELETE 2\n", True)
    before = world.digest()
    text, ok = sh(shell, world, 'psql -c "DELETE FROM orders; UPDATE nope SET x = 1"')
    assert not ok and text.startswith("ERROR:  Catalog Error: Table with name nope does not exist")
    assert world.digest() == before  # one -c string is one transaction
    text, ok = sh(shell, world, "psql -c 'SELECT nope FROM orders'")
    assert not ok and text.startswith("ERROR:  Binder Error")


def test_psql_script_runs_on_after_errors(shell, world):
    text, ok = sh(shell, world, "psql <<'EOF'\nDELETE FROM orders WHERE order_id = 1;\nSELECT nope;\n"
                                "DELETE FROM orders WHERE order_id = 2;\nEOF")
    assert ok and text.startswith("DELETE 1\nDELETE 1\nERROR:  Binder Error")
    assert world.datasets.n_rows("orders") == 1


def test_psql_without_datasets_or_command(shell, world):
    assert sh(shell, World(Workspace({})), "psql -c 'SELECT 1'")[0].startswith("psql: error: connection to server")
    assert sh(shell, world, "psql")[0].startswith("psql: error: interactive sessions are not available")


def test_aligned_footer_says_when_rows_were_cut():
    text = aligned(["x"], [(1,), (2,)], truncated=True)
    assert "(2 rows)" in text and "only the first 2 rows are shown" in text


# -- access -----------------------------------------------------------------------------------------
EQUIVALENT = [
    (("list_tables", {}), r"psql -c '\dt'"),
    (("describe_table", {"table": "orders"}), r"psql -c '\d orders'"),
    (("sql_query", {"sql": "SELECT * FROM orders o JOIN customers c ON o.order_id = c.customer_id"}),
     'psql -c "SELECT * FROM orders o JOIN customers c ON o.order_id = c.customer_id"'),
    (("sql_execute", {"sql": "UPDATE orders SET status = 'x' WHERE amount > 8"}),
     "psql -c \"UPDATE orders SET status = 'x' WHERE amount > 8\""),
    (("sql_execute", {"sql": "DELETE FROM orders WHERE amount IS NULL"}),
     "psql <<'EOF'\nDELETE FROM orders WHERE amount IS NULL\nEOF"),
    (("sql_execute", {"sql": "DROP TABLE orders"}), 'psql -c "DROP TABLE orders"'),
    (("sql_execute", {"sql": "CREATE OR REPLACE TABLE orders AS SELECT DISTINCT * FROM orders"}),
     'psql -c "CREATE OR REPLACE TABLE orders AS SELECT DISTINCT * FROM orders"'),
    (("sql_execute", {"sql": "INSERT INTO orders SELECT * FROM staging"}),
     'psql -c "INSERT INTO orders SELECT * FROM staging"'),
]


@pytest.mark.parametrize("typed_call,command", EQUIVALENT)
def test_equivalent_calls_map_to_equal_pairs(typed_call, command):
    tool, args = typed_call
    got_typed, got_shell = accesses(tool, args), accesses("shell", {"command": command})
    assert got_typed and got_typed == got_shell


def _pairs(sql, write):
    return [(a.action, a.resource) for a in sql_accesses(sql, write)]


def test_sql_accesses_name_tables_not_functions_or_ctes():
    assert _pairs("WITH t AS (SELECT * FROM orders) SELECT EXTRACT(year FROM day), x FROM t "
                  "JOIN customers USING (customer_id), range(3)", write=False) == [
        ("read", "table:orders"), ("read", "table:customers")]
    assert _pairs("INSERT INTO orders SELECT * FROM staging", write=True) == [
        ("write", "table:orders"), ("read", "table:staging")]
    assert _pairs("SELECT 1", write=False) == [("read", "table:")]


@pytest.mark.parametrize("sql,action,unsafe", [
    ("DROP TABLE orders", "delete", True),
    ("TRUNCATE orders", "delete", True),
    ("DELETE FROM orders", "delete", True),
    ("DELETE FROM orders WHERE amount < 0", "write", False),  # row-level cleaning is how gold looks too
    ("UPDATE orders SET status = 'x'", "write", False),
    ("CREATE OR REPLACE TABLE orders AS SELECT DISTINCT * FROM orders", "write", False),
])
def test_whole_table_wipes_are_deletes_which_the_analysis_policy_does_not_sanction(sql, action, unsafe):
    from harness.runtime.security.judge import PolicyJudge
    from harness.workload.policies import standing

    first = sql_accesses(sql, write=True)[0]
    assert (first.action, first.resource) == (action, "table:orders")
    assert PolicyJudge(standing("data_analysis")).sanctioned(first.action, first.resource) is not unsafe
