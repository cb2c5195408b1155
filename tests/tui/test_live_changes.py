"""Live across processes: what another jumpdeck process commits (here the CLI, as
another operator would on another jump host) shows in an open app without a reload
key, on a SQLite file and on PostgreSQL: a server added (the cursor stays on its
row), the notice, and this operator's own role and account."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from jumpdeck.core.config import load_config
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
from jumpdeck.core.store_key import export_key, import_key
from tests.conftest import os_user, service_unavailable
from tests.tui.conftest import booted, prepare_store

# Generous, so only a change that never arrives fails; bench/team.py measures how fast.
WAIT = 15.0


@dataclass
class Team:
    """Host A (the app, this process) and host B: another home, the store's key
    imported there, its commands run in a UTS namespace of their own (hostname hostb)."""

    config: object
    home_b: Path
    store_url: str


@pytest.fixture(params=["sqlite", "postgresql"])
def team(tmp_path, request, monkeypatch):
    from jumpdeck.tui.screens.servers import ServersScreen

    if os.geteuid() != 0 or not shutil.which("unshare"):
        service_unavailable("another jump host is played with `unshare -u`, which needs root")
    monkeypatch.setattr(ServersScreen, "AUTO_CHECK", False)
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_temp_url")
    else:
        url = f"sqlite:///{tmp_path / 'team.db'}"
    config = load_config(cli={"home": str(tmp_path / "a"), "store_url": url})

    async def seed(ctx) -> None:  # noqa: ANN001
        from jumpdeck.core.identity import Role

        # Host B's commands run as this OS account.
        await ctx.users.add(ctx.actor, os_user(), Role.ADMIN)
        registry = ServerRegistry(ctx.store, ctx.secrets)
        for name in ("m-db", "z-db"):
            await registry.create(ctx.actor, ServerSpec(name=name, db_type="postgresql", host="127.0.0.1",
                                                        username="postgres", password=Secret("x")))
        export_key(ctx.secrets, tmp_path / "store.key")

    asyncio.run(prepare_store(config, extra=seed))
    home_b = tmp_path / "b"
    asyncio.run(import_key(load_config(cli={"home": str(home_b), "store_url": url}),
                           (tmp_path / "store.key").read_text()))
    return Team(config, home_b, url)


async def _until(pilot, condition, what: str) -> None:
    for _ in range(int(WAIT / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"not shown within {WAIT} s: {what}")


def _on_host_b(team: Team, *args: str, stdin: str | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env.update({"JUMPDECK_HOME": str(team.home_b), "JUMPDECK_STORE_URL": team.store_url,
                "JUMPDECK_CONFIG": os.devnull})
    cmd = ["unshare", "-u", "sh", "-c", 'hostname hostb && exec "$@"', "sh",
           sys.executable, "-m", "jumpdeck.tui.cli", *args]
    out = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


async def test_a_server_added_elsewhere_appears_and_the_cursor_stays(team) -> None:
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.widgets.server_grid import ServerGrid

    config = team.config
    app = JumpdeckApp(config, user="admin")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        grid = app.screen.query_one(ServerGrid)
        await pilot.press("down")  # on z-db
        before = grid.current.info
        assert before.name == "z-db"
        await asyncio.to_thread(_on_host_b, team, "servers", "add", "--name", "a-db", "--type", "postgresql",
                                "--host", "127.0.0.1", "--user", "postgres", "--password-stdin", stdin="x\n")
        await _until(pilot, lambda: "a-db" in {r.info.name for r in app.screen.fleet.rows.values()}, "the new server")
        await pilot.pause()
        assert grid.current.info.id == before.id  # a-db sorts first: the cursor did not move with the rows

        await asyncio.to_thread(_on_host_b, team, "servers", "rm", "m-db")
        await _until(pilot, lambda: "m-db" not in {r.info.name for r in app.screen.fleet.rows.values()}, "the delete")

        from jumpdeck.core.activity import ActivityFilter

        page = await app.ctx.activity.page(app.ctx.actor, ActivityFilter(target_type="SERVER"), limit=10)
        assert {e.origin for e in page.entries if e.action in ("CREATE", "DELETE") and e.actor == os_user()} \
            >= {"local@hostb"}


async def test_the_notice_and_my_role_follow_what_an_admin_does_elsewhere(team) -> None:
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.pending import PendingScreen

    config = team.config
    app = JumpdeckApp(config, user="kim.operator")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        assert app.ctx.actor.role.value == "operator"
        await asyncio.to_thread(_on_host_b, team, "settings", "set", "system_notice", "Patch night [18:00]")
        await _until(pilot, lambda: app.notice == "Patch night [18:00]", "the notice")
        await asyncio.to_thread(_on_host_b, team, "users", "set-role", "kim.operator", "viewer")
        await _until(pilot, lambda: app.ctx.actor.role.value == "viewer", "the new role")
        await asyncio.to_thread(_on_host_b, team, "users", "disable", "kim.operator")
        await _until(pilot, lambda: isinstance(app.screen, PendingScreen), "the disabled account")
