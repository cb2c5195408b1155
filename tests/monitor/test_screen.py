"""The Monitor screen driven with Textual's Pilot, against the real Prometheus stack."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.widgets import Static
from textual_plotext import PlotextPlot

from jumpdeck.core.config import load_config
from tests.monitor.rows import add_run
from jumpdeck.tui.app import JumpdeckApp
from jumpdeck.tui.screens.monitor import COLUMNS, MonitorScreen
from jumpdeck.tui.screens.monitor_detail import ResourceDetailScreen
from jumpdeck.tui.widgets.line_table import CELL_GAP, LineTable

COL = {key: index for index, (key, _) in enumerate(COLUMNS)}  # column positions by key


async def _seed(config, *steps) -> None:
    from jumpdeck.core.context import open_context

    ctx = await open_context(config, user="admin")
    try:
        for step in steps:
            await step(ctx)
    finally:
        ctx.close()


def _settings(prom, **extra):
    async def step(ctx) -> None:
        values = {"prometheus_instance": "{ip}:" + str(prom.exporter_port), "monitor_warning_pct": 99,
                  "monitor_critical_pct": 100, **extra}
        if prom is not None:
            values["prometheus_url"] = prom.url
        await ctx.settings.set(ctx.actor, values)

    return step


def _vms(count: int, *, live: int = 1):
    """`live` VMs at the real exporter's address, the rest silent (no series)."""
    async def step(ctx) -> None:
        vms = [(f"live-{i:02d}", "127.0.0.1") for i in range(live)]
        vms += [(f"silent-{i:02d}", f"127.2.0.{i + 1}") for i in range(count - live)]
        await add_run(ctx, service="fleet", created_by="admin", vms=vms)

    return step


async def _until(pilot, condition, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _monitor(pilot) -> MonitorScreen:  # noqa: D103
    await _until(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen) and pilot.app.screen.refreshes > 0,
                 "the first snapshot")
    return pilot.app.screen


@pytest.fixture
def config(tmp_path):
    return load_config(cli={"home": str(tmp_path / "home")})


async def test_live_numbers_worst_first(config, prom):
    from jumpdeck.core.monitor.service import SEVERITY, Level

    await _seed(config, _settings(prom), _vms(3, live=1))
    app = JumpdeckApp(config, user="admin", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor(pilot)
        table = screen.query_one("#mon-table", LineTable)
        rows = {str(table.get_row_at(i)[COL['vm']]): table.get_row_at(i) for i in range(table.row_count)}
        assert set(rows) == {"live-00", "silent-00", "silent-01"}
        for column in (COL['cpu'], COL['mem'], COL['disk']):
            value = float(str(rows["live-00"][column]).strip().split()[-1].rstrip("%"))
            assert 0 <= value <= 100
            assert str(rows["silent-00"][column]).strip() == "no data"
        states = [Level(str(table.get_row_at(i)[COL['state']]).replace(" ", "_")) for i in range(table.row_count)]
        assert [SEVERITY[s] for s in states] == sorted((SEVERITY[s] for s in states), reverse=True)
        status = str(screen.query_one("#mon-status", Static).render())
        assert "3 of everyone's resources" in status and prom.url in status
        assert "no data" in str(screen.query_one("#mon-problem", Static).render())


async def _press_refresh(pilot, screen) -> None:
    done = screen.refreshes
    await pilot.press("r")
    await _until(pilot, lambda: screen.refreshes > done, "a refresh")
    await pilot.pause()


async def _scroll_down(pilot, screen, rows: int) -> LineTable:
    table = screen.query_one("#mon-table", LineTable)
    table.focus()
    for _ in range(rows):
        await pilot.press("down")
    await pilot.pause()
    assert table.scroll_y > 0  # the table really scrolled
    return table


async def test_refresh_keeps_cursor_and_scroll(config, prom):
    await _seed(config, _settings(prom), _vms(80, live=0))
    app = JumpdeckApp(config, user="admin", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor(pilot)
        table = await _scroll_down(pilot, screen, 45)
        before = (table.cursor_row, screen.selected_status().key, table.scroll_y)
        for _ in range(2):
            await _press_refresh(pilot, screen)
            assert (table.cursor_row, screen.selected_status().key, table.scroll_y) == before


async def test_resort_keeps_the_selected_resource_on_its_line(config, prom):
    await _seed(config, _settings(prom), _vms(80, live=10))
    app = JumpdeckApp(config, user="admin", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor(pilot)
        table = await _scroll_down(pilot, screen, 45)
        key, line = screen.selected_status().key, table.cursor_row - table.scroll_y
        for warning, critical in ((1, 2), (99, 100)):  # every live VM changes state, rows move
            await app.ctx.settings.set(app.ctx.actor, {"monitor_warning_pct": warning, "monitor_critical_pct": critical})
            await _press_refresh(pilot, screen)
            assert screen.selected_status().key == key
            assert table.cursor_row - table.scroll_y == line


async def test_narrow_terminal_keeps_state_and_values_on_screen(config, prom):
    """At 80 columns the sparklines go, so State, VM, IP and all three values fit without
    scrolling sideways; widening brings the sparklines back on the same resource."""
    await _seed(config, _settings(prom), _vms(12, live=2))
    app = JumpdeckApp(config, user="admin", start_mode="monitor")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _monitor(pilot)
        table = screen.query_one("#mon-table", LineTable)
        right_edge = 1 + sum(table.column_width(key) + CELL_GAP for key, _ in COLUMNS[:COL["disk"] + 1])
        assert right_edge <= table.size.width, "State..Disk must fit in 80 columns"
        live = next(i for i in range(table.row_count) if str(table.get_row_at(i)[COL["vm"]]).startswith("live"))
        assert str(table.get_row_at(live)[COL["cpu"]]).strip().endswith("%")
        assert len(str(table.get_row_at(live)[COL["cpu"]])) <= 7  # the value alone, no sparkline
        table.focus()
        table.move_cursor(live)
        key = screen.selected_status().key
        await pilot.resize_terminal(140, 40)
        await _until(pilot, lambda: len(str(table.get_row_at(table.cursor_row)[COL["cpu"]])) > 7, "sparklines back")
        assert screen.selected_status().key == key


async def test_filter_and_detail(config, prom):
    await _seed(config, _settings(prom), _vms(5, live=1))
    app = JumpdeckApp(config, user="admin", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor(pilot)
        table = screen.query_one("#mon-table", LineTable)
        await pilot.press("slash", *"live")
        await pilot.pause()
        assert table.row_count == 1
        await pilot.press("enter")  # leaves the filter box for the table
        await pilot.press("enter")  # opens the detail
        await _until(pilot, lambda: isinstance(app.screen, ResourceDetailScreen), "the detail panel")
        detail = app.screen
        assert len(detail.query(PlotextPlot)) == 3
        info = str(detail.query_one("#detail-info", Static).render())
        assert "live-00" in info and f"127.0.0.1:{prom.exporter_port}" in info
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is screen, "the table again")
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 5


async def test_unreachable_then_back(config, prom):
    await _seed(config, _settings(prom), _vms(2, live=1))
    app = JumpdeckApp(config, user="admin", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor(pilot)
        problem = screen.query_one("#mon-problem", Static)
        try:
            prom.stop_prometheus()
            done = screen.refreshes
            await pilot.press("r")
            await _until(pilot, lambda: screen.refreshes > done, "a refresh")
            text = str(problem.render())
            assert f"Prometheus unreachable at {prom.url}: connection refused." in text and "r retries now" in text
            assert problem.has_class("-error")
            assert str(screen.query_one("#mon-table", LineTable).get_row_at(0)[COL['state']]) == "unreachable"
        finally:
            prom.start_prometheus()
        await asyncio.to_thread(prom.wait_for_samples, 1)
        done = screen.refreshes
        await pilot.press("r")
        await _until(pilot, lambda: screen.refreshes > done, "a refresh")
        assert not problem.has_class("-error")


async def test_empty_state(config):
    app = JumpdeckApp(config, user="admin", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor(pilot)
        assert "No provisioned resources to watch" in str(screen.query_one("#mon-empty", Static).render())
        assert not screen.query_one("#mon-table", LineTable).display


async def test_operator_cannot_switch_to_everyone(config, prom):
    async def add_operator(ctx) -> None:
        from jumpdeck.core.identity import Role

        await ctx.users.add(ctx.actor, "oper", Role.OPERATOR)

    await _seed(config, _settings(prom), _vms(2), add_operator)
    app = JumpdeckApp(config, user="oper", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor(pilot)
        assert "Nothing to watch in your resources" in str(screen.query_one("#mon-status", Static).render())
        await pilot.press("a")
        await pilot.pause()
        assert screen._everyone is None
        assert screen.disabled_reason("toggle_scope").startswith("Only an admin can see every operator's resources")


def _not_configured_app(tmp_path):
    config = load_config(cli={"home": str(tmp_path / "home")})

    async def rows(ctx) -> None:
        await add_run(ctx, service="web-portal", created_by="admin", vms=[("WKLD-01", "127.0.10.1"), ("WKLD-02", "127.0.10.2")],
                      resources={"alb_ip": "127.0.10.1", "web_url": "http://127.0.10.1/", "db_vip": "127.0.10.2"})

    asyncio.run(_seed(config, rows))
    return JumpdeckApp(config, user="admin", start_mode="monitor")


async def _settled(pilot) -> None:
    await _monitor(pilot)
    await pilot.pause()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_snapshot_not_configured(tmp_path, snap_compare, size):
    assert snap_compare(_not_configured_app(tmp_path), terminal_size=size, run_before=_settled)


async def test_ssh_key_names_the_way_in(config, prom):
    await _seed(config, _settings(prom), _vms(1, live=1))
    app = JumpdeckApp(config, user="admin", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        await _monitor(pilot)
        await pilot.press("s")
        await pilot.pause()
        try:
            import jumpdeck.tui.screens.ssh  # noqa: F401
        except ModuleNotFoundError:
            assert any("ssh root@127.0.0.1" in str(n.message) for n in app._notifications)
        else:
            assert app.current_mode == "ssh"


@pytest.mark.parametrize("spark", [True, False])
@pytest.mark.parametrize("run_id", [None, 7])
def test_row_widths_match_the_cells_drawn(spark, run_id) -> None:  # noqa: ANN001
    """Widths are given to the table without building the cells (those are built for the
    rows on screen): each must be the width of the cell that is drawn later."""
    from rich.cells import cell_len

    from jumpdeck.core.monitor.resources import Resource, RunLinks
    from jumpdeck.core.monitor.service import Level, Reading, ResourceStatus
    from jumpdeck.tui.screens.monitor import _cells, _widths

    resource = Resource("VM-데이터-01", "10.0.0.1", run_id, "" if run_id is None else "web", "alb+web", "kim",
                        "COMPLETED", "assigned", "root", 22, RunLinks())
    readings = (Reading(99.96, Level.CRITICAL, (1.0, None, 50.0)), Reading(None, Level.NO_DATA), Reading(5.0, Level.OK))
    row = ResourceStatus(resource, "10.0.0.1:9100", *readings, Level.CRITICAL)
    drawn = tuple(cell_len(cell if isinstance(cell, str) else cell.plain) for cell in _cells(row, False, spark))
    assert _widths(row, spark) == drawn
