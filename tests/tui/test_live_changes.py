"""Live across processes: what another jumpdeck process commits (here the CLI, as
another operator would on another jump host) shows in an open app without a reload
key, on a SQLite file and on PostgreSQL: a server added (the cursor stays on its
row), the notice, and this operator's own role and account."""

from __future__ import annotations

import asyncio

import pytest

from jumpdeck.core.config import load_config
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
from tests.conftest import os_user
from tests.tui.conftest import booted, prepare_store
from tests.tui.test_cli import jd

# Generous, so only a change that never arrives fails; bench/team.py measures how fast.
WAIT = 15.0


@pytest.fixture(params=["sqlite", "postgresql"])
def team_home(tmp_path, request, monkeypatch):
    from jumpdeck.tui.screens.servers import ServersScreen

    monkeypatch.setattr(ServersScreen, "AUTO_CHECK", False)
    cli = {"home": str(tmp_path / "home")}
    env = {}
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_temp_url")
        cli["store_url"] = url
        env["JUMPDECK_STORE_URL"] = url
    config = load_config(cli=cli)

    async def seed(ctx) -> None:  # noqa: ANN001
        from jumpdeck.core.identity import Role

        # The other operator's commands run as this OS account.
        await ctx.users.add(ctx.actor, os_user(), Role.ADMIN)
        registry = ServerRegistry(ctx.store, ctx.secrets)
        for name in ("m-db", "z-db"):
            await registry.create(ctx.actor, ServerSpec(name=name, db_type="postgresql", host="127.0.0.1",
                                                        username="postgres", password=Secret("x")))

    asyncio.run(prepare_store(config, extra=seed))
    return config, env


async def _until(pilot, condition, what: str) -> None:
    for _ in range(int(WAIT / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"not shown within {WAIT} s: {what}")


def _elsewhere(config, env, *args: str, stdin: str | None = None) -> None:
    out = jd(*args, home=config.home, env=env, stdin=stdin)
    assert out.returncode == 0, out.stderr


async def test_a_server_added_elsewhere_appears_and_the_cursor_stays(team_home) -> None:
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.widgets.server_grid import ServerGrid

    config, env = team_home
    app = JumpdeckApp(config, user="admin")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        grid = app.screen.query_one(ServerGrid)
        await pilot.press("down")  # on z-db
        before = grid.current.info
        assert before.name == "z-db"
        await asyncio.to_thread(_elsewhere, config, env, "servers", "add", "--name", "a-db", "--type", "postgresql",
                                "--host", "127.0.0.1", "--user", "postgres", "--password-stdin", stdin="x\n")
        await _until(pilot, lambda: "a-db" in {r.info.name for r in app.screen.fleet.rows.values()}, "the new server")
        await pilot.pause()
        assert grid.current.info.id == before.id  # a-db sorts first: the cursor did not move with the rows

        await asyncio.to_thread(_elsewhere, config, env, "servers", "rm", "m-db")
        await _until(pilot, lambda: "m-db" not in {r.info.name for r in app.screen.fleet.rows.values()}, "the delete")


async def test_the_notice_and_my_role_follow_what_an_admin_does_elsewhere(team_home) -> None:
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.pending import PendingScreen

    config, env = team_home
    app = JumpdeckApp(config, user="kim.operator")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        assert app.ctx.actor.role.value == "operator"
        await asyncio.to_thread(_elsewhere, config, env, "settings", "set", "system_notice", "Patch night [18:00]")
        await _until(pilot, lambda: app.notice == "Patch night [18:00]", "the notice")
        await asyncio.to_thread(_elsewhere, config, env, "users", "set-role", "kim.operator", "viewer")
        await _until(pilot, lambda: app.ctx.actor.role.value == "viewer", "the new role")
        await asyncio.to_thread(_elsewhere, config, env, "users", "disable", "kim.operator")
        await _until(pilot, lambda: isinstance(app.screen, PendingScreen), "the disabled account")
