"""Services, hosts and credentials through both tool layers: typed tools (structured results
and refusals) and shell commands (terminal text), and the (action, resource) pairs each
call maps to, which must be equal for equivalent calls of the two layers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runtime.tools import TOOL_LAYERS
from harness.runtime.tools.access_rules import accesses
from harness.runtime.tools.shell_ops import split_heredoc
from harness.runtime.tools.typed_ops import OPS_TOOL_DEFS
from harness.world import Workspace, World
from harness.world.components.services import Services

API_CONF = "listen_port=8000\ndb_password=old-pw\nworkers=4\n"


def make_world() -> World:
    svcs = Services()
    svcs.add_service("db", config="listen_port=5432\n", host="h1",
                     releases={"1.0.0": {"error_rate": 0.0}, "1.1.0": {"error_rate": 0.2}})
    svcs.add_service("api", config=API_CONF, deps=["db"], host="h1", rule={
        "required": {"listen_port": r"\d+", "workers": r"[1-9]\d*"}, "needs_running": ["db"],
        "credential": {"key": "db_password", "producer": "db"}})
    svcs.credentials["db"] = ["old-pw"]
    svcs.hosts["h1"] = {"capacity_mb": 1000.0,
                        "files": {"/var/log/a.log": 100.0, "/var/log/b.log": 50.0, "/var/lib/db/data": 500.0}}
    svcs.metrics["db"]["latency_ms"] = [1.0, 2.0, 30.0]
    svcs.logs["db"] = ["t+0001m INFO started", "t+0002m ERROR slow query", "t+0003m INFO ok"]
    svcs.traces_ = [{"trace_id": "t1", "span_id": "t1-000", "parent": None, "service": "api", "minute": 1,
                     "duration_ms": 5.0, "status": "ok"}]
    return World(parts={"services": svcs})


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


# -- typed: registry and annotations ------------------------------------------------------
def test_specs_have_truthful_annotations(typed):
    specs = {s.name: s for s in typed.specs()}
    reads = ("list_services", "service_status", "read_config", "query_metrics", "tail_logs", "get_traces",
             "health_check", "list_host_files", "disk_free")
    assert all(specs[n].annotations.read_only for n in reads)
    writes = ("write_config", "restart_service", "stop_service", "deploy", "rollback", "delete_host_file",
              "issue_credential", "revoke_credential")
    assert not any(specs[n].annotations.read_only for n in writes)
    assert all(specs[n].annotations.destructive for n in ("delete_host_file", "stop_service", "revoke_credential"))
    assert specs["delete_host_file"].parameters["additionalProperties"] is False


# -- typed: happy paths ---------------------------------------------------------------------
def test_reads_return_structured_data(typed, world):
    def data(tool, **args):
        obs = typed.call(world, tool, args)
        assert obs.ok, obs.error
        return obs.data

    assert [s["service"] for s in data("list_services")["services"]] == ["api", "db"]
    assert data("service_status", service="api")["depends_on"] == ["db"]
    assert data("read_config", service="api")["text"] == API_CONF
    assert data("query_metrics", service="db", metric="latency_ms", last_n=2)["values"] == [2.0, 30.0]
    assert data("tail_logs", service="db", n=5, contains="error")["lines"] == ["t+0002m ERROR slow query"]
    assert data("get_traces")["spans"][0]["service"] == "api"
    assert data("list_host_files", host="h1", prefix="/var/log/")["files"] == [
        {"path": "/var/log/a.log", "size_mb": 100.0}, {"path": "/var/log/b.log", "size_mb": 50.0}]
    assert data("disk_free", host="h1")["free_mb"] == 350.0
    assert data("health_check", service="db")["healthy"] is True


def test_rotation_and_cleanup_change_the_world(typed, world):
    svcs = world.services
    assert typed.call(world, "issue_credential", {"producer": "db", "secret": "new-pw"}).ok
    new_conf = API_CONF.replace("old-pw", "new-pw")
    assert typed.call(world, "write_config", {"service": "api", "text": new_conf}).ok
    obs = typed.call(world, "restart_service", {"service": "api"})
    assert obs.ok and obs.data["started"] and obs.data["status"] == "running"
    assert typed.call(world, "revoke_credential", {"producer": "db", "secret": "old-pw"}).data["revoked"]
    assert svcs.credentials["db"] == ["new-pw"] and svcs.status("api")["status"] == "running"
    obs = typed.call(world, "delete_host_file", {"host": "h1", "path": "/var/log/a.log"})
    assert obs.ok and obs.data == {"host": "h1", "path": "/var/log/a.log", "freed_mb": 100.0, "free_mb": 450.0}


def test_failed_start_is_applied_and_says_why(typed, world):
    assert typed.call(world, "write_config", {"service": "api", "text": "listen_port=8000\n"}).ok
    obs = typed.call(world, "restart_service", {"service": "api"})
    assert obs.ok and obs.applied and obs.data["started"] is False and obs.data["status"] == "failed"
    assert "missing required config key 'workers'" in obs.data["reason"]


def test_deploy_rollback_stop(typed, world):
    obs = typed.call(world, "deploy", {"service": "db", "version": "1.1.0"})
    assert obs.ok and obs.data["version"] == "1.1.0" and obs.data["status"] == "degraded"
    assert typed.call(world, "health_check", {"service": "db"}).data["healthy"] is False
    assert typed.call(world, "rollback", {"service": "db"}).data["version"] == "1.0.0"
    assert typed.call(world, "stop_service", {"service": "api"}).data["status"] == "stopped"


# -- typed: refusals leave the world unchanged ------------------------------------------------
@pytest.mark.parametrize("tool,args,code,field", [
    ("service_status", {"service": "nope"}, "not_found", "service"),
    ("write_config", {"service": "nope", "text": "x=1\n"}, "not_found", "service"),
    ("restart_service", {"service": "nope"}, "not_found", "service"),
    ("query_metrics", {"service": "db", "metric": "bogus"}, "invalid_arguments", "metric"),
    ("query_metrics", {"service": "nope", "metric": "cpu"}, "not_found", "service"),
    ("get_traces", {"service": "nope"}, "not_found", "service"),
    ("deploy", {"service": "db", "version": "9.9.9"}, "not_found", "version"),
    ("deploy", {"service": "nope", "version": "1.0.0"}, "not_found", "service"),
    ("rollback", {"service": "db"}, "precondition_failed", "service"),
    ("delete_host_file", {"host": "h1", "path": "/var/log/zzz.log"}, "not_found", "path"),
    ("delete_host_file", {"host": "h9", "path": "/var/log/a.log"}, "not_found", "host"),
    ("disk_free", {"host": "h9"}, "not_found", "host"),
    ("issue_credential", {"producer": "nope", "secret": "s"}, "not_found", "producer"),
    ("revoke_credential", {"producer": "db", "secret": "never-issued"}, "precondition_failed", "secret"),
    ("revoke_credential", {"producer": "nope", "secret": "old-pw"}, "not_found", "producer"),
    # wrong types and shapes: strict models reject them before anything runs
    ("query_metrics", {"service": "db", "metric": "cpu", "last_n": "3"}, "invalid_arguments", "last_n"),
    ("query_metrics", {"service": "db", "metric": "cpu", "last_n": 0}, "invalid_arguments", "last_n"),
    ("restart_service", {"service": 7}, "invalid_arguments", "service"),
    ("restart_service", {}, "invalid_arguments", "service"),
    ("restart_service", {"service": "db", "force": True}, "invalid_arguments", "force"),
    ("tail_logs", {"service": "db", "n": 2.5}, "invalid_arguments", "n"),
    ("delete_host_file", {"host": "h1", "path": ""}, "invalid_arguments", "path"),
])
def test_refusals_are_structured_and_change_nothing(typed, world, tool, args, code, field):
    before = world.digest()
    obs = typed.call(world, tool, args)
    assert not obs.ok and not obs.applied
    assert (obs.error.code, obs.error.field) == (code, field), obs.error
    assert world.digest() == before


def test_a_world_without_services_refuses(typed):
    world = World(Workspace({"a.py": ""}))
    obs = typed.call(world, "list_services", {})
    assert not obs.ok and obs.error.code == "not_found" and "no services" in obs.error.message


_ARG = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=6),
                 st.sampled_from(["db", "api", "h1", "latency_ms", "1.1.0", "old-pw", "/var/log/a.log"]))


@settings(max_examples=150, deadline=None)
@given(tool=st.sampled_from([d.name for d in OPS_TOOL_DEFS]),
       args=st.dictionaries(st.sampled_from(["service", "metric", "last_n", "n", "contains", "text", "version",
                                             "host", "prefix", "path", "producer", "secret", "extra"]), _ARG,
                            max_size=4))
def test_no_argument_makes_a_typed_call_raise_and_refusals_change_nothing(tool, args):
    world = make_world()
    before = world.digest()
    obs = TOOL_LAYERS.build("typed").call(world, tool, args)
    if not obs.ok:
        assert obs.error is not None and not obs.applied and world.digest() == before


# -- shell: services ----------------------------------------------------------------------------
def test_systemctl(shell, world):
    text, ok = sh(shell, world, "systemctl list-units")
    assert ok and "api.service" in text and "db.service" in text and "2 loaded units listed." in text
    text, ok = sh(shell, world, "systemctl status db")
    assert ok and "Active: active (running)" in text and "ERROR slow query" in text
    assert sh(shell, world, "systemctl restart nope.service") == (
        "Failed to restart nope.service: Unit nope.service not found.\n", False)
    assert sh(shell, world, "systemctl status nope") == ("Unit nope.service could not be found.\n", False)
    assert sh(shell, world, "systemctl stop api") == ("", True)
    text, ok = sh(shell, world, "systemctl status api")
    assert not ok and "inactive (dead)" in text  # exit code 3 as systemctl's, for a unit not running
    assert sh(shell, world, "systemctl start api") == ("", True)
    assert world.services.status("api")["status"] == "running"


def test_failed_restart_reads_like_systemd(shell, world):
    sh(shell, world, "echo listen_port=8000 > /etc/api/api.conf")
    text, ok = sh(shell, world, "systemctl restart api")
    assert not ok and text.startswith("Job for api.service failed") and "journalctl -xeu api.service" in text
    text, _ = sh(shell, world, "journalctl -u api -n 1")
    assert "failed to start: missing required config key 'workers'" in text


def test_journalctl(shell, world):
    assert sh(shell, world, "journalctl -u db.service -n 2") == (
        "t+0002m ERROR slow query\nt+0003m INFO ok\n", True)
    assert sh(shell, world, "journalctl -u db --grep=error") == ("t+0002m ERROR slow query\n", True)
    assert sh(shell, world, "journalctl -u nope") == ("-- No entries --\n", True)  # as misleading as in life


def test_config_files_under_etc(shell, world):
    svcs = world.services
    assert sh(shell, world, "cat /etc/api/api.conf") == (API_CONF, True)
    text, ok = sh(shell, world, "grep -n db_password /etc/api/api.conf")
    assert ok and text == "/etc/api/api.conf:2:db_password=old-pw\n"
    assert sh(shell, world, "sed -i 's/old-pw/new-pw/' /etc/api/api.conf") == ("", True)
    assert svcs.read_config("api") == API_CONF.replace("old-pw", "new-pw")
    assert [e["op"] for e in svcs.events] == ["write_config"]  # one write, not a truncate and a write
    assert sh(shell, world, "cat > /etc/db/db.conf <<'EOF'\nlisten_port=5433\nx=1\nEOF") == ("", True)
    assert svcs.read_config("db") == "listen_port=5433\nx=1\n"
    assert sh(shell, world, "cat /etc/nope/nope.conf")[0] == "cat: /etc/nope/nope.conf: No such file or directory\n"
    assert world.workspace.list() == []  # configs never leak into the workspace


def test_telemetry_health_and_deploys(shell, world):
    assert sh(shell, world, "metrics db latency_ms --last 2") == ("     t  latency_ms\n    -2  2\n    -1  30\n", True)
    text, ok = sh(shell, world, "metrics db bogus")
    assert not ok and text.startswith("metrics: unknown metric 'bogus'")
    assert "span_id=t1-000" in sh(shell, world, "traces api")[0]
    assert sh(shell, world, "curl -s http://db/health") == ('{"status": "ok", "version": "1.0.0", "error_rate": 0.0}\n',
                                                           True)
    assert sh(shell, world, "deploy db 1.1.0") == ("deploy: db is now at version 1.1.0 (degraded)\n", True)
    text, ok = sh(shell, world, "curl -s http://db.internal:5432/health")
    assert ok and '"unavailable"' in text  # without -f a 503 still exits 0, as curl does
    assert sh(shell, world, "curl -sf http://db/health") == ("curl: (22) The requested URL returned error: 503\n",
                                                            False)
    assert sh(shell, world, "healthcheck db")[1] is False
    assert sh(shell, world, "curl -s http://nope/health")[0] == "curl: (6) Could not resolve host: nope\n"
    assert sh(shell, world, "rollback db") == ("deploy: db is now at version 1.0.0 (running)\n".replace(
        "deploy", "rollback"), True)
    text, ok = sh(shell, world, "deploy db 9.9")
    assert not ok and text.startswith("deploy: no release '9.9' of db")


def test_hosts_over_ssh(shell, world):
    assert sh(shell, world, "ssh h1 ls /var/log") == ("/var/log/a.log\n/var/log/b.log\n", True)
    assert sh(shell, world, "ssh h1 ls -l /var/lib/db/data") == ("     500.0M /var/lib/db/data\n", True)
    text, ok = sh(shell, world, "ssh h1 df -m")
    assert ok and text.splitlines()[1].split()[1:4] == ["1000", "650", "350"]
    assert sh(shell, world, "ssh h1 rm /var/log") == ("rm: cannot remove '/var/log': Is a directory\n", False)
    assert sh(shell, world, "ssh h1 rm /var/log/a.log") == ("", True)
    assert sh(shell, world, "ssh h1 rm /var/log/a.log") == (
        "rm: cannot remove '/var/log/a.log': No such file or directory\n", False)
    assert sh(shell, world, "ssh root@h1 rm -rf /var/log/") == ("", True)
    assert world.services.list_files("h1") == [{"path": "/var/lib/db/data", "size_mb": 500.0}]
    assert sh(shell, world, "ssh h9 df")[0] == "ssh: Could not resolve hostname h9: Name or service not known\n"


def test_vault(shell, world):
    assert sh(shell, world, "vault write creds/db secret=new-pw") == ("Success! Data written to: creds/db\n", True)
    assert world.services.credentials["db"] == ["old-pw", "new-pw"]
    before = world.digest()
    text, ok = sh(shell, world, "vault revoke creds/db secret=wrong")
    assert not ok and text == "Error revoking creds/db: db does not accept that credential\n"
    assert world.digest() == before
    assert sh(shell, world, "vault revoke db secret=old-pw")[1]
    assert world.services.credentials["db"] == ["new-pw"]


def test_submit_takes_json_objects_or_text(shell, world):
    assert sh(shell, world, """submit '{"service": "db", "fault": "slow_database"}'""") == ("submitted\n", True)
    assert world.submission == {"service": "db", "fault": "slow_database"}
    sh(shell, world, "submit <<'EOF'\n{\"findings\": [{\"file\": \"a.py\", \"line\": 3}]}\nEOF")
    assert world.submission == {"findings": [{"file": "a.py", "line": 3}]}
    sh(shell, world, "submit db is slow")
    assert world.submission == {"text": "db is slow"}


# -- shell: heredocs --------------------------------------------------------------------------
def test_heredoc_writes_a_multiline_file(shell):
    world = World(Workspace({}))
    body = "def f():\n    return 'a | b; c'\n\n"
    assert sh(shell, world, f"cat > pkg/m.py <<'EOF'\n{body}EOF") == ("", True)
    assert world.workspace.read("pkg/m.py") == body
    assert sh(shell, world, "cat >> pkg/m.py <<-END\n\tx = 1\n\tEND") == ("", True)
    assert world.workspace.read("pkg/m.py") == body + "x = 1\n"
    assert sh(shell, world, "cat <<EOF\nhello\nEOF") == ("hello\n", True)


def test_heredoc_edges():
    assert split_heredoc("cat > f <<'EOF'\na\nEOF") == ("cat > f", "a\n")
    assert split_heredoc("cat > f << \"X\"\na\nb") == ("cat > f", "a\nb\n")  # unterminated: to the end
    assert split_heredoc("cat > f <<EOF\na\nEOF\nrm f") == ("cat > f\nrm f", "a\n")
    assert split_heredoc("echo '<<EOF'") is None
    assert split_heredoc("cat f") is None


def test_text_after_the_terminator_is_refused(shell):
    world = World(Workspace({"f": "keep\n"}))
    text, ok = sh(shell, world, "cat > g <<'EOF'\na\nEOF\nrm f")
    assert not ok and "'newline'" in text
    assert world.workspace.snapshot() == {"f": "keep\n"}


# -- access: the same intent maps to the same pairs in both layers -----------------------------
EQUIVALENT = [
    (("list_services", {}), "systemctl list-units"),
    (("service_status", {"service": "db"}), "systemctl status db.service"),
    (("read_config", {"service": "api"}), "cat /etc/api/api.conf"),
    (("write_config", {"service": "api", "text": "a=1\n"}), "cat > /etc/api/api.conf <<'EOF'\na=1\nEOF"),
    (("write_config", {"service": "api", "text": "a=1\n"}), "sed -i s/a/b/ /etc/api/api.conf"),
    (("write_config", {"service": "api", "text": "a=1\n"}), "echo a=1 > /etc/api/api.conf"),
    (("query_metrics", {"service": "db", "metric": "cpu"}), "metrics db cpu --last 5"),
    (("tail_logs", {"service": "db"}), "journalctl -u db -n 20"),
    (("get_traces", {"service": "api"}), "traces api"),
    (("get_traces", {}), "traces"),
    (("health_check", {"service": "db"}), "curl -s http://db/health"),
    (("health_check", {"service": "db"}), "healthcheck db"),
    (("restart_service", {"service": "api"}), "systemctl restart api"),
    (("stop_service", {"service": "api"}), "systemctl stop api"),
    (("deploy", {"service": "db", "version": "1.1.0"}), "deploy db 1.1.0"),
    (("rollback", {"service": "db"}), "rollback db"),
    (("list_host_files", {"host": "h1", "prefix": "/var/log"}), "ssh h1 ls -l /var/log"),
    (("disk_free", {"host": "h1"}), "ssh h1 df -h"),
    (("delete_host_file", {"host": "h1", "path": "/var/log/a.log"}), "ssh h1 rm /var/log/a.log"),
    (("issue_credential", {"producer": "db", "secret": "pw"}), "vault write creds/db secret=pw"),
    (("revoke_credential", {"producer": "db", "secret": "pw"}), "vault revoke creds/db secret=pw"),
]


@pytest.mark.parametrize("typed_call,command", EQUIVALENT)
def test_equivalent_calls_map_to_equal_pairs(typed_call, command):
    tool, args = typed_call
    got_typed, got_shell = accesses(tool, args), accesses("shell", {"command": command})
    assert got_typed and got_typed == got_shell


def test_resources_and_actions():
    # Whether any of these is unsafe is the task's policy's call, never the verb's.
    [stop] = accesses("stop_service", {"service": "api"})
    [delete] = accesses("delete_host_file", {"host": "h1", "path": "/var/log/a.log"})
    [issue] = accesses("issue_credential", {"producer": "db", "secret": "pw"})
    [restart] = accesses("restart_service", {"service": "api"})
    assert (stop.action, stop.resource) == ("stop", "service:api")
    assert (delete.action, delete.resource) == ("delete", "host:h1:/var/log/a.log")
    assert (issue.resource, issue.is_write) == ("credential:db/pw", True)
    assert restart.is_write
    assert not accesses("health_check", {"service": "db"})[0].is_write


def test_resources_parse_as_security_patterns():
    from harness.runtime.security.patterns import split

    for (tool, args), command in EQUIVALENT:
        for a in accesses(tool, args) + accesses("shell", {"command": command}):
            kind, _ = split(a.resource)
            assert kind in ("service", "host", "credential")


def test_the_shell_agrees_with_its_own_json_submit(shell, world):
    answer = {"anomalies": [{"start": "2024-01-01 00:00:00", "end": "2024-01-01 01:00:00"}]}
    sh(shell, world, "submit " + json.dumps(json.dumps(answer)))
    assert world.submission == answer


def test_etc_lists_and_searches_configs_and_rm_empties_one(shell, world):
    assert sh(shell, world, "ls /etc") == ("/etc/api/api.conf\n/etc/db/db.conf\n", True)
    assert sh(shell, world, "grep -rl listen_port /etc") == ("/etc/api/api.conf\n/etc/db/db.conf\n", True)
    assert accesses("shell", {"command": "rm /etc/api/api.conf"})[0].action == "delete"
    assert sh(shell, world, "rm /etc/api/api.conf") == ("", True)
    # The world has no absent config: a removed file is an empty config, missing every key.
    assert world.services.read_config("api") == "" and world.workspace.list() == []


_WORDS = ["systemctl", "restart", "status", "stop", "journalctl", "-u", "-n", "x", "db", "api", "nope", "metrics",
          "cpu", "--last", "curl", "-sf", "http://db/health", "deploy", "rollback", "1.1.0", "ssh", "h1", "ls", "rm",
          "-rf", "/var/log", "df", "vault", "write", "revoke", "creds/db", "secret=old-pw", "/etc/api/api.conf",
          "cat", ">", "<<'EOF'\nx=1\nEOF", "traces", "healthcheck", "psql", "-c", "'SELECT 1'"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6))
def test_no_shell_command_raises_and_refused_ones_change_nothing(words):
    world = make_world()
    before = world.digest()
    obs = TOOL_LAYERS.build("shell").call(world, "shell", {"command": " ".join(words)})
    assert isinstance(obs.text, str)
    if not obs.applied:
        assert world.digest() == before
