"""One bad token is one bad server, seen from the faces: `jumpdeck check`, the Servers
grid and the dashboard. pg-good and pg-bad both point at the real PostgreSQL; pg-bad's
stored password was encrypted under a key this installation never had."""

from __future__ import annotations

import asyncio
import json

import pytest

from jumpdeck.core.config import load_config
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.fleet import LiveState
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
from tests.core.servers.conftest import FOREIGN_PASSWORD, plant_foreign_token
from tests.conftest import os_user
from tests.tui.conftest import booted, prepare_store
from tests.tui.test_cli import jd

REMEDY = "This server's password was stored under another key"


@pytest.fixture
def bad_token_home(tmp_path, pg_url, monkeypatch):
    """The home of a store with pg-good and pg-bad; returns (config, pg-bad's token)."""
    from jumpdeck.tui.screens.servers import ServersScreen

    monkeypatch.setattr(ServersScreen, "AUTO_CHECK", False)  # the tests run the round themselves
    config = load_config(cli={"home": str(tmp_path / "home")})
    planted = {}

    async def seed(ctx) -> None:  # noqa: ANN001
        from jumpdeck.core.identity import Role

        await ctx.users.add(ctx.actor, os_user(), Role.ADMIN)  # who `jumpdeck check` runs as
        registry = ServerRegistry(ctx.store, ctx.secrets)
        for name in ("pg-bad", "pg-good"):
            spec = ServerSpec(name=name, db_type="postgresql", host="127.0.0.1", username="postgres",
                              password=Secret("x"))
            planted[name] = (await registry.create(ctx.actor, spec)).id
        planted["token"] = plant_foreign_token(ctx.store, planted["pg-bad"])

    asyncio.run(prepare_store(config, extra=seed))
    return config, planted["token"]


def test_check_reports_both_servers_and_exits_1(bad_token_home) -> None:
    config, token = bad_token_home
    out = jd("check", "--json", home=config.home)
    assert out.returncode == 1, out.stderr  # a failed check, not an abort (which would print no line)
    lines = {line["name"]: line for line in map(json.loads, out.stdout.strip().splitlines())}
    assert lines["pg-good"]["status"] == "online"
    bad = lines["pg-bad"]
    assert (bad["status"], bad["error_kind"]) == ("offline", "secret")
    assert "cannot decrypt the stored password" in bad["message"] and REMEDY in bad["hint"]
    assert "jumpdeck servers edit pg-bad --password-stdin" in bad["hint"]
    assert "Traceback" not in out.stderr
    for secret in (token, FOREIGN_PASSWORD):
        assert secret not in out.stdout + out.stderr
    table = jd("check", home=config.home)
    assert table.returncode == 1 and "1 online / 1 offline" in table.stdout and "secret: " in table.stdout


async def test_the_grid_marks_the_bad_card_and_the_dashboard_says_why(bad_token_home) -> None:
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.server_dashboard import ServerDashboardScreen
    from jumpdeck.tui.widgets.server_grid import ServerGrid
    from tests.tui.test_plain_text import shown

    config, token = bad_token_home
    app = JumpdeckApp(config, user="admin", start_mode="servers")
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await booted(pilot)
        screen = app.screen
        await pilot.press("T")  # test all
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        states = {row.info.name: row.state for row in screen.fleet.rows.values()}
        assert states == {"pg-bad": LiveState.OFFLINE, "pg-good": LiveState.ONLINE}
        grid = screen.query_one(ServerGrid)
        cards = shown(grid)
        assert "offline · secret: Encrypted under" in cards and "online · " in cards
        assert grid.current.info.name == "pg-bad"
        detail = str(screen.query_one("#servers-detail").render())
        assert "Password cannot be decrypted → " + REMEDY in detail and token not in detail

        await pilot.press("enter")
        dashboard = app.screen
        assert isinstance(dashboard, ServerDashboardScreen) and dashboard.info.name == "pg-bad"
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        note = str(dashboard.query_one("#dash-dbs-note").render())
        assert note.startswith("Password cannot be decrypted: Encrypted under another key: the key from ")
        assert REMEDY in note and "servers edit pg-bad" in note
        assert REMEDY in str(dashboard.query_one("#dash-state").render())
        assert token not in note
