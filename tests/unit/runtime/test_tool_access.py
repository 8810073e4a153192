"""Every tool declares its access rule where it is defined, and ``accesses`` asks it.

A tool without a rule would map to no (action, resource) pair: the security layer would
have nothing to authorize and the call would go through unjudged. These tests make a
missing rule a failure, and pin a few mappings of each kind of rule.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.runtime.access import Access, no_access
from harness.runtime.port import ToolAnnotations
from harness.runtime.tools import TOOL_LAYERS
from harness.runtime.tools.access_rules import TYPED_ACCESS, accesses
from harness.runtime.tools.shell import ShellTools
from harness.runtime.tools.shell_commands import COMMAND_ACCESS, access_rule
from harness.runtime.tools.typed_models import ListFilesArgs, ToolDef


def _pairs(tool: str, args: dict) -> list[tuple[str, str]]:
    return [(a.action, a.resource) for a in accesses(tool, args)]


def test_every_typed_tool_has_an_access_rule():
    shown = {spec.name for spec in TOOL_LAYERS.build("typed").specs()}
    assert shown and shown == set(TYPED_ACCESS)
    assert all(callable(rule) for rule in TYPED_ACCESS.values())


def test_a_tool_definition_without_an_access_rule_is_refused():
    with pytest.raises(ValidationError, match="access"):
        ToolDef(name="x", description="x", args=ListFilesArgs, annotations=ToolAnnotations())


def test_every_shell_command_has_an_access_rule_and_every_rule_a_command():
    shell = ShellTools()
    known = set(shell._commands) | set(shell._stdin_commands)
    assert known == set(COMMAND_ACCESS)
    assert all(callable(rule) for rule in COMMAND_ACCESS.values())


def test_a_command_cannot_declare_two_rules():
    with pytest.raises(ValueError, match="already has an access rule"):
        access_rule("ls")(no_access)


def test_tools_that_touch_nothing_say_so():
    assert TYPED_ACCESS["submit"] is no_access
    assert COMMAND_ACCESS["submit"] is no_access and COMMAND_ACCESS["echo"] is no_access
    assert accesses("submit", {"answer": {}}) == []
    assert accesses("shell", {"command": "echo hi"}) == []


@pytest.mark.parametrize(("tool", "args", "expected"), [
    ("read_file", {"path": "pkg/a.py"}, [("read", "file:pkg/a.py")]),
    ("search", {"pattern": "x"}, [("read", "file:")]),
    ("rename_symbol", {"paths": ["pkg", "b.py"]}, [("write", "file:pkg/"), ("write", "file:b.py")]),
    ("run_tests", {"path": "tests/test_a.py"}, [("execute", "file:tests/test_a.py")]),
    ("stop_service", {"service": "api.service"}, [("stop", "service:api")]),
    ("delete_host_file", {"host": "h1", "path": "var/log/a.log"}, [("delete", "host:h1:/var/log/a.log")]),
    ("revoke_credential", {"producer": "db", "secret": "pw"}, [("revoke", "credential:db/pw")]),
    ("sql_execute", {"sql": "DELETE FROM orders"}, [("delete", "table:orders")]),
    ("sql_query", {"sql": "SELECT * FROM a JOIN b USING (id)"}, [("read", "table:a"), ("read", "table:b")]),
    ("ticket_comment", {"text": "done"}, [("write", "ticket:")]),
    ("no_such_tool", {"path": "x.py"}, []),
])
def test_typed_mappings(tool, args, expected):
    assert _pairs(tool, args) == expected


@pytest.mark.parametrize(("command", "expected"), [
    ("ls", [("read", "file:")]),
    ("cat /etc/api/api.conf", [("read", "service:api")]),
    ("cat > pkg/new.py <<'EOF'\nx = 1\nEOF", [("write", "file:pkg/new.py")]),
    ("grep -rn Foo pkg", [("read", "file:pkg/")]),
    ("sed -i 's/a/b/' pkg/a.py", [("write", "file:pkg/a.py")]),
    ("sed -n 1,5p pkg/a.py > out.txt", [("write", "file:out.txt"), ("read", "file:pkg/a.py")]),
    ("rm -rf pkg", [("delete", "file:pkg/")]),
    ("python -m pytest tests/test_a.py", [("execute", "file:tests/test_a.py")]),
    ("systemctl restart api db.service", [("restart", "service:api"), ("restart", "service:db")]),
    ("journalctl -u api -n 5", [("read", "service:api")]),
    ("curl -s http://api.internal/health", [("read", "service:api")]),
    ("ssh root@web-1 rm -f /var/log/a.log", [("delete", "host:web-1:/var/log/a.log")]),
    ("vault write creds/db secret=S", [("issue", "credential:db/S")]),
    ("psql -c 'TRUNCATE t; SELECT * FROM u'", [("delete", "table:t"), ("read", "table:u")]),
    ("psql <<'EOF'\n\\d orders\nEOF", [("read", "table:orders")]),
    ("ticket show", [("read", "ticket:")]),
    ("frobnicate pkg/a.py", []),
    ("cat 'unclosed", []),
])
def test_shell_mappings(command, expected):
    assert _pairs("shell", {"command": command}) == expected


def test_an_equal_intent_maps_equally_in_both_layers():
    assert accesses("write_config", {"service": "api", "text": ""}) == [Access("write", "service:api")]
    assert accesses("shell", {"command": "echo x > /etc/api/api.conf"}) == [Access("write", "service:api")]
