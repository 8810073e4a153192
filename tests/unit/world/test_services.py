"""The services world component and the system-administration checkers on hand-made worlds."""

from __future__ import annotations

import pytest

from harness.workload.checks import get_checker
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep
from harness.world import World, WorldError
from harness.world.components.services import Services, parse_config, render_config


def estate() -> Services:
    """db <- api <- web, api authenticates to db with a password."""
    s = Services()
    s.add_service("db", config="listen_port=5432\n", host="h1")
    s.add_service("api", config="listen_port=8000\ndb.port=5432\npassword=old\n", deps=["db"], host="h1",
                  rule={"required": {"listen_port": r"\d+"}, "needs_running": ["db"],
                        "equals": {"db.port": ["db", "listen_port"]},
                        "credential": {"key": "password", "producer": "db"}, "files": ["/var/lib/api/x.db"]})
    s.add_service("web", config="listen_port=443\n", deps=["api"], rule={"needs_running": ["api"]}, host="h2")
    s.credentials["db"] = ["old"]
    s.hosts["h1"] = {"capacity_mb": 100.0, "files": {"/var/lib/api/x.db": 50.0, "/var/log/api.log": 30.0}}
    s.hosts["h2"] = {"capacity_mb": 10.0, "files": {}}
    return s


def test_parse_config_ignores_comments_and_takes_the_last_value():
    assert parse_config("a=1\n# b=2\nc: 3  # note\n!!bad\na=4\n") == {"a": "4", "c": "3"}
    assert parse_config(render_config({"x.y": "1", "z": "two"})) == {"x.y": "1", "z": "two"}


def test_start_rule_names_every_reason():
    s = estate()
    assert s.restart("api") and s.status("api")["status"] == "running"
    s.write_config("api", "listen_port=abc\ndb.port=5433\npassword=nope\n")
    assert s.status("api")["status"] == "running"  # a config file takes effect on restart
    assert not s.restart("api")
    why = s.tail_logs("api", 1)[0]
    assert "invalid value for 'listen_port'" in why and "db.port=5433" in why and "not accepted" in why
    assert s.status("api")["status"] == "failed"
    assert s.status("web")["status"] == "degraded"  # its dependency is down
    s.write_config("api", "listen_port=8000\ndb.port=5432\npassword=old\n")
    assert s.restart("api")
    assert s.status("web")["status"] == "running"  # recovers on its own
    assert [e["op"] for e in s.events if e["service"] == "web"] == ["degraded", "recovered"]


def test_revoking_a_credential_in_use_crashes_the_consumer():
    s = estate()
    s.issue_credential("db", "new")
    s.revoke_credential("db", "old")
    assert s.status("api")["status"] == "failed"
    assert any(e["op"] == "failed" and e["by"] == "system" for e in s.events)
    with pytest.raises(WorldError):
        s.revoke_credential("db", "old")


def test_deleting_a_file_a_service_opens_crashes_it():
    s = estate()
    assert s.disk_free_mb("h1") == 20.0
    s.delete_file("h1", "/var/log/api.log")
    assert s.disk_free_mb("h1") == 50.0 and s.status("api")["status"] == "running"
    s.delete_file("h1", "/var/lib/api/x.db")
    assert s.status("api")["status"] == "failed"
    assert [f["path"] for f in s.list_files("h1")] == []
    with pytest.raises(WorldError):
        s.delete_file("h1", "/nope")


def test_deploy_rollback_and_health_checks_are_recorded():
    s = Services()
    s.add_service("a", version="1.0.0", releases={"1.0.0": {"error_rate": 0.001}, "1.1.0": {"error_rate": 0.3}})
    assert s.deploy("a", "1.1.0")
    assert s.status("a")["status"] == "degraded"
    assert not s.health_check("a")["healthy"]
    assert s.rollback("a") and s.status("a") == {**s.status("a"), "version": "1.0.0", "status": "running"}
    assert s.health_check("a")["healthy"]
    assert [e["op"] for e in s.events] == ["deploy", "health_check", "rollback", "health_check"]
    with pytest.raises(WorldError):
        s.deploy("a", "9.9.9")
    with pytest.raises(WorldError):
        s.rollback("a")


def test_reads_do_not_change_the_digest_and_snapshots_round_trip():
    s = estate()
    s.metrics["api"]["latency_ms"] = [1.0, 2.0, 3.0]
    s.logs["api"] = ["t+0001m INFO a", "t+0002m ERROR b"]
    s.traces_ = [{"service": "api", "parent": None, "duration_ms": 3.0}]
    d = s.digest()
    assert s.query_metrics("api", "latency_ms", 2) == [2.0, 3.0]
    assert s.tail_logs("api", 5, contains="error") == ["t+0002m ERROR b"]
    assert s.traces("api") and not s.traces("web")
    assert s.read_config("db") == "listen_port=5432\n"
    assert s.digest() == d
    with pytest.raises(WorldError):
        s.query_metrics("api", "nonsense")
    with pytest.raises(WorldError):
        s.status("ghost")
    world = World(parts={"services": s})
    again = World.from_snapshot(world.snapshot())
    assert again.digest() == world.digest() and again.services.digest() == d
    again.services.restart("db")  # independent copies
    assert again.digest() != world.digest()


def test_world_operations_apply_through_gold_steps():
    world = World(parts={"services": estate()})
    apply_steps(world, [GoldStep(op="issue_credential", args={"producer": "db", "secret": "new"}),
                        GoldStep(op="write_config", args={"service": "api",
                                                          "text": "listen_port=8000\ndb.port=5432\npassword=new\n"}),
                        GoldStep(op="restart_service", args={"service": "api"}),
                        GoldStep(op="revoke_credential", args={"producer": "db", "secret": "old"})])
    assert world.services.status("api")["status"] == "running"
    assert get_checker("never_failed")(world, None, services=["api", "web"])[0]
    assert get_checker("untouched")(world, None, allow=["api"])[0]
    assert not get_checker("untouched")(world, None, allow=[])[0]


# -- checkers --------------------------------------------------------------------------
def _diag(answer):
    world = World(parts={"services": Services()})
    world.submit(answer)
    return get_checker("diagnosis")(world, None, service="orders-db", fault="slow_database",
                                 aliases=["slow db"], team=None)[0]


def test_diagnosis_is_tolerant_of_spelling_but_not_of_lists():
    assert _diag({"service": " Orders-DB ", "fault": "Slow DB"})
    assert _diag({"service": "orders_db", "fault": "slow-database"})
    assert not _diag({"service": "orders", "fault": "slow_database"})
    assert not _diag({"service": ["orders-db", "users-db"], "fault": "slow_database"})
    assert not _diag({"service": "orders-db", "fault": "slow_database, memory_leak"})
    assert not _diag({})


def _fleet() -> World:
    s = Services()
    for n in ("a-1", "a-2", "a-3", "a-4"):
        s.add_service(n, version="1.0", releases={"1.0": {"error_rate": 0.0}, "2.0": {"error_rate": 0.0}})
    return World(parts={"services": s})


@pytest.mark.parametrize(("ops", "ok"), [
    ("D1 H1 D2 D3 H2 H3 D4 H4", True),
    ("D1 H1 D2 D3 H3 H2 D4 H4", True),
    ("D1 D2 H1 H2 D3 D4 H3 H4", False),  # nothing beside the canary before its check
    ("D2 H2 D1 H1 D3 D4 H3 H4", False),  # the canary is not first
    ("D1 H1 D2 D3 D4 H2 H3 H4", False),  # a batch of 3 > 2
    ("D1 H1 D2 D3 H2 D4 H3 H4", False),  # a-3 not checked before the next batch
    ("D1 H1 D2 D3 H2 H3 D4", False),  # a-4 never checked
])
def test_rollout_policy_judges_the_order(ops, ok):
    world = _fleet()
    for op in ops.split():
        name = f"a-{op[1]}"
        world.services.deploy(name, "2.0") if op[0] == "D" else world.services.health_check(name)
    got, reason = get_checker("rollout_policy")(world, None, instances=["a-1", "a-2", "a-3", "a-4"], canary="a-1",
                                             new="2.0", old="1.0", batch=2, bad=False)
    assert got is ok, reason


def test_config_preserved_allows_only_the_fix():
    s = Services()
    s.add_service("a", config="port=1\nmode=x\n")
    world = World(parts={"services": s})
    args = {"service": "a", "original": {"prot": "1", "mode": "x"}, "fix_keys": ["port"], "removable": ["prot"]}
    assert get_checker("config_preserved")(world, None, **args)[0]
    s.write_config("a", "port=1\n")
    assert not get_checker("config_preserved")(world, None, **args)[0]
    s.write_config("a", "port=1\nmode=x\nextra=1\n")
    assert not get_checker("config_preserved")(world, None, **args)[0]
