"""The Servers screen driven through Pilot: filters and their counts, search, the
dense view, add with test-before-save, the delete guard, test all, the dashboard and
role gating."""

from __future__ import annotations

import pytest

from jumpdeck.core.servers.fleet import LiveState, StatusFilter
from jumpdeck.core.servers.registry import DbType
from tests.tui.conftest import booted
from tests.tui.servers_fixtures import fixed_results, fleet_config, server_ids  # noqa: F401
from jumpdeck.tui.app import JumpdeckApp
from jumpdeck.tui.screens.servers import ServersScreen
from jumpdeck.tui.widgets.server_grid import ServerGrid


def make(config, user: str = "admin") -> JumpdeckApp:
    return JumpdeckApp(config, user=user, start_mode="servers")


async def servers_screen(pilot) -> ServersScreen:
    await booted(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ServersScreen)
    return screen


def visible_names(screen: ServersScreen) -> list[str]:
    return [row.info.name for row in screen.query_one(ServerGrid).rows]


def chip(screen: ServersScreen, chip_id: str) -> str:
    """The label of a filter chip: "type-mysql", "status-online", ..."""
    types, statuses = screen.filter_chips()
    chips = {f"type-{v or 'all'}": label for v, label, _ in types}
    chips.update({f"status-{v}": label for v, label, _ in statuses})
    text = str(screen.query_one("#servers-types").render()) + str(screen.query_one("#servers-statuses").render())
    assert chips[chip_id] in text  # what the screen shows
    return chips[chip_id]


async def test_filters_combine_with_and_and_counts_follow_results(fleet_config) -> None:
    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen = await servers_screen(pilot)
        assert visible_names(screen) == ["erp-mssql", "maria-dev", "ora-fin", "pg-main", "pg-reports"]
        assert chip(screen, "status-unknown") == "○ Unknown 5"
        screen.apply_results(fixed_results(server_ids(screen)))
        await pilot.pause()
        assert chip(screen, "status-online") == "● Online 1"
        assert chip(screen, "status-offline") == "● Offline 3"
        assert chip(screen, "status-unknown") == "○ Unknown 1"
        # Only the types present get a button.
        assert [value for value, _, _ in screen.filter_chips()[0]] == ["", "postgresql", "mysql", "mssql", "oracle"]

        assert str(screen.query_one("#servers-status").render()).startswith("5 servers ·")
        await pilot.press("F", "F")  # status: online -> offline
        assert screen.fleet.status is StatusFilter.OFFLINE
        assert visible_names(screen) == ["erp-mssql", "maria-dev", "ora-fin"]
        assert str(screen.query_one("#servers-status").render()).startswith("3 of 5 servers ·")
        # Click the PostgreSQL chip: " All types 5 " then a space, then " PostgreSQL 2 ".
        await pilot.click("#servers-types", offset=(len(" All types 5 ") + 3, 0))
        await pilot.pause()
        assert screen.fleet.db_type is DbType.POSTGRESQL
        # PostgreSQL AND offline: nothing; the counts now cover PostgreSQL only.
        assert visible_names(screen) == []
        assert screen.query_one("#servers-empty").display
        assert "No server matches the filters" in str(screen.query_one("#servers-empty-text").render())
        assert chip(screen, "status-online") == "● Online 1"
        assert chip(screen, "status-unknown") == "○ Unknown 1"
        await pilot.press("x")
        assert visible_names(screen) == ["erp-mssql", "maria-dev", "ora-fin", "pg-main", "pg-reports"]

        await pilot.press("slash", "p", "r", "o", "d")
        assert visible_names(screen) == ["erp-mssql", "pg-main"]  # tag "prod"
        await pilot.press("enter")
        assert isinstance(pilot.app.focused, ServerGrid)
        await pilot.press("escape")
        assert screen.fleet.search == "" and len(visible_names(screen)) == 5

        await pilot.press("o", "o")  # sort: name -> created -> status
        assert visible_names(screen)[:3] == ["erp-mssql", "maria-dev", "ora-fin"]  # offline first
        await pilot.press("o")  # latency: the online one first
        assert visible_names(screen)[0] == "pg-main"


async def test_dense_view_and_cursor(fleet_config) -> None:
    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen = await servers_screen(pilot)
        grid = screen.query_one(ServerGrid)
        await pilot.press("right")
        assert grid.current.info.name == "maria-dev"
        await pilot.press("v")
        assert grid.dense and grid.virtual_size.height == 6  # header + 5 lines
        await pilot.press("down")
        assert grid.current.info.name == "ora-fin"
        assert "ora-fin" in str(screen.query_one("#servers-detail").render())
        await pilot.press("v")
        assert not grid.dense


async def test_add_with_test_before_save(fleet_config, pg_url) -> None:
    from textual.widgets import Input

    from jumpdeck.tui.screens.server_form import ServerForm

    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen = await servers_screen(pilot)
        await pilot.press("a")
        form = pilot.app.screen
        assert isinstance(form, ServerForm)
        # Picking MySQL moves the defaults, then PostgreSQL moves them back.
        form.query_one("#f-type").value = "mysql"
        await pilot.pause()
        assert (form.query_one("#f-port", Input).value, form.query_one("#f-db", Input).value) == ("3306", "")
        form.query_one("#f-type").value = "postgresql"
        await pilot.pause()
        assert (form.query_one("#f-port", Input).value, form.query_one("#f-db", Input).value) == ("5432", "postgres")
        for selector, value in (("#f-name", "pg-new"), ("#f-host", "127.0.0.1"), ("#f-user", "postgres"),
                                ("#f-password", "trust"), ("#f-tags", "dev, new")):
            form.query_one(selector, Input).value = value
        await pilot.press("ctrl+t")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "Connected in" in str(form.query_one("#f-test").render())
        # A clash is shown in the dialog, on the name.
        form.query_one("#f-name", Input).value = "PG-MAIN"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "already exists" in str(form.query_one("#f-error").render())
        assert form.query_one("#f-name").has_class("-error")
        form.query_one("#f-name", Input).value = "pg-new"
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.screen is screen
        assert "pg-new" in visible_names(screen)
        info = next(r.info for r in screen.fleet.rows.values() if r.info.name == "pg-new")
        assert info.tags == ("dev", "new") and info.db_type is DbType.POSTGRESQL


async def test_a_failing_test_shows_the_kind_and_the_hint(fleet_config) -> None:
    from textual.widgets import Input

    from tests.core.servers.conftest import closed_port

    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        await servers_screen(pilot)
        await pilot.press("a")
        form = pilot.app.screen
        for selector, value in (("#f-name", "x"), ("#f-host", "127.0.0.1"), ("#f-port", str(closed_port())),
                                ("#f-user", "u"), ("#f-password", "p")):
            form.query_one(selector, Input).value = value
        await pilot.press("ctrl+t")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        text = str(form.query_one("#f-test").render())
        assert "Connection refused" in text and "check the port" in text
        form.query_one("#f-port", Input).value = "99999"
        await pilot.press("ctrl+t")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "out of range" in str(form.query_one("#f-error").render())
        assert form.query_one("#f-port").has_class("-error")


async def test_delete_is_guarded_and_confirmed(fleet_config) -> None:
    from jumpdeck.tui.screens.confirm import ConfirmScreen

    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen = await servers_screen(pilot)
        grid = screen.query_one(ServerGrid)
        assert grid.current.info.name == "erp-mssql"
        await pilot.press("d")  # it holds two corp DBs: refused before any dialog
        assert not isinstance(pilot.app.screen, ConfirmScreen)
        assert any("has 2 corp DBs. Detach or drop them first" in n.message for n in pilot.app._notifications)
        await pilot.press("right")
        assert grid.current.info.name == "maria-dev"
        await pilot.press("d")
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmScreen) and "maria-dev" in confirm.message
        await pilot.click("#confirm")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "maria-dev" not in visible_names(screen)


async def test_test_all_runs_in_sequence_and_summarises(fleet_config, pg_url) -> None:
    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen = await servers_screen(pilot)
        seen_progress = []
        original = screen._land

        def spy(result) -> None:
            seen_progress.append(screen.round_progress)
            original(result)

        screen._land = spy
        await pilot.press("T")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert seen_progress == [(i, 5) for i in range(1, 6)]
        states = {row.info.name: row.state for row in screen.fleet.rows.values()}
        assert states["pg-main"] is LiveState.ONLINE and states["erp-mssql"] is LiveState.OFFLINE
        summaries = [n.message for n in pilot.app._notifications if n.title == "Test all"]
        assert summaries == ["1 online / 4 offline"]


@pytest.mark.needs("odbc")  # the MSSQL server's databases pane says "refused" only through pyodbc
async def test_enter_opens_the_dashboard_and_sets_the_banner(fleet_config) -> None:
    from textual.widgets import DataTable

    from jumpdeck.tui.screens.server_dashboard import ServerDashboardScreen

    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen = await servers_screen(pilot)
        assert not screen.query_one("#servers-banner").display
        await pilot.press("enter")
        dashboard = pilot.app.screen
        assert isinstance(dashboard, ServerDashboardScreen) and dashboard.info.name == "erp-mssql"
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        corps = dashboard.query_one("#dash-corps", DataTable)
        assert corps.row_count == 2
        assert "Corp DBs: 2 · ⚠ 1 warning · ✖ 0 error" in str(dashboard.query_one("#dash-corps-title").render())
        # Nothing listens there: the databases pane says why, with the remedy.
        assert "refused" in str(dashboard.query_one("#dash-dbs-note").render()).lower()
        # MSSQL: creating databases is not offered, with the reason.
        assert dashboard.check_action("create_db", ()) is None
        assert "not supported yet" in dashboard.disabled_reason("create_db")
        await pilot.press("escape")
        assert pilot.app.screen is screen
        banner = screen.query_one("#servers-banner")
        assert banner.display and "Selected server: erp-mssql" in str(screen.query_one("#servers-banner-text").render())


@pytest.mark.parametrize("user,allowed", [("kim.operator", False), ("vera.viewer", False), ("admin", True)])
async def test_role_gating_shows_actions_disabled_with_the_reason(fleet_config, user, allowed) -> None:
    from jumpdeck.tui.screens.help import HelpScreen
    from jumpdeck.tui.screens.server_form import ServerForm

    async with make(fleet_config, user=user).run_test(size=(120, 40)) as pilot:
        screen = await servers_screen(pilot)
        for action in ("add", "edit", "delete"):
            assert (screen.check_action(action, ()) is True) is allowed
        assert screen.check_action("test", ()) is True  # every role may test
        await pilot.press("a")
        assert isinstance(pilot.app.screen, ServerForm) is allowed
        if allowed:
            return
        assert "Only an admin can add, edit or delete servers" in screen.disabled_reason("add")
        await pilot.press("question_mark")
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        notes = {row[1]: row[3] for row in help_screen.rows}
        assert "Only an admin" in notes["Add"] and "Only an admin" in notes["Delete"]


async def test_the_command_palette_opens_a_server(fleet_config) -> None:
    from jumpdeck.tui.screens.server_dashboard import ServerDashboardScreen

    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen = await servers_screen(pilot)
        await pilot.press("F")  # online only: pg-reports is hidden
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Server pg-reports")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(pilot.app.screen, ServerDashboardScreen)
        assert pilot.app.screen.info.name == "pg-reports"
        assert screen.fleet.status is StatusFilter.ALL  # the filter that hid it was reset


@pytest.mark.parametrize("typed,opens", [("Add", "ServerForm"), ("Users: Add", "UserForm")])
async def test_the_palette_runs_any_screens_action_by_name(fleet_config, typed, opens) -> None:
    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        await servers_screen(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*typed)
        await pilot.pause(0.5)
        await pilot.press("enter")
        for _ in range(20):
            await pilot.pause(0.1)
            if type(pilot.app.screen).__name__ == opens:
                break
        await pilot.app.workers.wait_for_complete()
        assert type(pilot.app.screen).__name__ == opens, pilot.app.screen


async def test_the_dashboard_detaches_a_corp_after_naming_it(fleet_config) -> None:
    from textual.widgets import DataTable

    from jumpdeck.tui.screens.confirm import ConfirmScreen
    from jumpdeck.tui.screens.server_dashboard import ServerDashboardScreen

    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        await servers_screen(pilot)
        await pilot.press("enter")  # erp-mssql: two corp DBs
        dashboard = pilot.app.screen
        assert isinstance(dashboard, ServerDashboardScreen)
        await pilot.pause(0.3)
        corps = dashboard.query_one("#dash-corps", DataTable)
        assert corps.row_count == 2
        first = dashboard.corps[0]
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmScreen)
        text = " ".join(str(w.render()) for w in pilot.app.screen.query("Static"))
        assert f"corp {first.code}" in text and first.db_name in text and "erp-mssql" in text
        await pilot.press("y")
        for _ in range(20):
            await pilot.pause(0.1)
            if corps.row_count == 1:
                break
        assert corps.row_count == 1 and first.code not in [c.code for c in dashboard.corps]
        # Dropping needs the server to run DDL for jumpdeck: not on MSSQL, and it says so.
        assert dashboard.check_action("drop_corp", ()) is None
        assert "not supported yet" in dashboard.disabled_reason("drop_corp")
