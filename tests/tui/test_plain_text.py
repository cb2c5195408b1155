"""Data from outside the code is shown as written, brackets and all. Ansible output, run
errors, host and server names, descriptions, driver messages, the admin's notice,
activity details and toasts all carry text such as `fatal: [web-1]: UNREACHABLE!`,
which markup would cut to `fatal: : UNREACHABLE!`. Each place is read back from what
the widget draws (its rendered lines), not from the value it was given."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from textual.geometry import Region

from jumpdeck.core.config import load_config
from tests.tui.conftest import FIXED, booted, prepare_store

# Both a bracketed word markup drops and a tag it would apply.
BRACKETED = "fatal: [web-1]: UNREACHABLE! [red]x[/]"
# For narrow table columns.
SHORT = "[b]r[/b][w-1]"
USER = "[i]u[/i]"


def shown(widget) -> str:  # noqa: ANN001
    """The text a widget draws on screen (padding and border included), line by line."""
    width, height = widget.region.size
    return "\n".join("".join(segment.text for segment in strip)
                     for strip in widget.render_lines(Region(0, 0, width, height)))


def toasts(app) -> str:  # noqa: ANN001
    return "\n".join(shown(toast) for toast in app.screen.query("Toast"))


async def until(pilot, condition, tries: int = 100) -> None:  # noqa: ANN001
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


async def _seed(ctx) -> None:  # noqa: ANN001
    from jumpdeck.core import activity
    from jumpdeck.core.identity import Actor, Role
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
    from jumpdeck.core.store.models import ProvisionEventRow, ProvisionRunRow

    await ServerRegistry(ctx.store, ctx.secrets).create(ctx.actor, ServerSpec(
        name=SHORT, db_type="postgresql", host="[web-1]", port=1, username="u", password=Secret("pw"),
        description=BRACKETED))

    def go(session) -> None:  # noqa: ANN001
        run = ProvisionRunRow(service_name=SHORT, template="single", status="FAILED", created_by=USER, runner="mock",
                              created_at=FIXED, started_at=FIXED, finished_at=FIXED + timedelta(seconds=5),
                              assigned_ip=SHORT)
        run.details = {"status": "FAILED", "config": {"steps": ["Allocate IPs", "Prepare hosts"]},
                       "progress": {"step": 1, "total": 2}, "error": {"message": BRACKETED}}
        session.add(run)
        session.flush()
        session.add(ProvisionEventRow(run_id=run.id, kind="line", result="failed", host="[web-1]", text=BRACKETED, at=FIXED))
        session.add(ProvisionEventRow(run_id=run.id, kind="status", result="FAILED", text=BRACKETED, at=FIXED))
        activity.record(session, Actor(USER, Role.OPERATOR), "PROVISION_FAILED", "RUN", run.id, BRACKETED)

    await ctx.store.run(go)


@pytest.fixture
def bracket_config(tmp_path, monkeypatch):
    from jumpdeck.tui.screens.servers import ServersScreen

    monkeypatch.setattr(ServersScreen, "AUTO_CHECK", False)
    config = load_config(cli={"home": str(tmp_path / "home"), "runner": "mock"})
    asyncio.run(prepare_store(config, extra=_seed))
    return config


async def test_provision_screen_and_header_show_brackets_as_written(bracket_config) -> None:
    from textual.widgets import Input

    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.widgets.run_log import RunLog

    app = JumpdeckApp(bracket_config, user="admin", start_mode="provision")
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await booted(pilot)
        screen = app.screen
        app.set_notice(BRACKETED)
        await pilot.pause()
        assert f"Notice: {BRACKETED}" in shown(screen.query_one("#hdr-notice"))
        history = shown(screen.query_one("#pv-runs"))
        assert history.count(SHORT) == 2 and USER in history  # name and IPs, user
        await pilot.press("enter")
        log = screen.query_one(RunLog)
        await until(pilot, lambda: log.line_count == 2 and "[web-1]" in shown(screen.query_one("#pv-hosts")))
        title = shown(screen.query_one("#pv-title"))
        assert f"· {SHORT} ·" in title and BRACKETED in title and "FAILED" in title
        assert "[web-1] failed" in shown(screen.query_one("#pv-hosts"))
        drawn = shown(log)
        assert BRACKETED in drawn and f"::: run is FAILED: {BRACKETED}" in drawn
        # What is typed to find shows as typed, in the log state and in the toast.
        await pilot.press("slash")
        screen.query_one("#pv-prompt", Input).value = "[red]nowhere[/]"
        await pilot.press("enter")
        await until(pilot, lambda: "'[red]nowhere[/]' is not in the log." in toasts(app))
        assert "find '[red]nowhere[/]'" in shown(screen.query_one("#pv-logstate"))
        # A run that has ended cannot be cancelled: the toast says so, naming it.
        await pilot.press("c")
        await until(pilot, lambda: f"({SHORT}) has already ended" in toasts(app))  # FAILED: nothing to cancel
        app.notify(BRACKETED, title=SHORT)
        await until(pilot, lambda: BRACKETED in toasts(app))


async def test_servers_cards_table_and_detail_show_brackets_as_written(bracket_config) -> None:
    from jumpdeck.core.servers.checks import CheckResult, Status
    from jumpdeck.core.servers.drivers import HINTS, ErrorKind
    from jumpdeck.core.servers.registry import DbType
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.widgets.server_grid import ServerGrid

    app = JumpdeckApp(bracket_config, user="admin", start_mode="servers")
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await booted(pilot)
        screen = app.screen
        (server_id,) = screen.fleet.rows
        screen.apply_results([CheckResult(server_id, SHORT, DbType.POSTGRESQL, "[web-1]", 1, Status.OFFLINE, 3.0, None,
                                          ErrorKind.REFUSED, BRACKETED, HINTS[ErrorKind.REFUSED], checked_at=FIXED)])
        await pilot.pause()
        grid = screen.query_one(ServerGrid)
        cards = shown(grid)
        assert SHORT in cards and "[web-1]:1" in cards
        detail = shown(screen.query_one("#servers-detail"))
        assert f"{SHORT} · PostgreSQL [web-1]:1" in detail and BRACKETED in detail
        await pilot.press("v")
        await pilot.pause()
        table = shown(grid)
        assert SHORT in table and "[web-1]:1" in table and "fatal: [web-1]" in table
        # The delete dialog names the server as written.
        await pilot.press("d")
        await pilot.pause(0.2)
        assert f"Delete '{SHORT}' (PostgreSQL [web-1]:1)?" in "\n".join(shown(s) for s in app.screen.query("Static"))


async def test_activity_shows_details_as_written(bracket_config) -> None:
    from textual.widgets import DataTable, Select

    from jumpdeck.tui.app import JumpdeckApp

    app = JumpdeckApp(bracket_config, user="admin", start_mode="activity")
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await booted(pilot)
        await until(pilot, lambda: app.screen.query_one(DataTable).row_count >= 1)
        await pilot.pause()
        table = shown(app.screen.query_one(DataTable))
        assert BRACKETED in table and USER in table
        # The actor filter offers the user by name, as written.
        actors = app.screen.query_one("#f-actor", Select)
        await until(pilot, lambda: USER in [value for _, value in actors._options])
        actors.value = USER
        await pilot.pause()
        assert USER in "\n".join(shown(part) for part in actors.query("*"))
        # Enter shows the entry in full, in a dialog.
        app.screen.query_one(DataTable).focus()
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert BRACKETED in "\n".join(shown(s) for s in app.screen.query("Static"))


async def test_settings_errors_and_the_saved_notice_show_as_written(bracket_config) -> None:
    from textual.widgets import Input

    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.settings_dialog import SettingsDialog

    app = JumpdeckApp(bracket_config, user="admin", start_mode="activity")
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await booted(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SettingsDialog))
        app.screen.query_one("#s-system_notice", Input).value = BRACKETED
        app.screen.query_one("#s-backup_retention_live", Input).value = "[b]7[/b]"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert "[b]7[/b]" in shown(app.screen.query_one(".error"))
        app.screen.query_one("#s-backup_retention_live", Input).value = "14"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, SettingsDialog))
        await pilot.pause()
        assert f"Notice: {BRACKETED}" in shown(app.screen.query_one("#hdr-notice"))
