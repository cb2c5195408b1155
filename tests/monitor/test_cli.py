"""`jumpdeck monitor` end to end: the real CLI entry point, store and Prometheus."""

from __future__ import annotations

import asyncio
import json

from jumpdeck.core.config import load_config
from tests.conftest import run_as
from tests.monitor.prom_stack import free_port
from tests.monitor.rows import add_run
from jumpdeck.tui.cli import main


def _seed(home, *coros_of_ctx) -> None:
    async def go() -> None:
        from jumpdeck.core.context import open_context

        ctx = await open_context(load_config(cli={"home": str(home)}))
        try:
            for make in coros_of_ctx:
                await make(ctx)
        finally:
            ctx.close()

    asyncio.run(go())


def _fleet(prom, *, warning: int = 80):
    async def seed(ctx) -> None:
        from jumpdeck.core.identity import Role

        await ctx.settings.set(ctx.actor, {"prometheus_instance": "{ip}:" + str(prom.exporter_port),
                                           "monitor_warning_pct": warning, "monitor_critical_pct": 99})
        await ctx.users.add(ctx.actor, "oper", Role.OPERATOR)
        await add_run(ctx, service="web", created_by=ctx.actor.user, vms=[("WKLD-01", "127.0.0.1")])
        await add_run(ctx, service="oper-app", created_by="oper", vms=[("WKLD-02", "127.0.0.1")])

    return seed


def test_json_lists_own_resources_and_exits_0_when_ok(tmp_path, prom, monkeypatch, capsys):
    home = tmp_path / "home"
    _seed(home, _fleet(prom, warning=98))  # thresholds this busy test machine stays under
    monkeypatch.setenv("JUMPDECK_PROMETHEUS_URL", prom.url)
    code = main(["--home", str(home), "monitor", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert [row["vm_name"] for row in out] == ["WKLD-01"]
    row = out[0]
    assert set(row) >= {"vm_name", "ip", "run_id", "cpu_pct", "mem_pct", "disk_pct", "state"}
    assert all(0 <= row[k] <= 100 for k in ("cpu_pct", "mem_pct", "disk_pct"))
    assert code == (0 if row["state"] == "ok" else 1)


def test_all_shows_the_fleet_for_admins_and_is_refused_to_operators(tmp_path, prom, monkeypatch, capsys):
    home = tmp_path / "home"
    _seed(home, _fleet(prom))
    monkeypatch.setenv("JUMPDECK_PROMETHEUS_URL", prom.url)
    main(["--home", str(home), "monitor", "--all", "--json"])
    assert sorted(r["vm_name"] for r in json.loads(capsys.readouterr().out)) == ["WKLD-01", "WKLD-02"]

    run_as(monkeypatch, "oper")
    assert main(["--home", str(home), "monitor", "--all"]) == 1
    assert "Only an admin can see every operator's resources" in capsys.readouterr().err
    main(["--home", str(home), "monitor", "--json"])
    assert [r["vm_name"] for r in json.loads(capsys.readouterr().out)] == ["WKLD-02"]


def test_warning_exits_1_with_a_table(tmp_path, prom, monkeypatch, capsys):
    home = tmp_path / "home"
    _seed(home, _fleet(prom, warning=1))  # the root disk is surely above 1 %
    monkeypatch.setenv("JUMPDECK_PROMETHEUS_URL", prom.url)
    assert main(["--home", str(home), "monitor"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["VM_NAME", "IP", "RUN_ID"]
    assert "WKLD-01" in out and ("warning" in out or "critical" in out)
    assert f"from {prom.url}" in out


def test_unreachable_exits_1_with_the_reason(tmp_path, prom, monkeypatch, capsys):
    home = tmp_path / "home"
    _seed(home, _fleet(prom))
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("JUMPDECK_PROMETHEUS_URL", dead)
    assert main(["--home", str(home), "monitor", "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["state"] == "unreachable"
    assert f"Prometheus unreachable at {dead}: connection refused." in captured.err


def test_nothing_to_watch_exits_0(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    assert main(["--home", str(home), "monitor"]) == 0
    assert "0 resource(s): nothing to watch" in capsys.readouterr().out


def test_not_configured_says_how(tmp_path, prom, monkeypatch, capsys):
    home = tmp_path / "home"
    _seed(home, _fleet(prom))
    assert main(["--home", str(home), "monitor"]) == 1
    err = capsys.readouterr().err
    assert "Prometheus is not configured" in err and "JUMPDECK_PROMETHEUS_URL" in err
