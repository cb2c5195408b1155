"""The Charts screen driven with Textual's Pilot, and snapshots of each chart type."""

from __future__ import annotations

import csv
import sqlite3
import time
from dataclasses import replace
from datetime import date

import pytest

import jumpdeck.tui.screens.charts as charts_module
from jumpdeck.core.production.generate import generate
from jumpdeck.core.production.schema import live_db_path
from jumpdeck.tui.app import JumpdeckApp
from jumpdeck.tui.screens.charts import ChartsScreen, ItemSuggester, resolve_items

from .conftest import direct_sum


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch):
    monkeypatch.setattr(charts_module, "today", lambda: date(2026, 6, 15))


@pytest.fixture
def chart_config(config):
    generate(config, rows=30_000, years=(2025, 2026), seed=9)
    return config


def _app(config, **changes):
    return JumpdeckApp(replace(config, **changes) if changes else config, user="admin", start_mode="charts")


async def _settled(pilot, after: int = 0) -> ChartsScreen:
    """Wait until the screen finished more than `after` loads and nothing is loading
    (a generous deadline: the shared CI machine can be very busy; no timing is asserted)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        await pilot.pause(0.02)
        screen = pilot.app.screen
        if (isinstance(screen, ChartsScreen) and screen.loads_done > after
                and not screen.query_one("#charts-body").loading and not screen.chart_building
                and not any(w.group == "charts" and w.is_running for w in screen.workers)):
            await pilot.pause(0.05)
            return screen
    raise AssertionError("the Charts screen never finished loading")


def _screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_monthly_by_default_then_every_kind_by_key(chart_config):
    app = _app(chart_config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        assert screen.kind == "monthly" and len(screen.result) == 12
        expected = direct_sum([live_db_path(chart_config)], "2026-01-01", "2026-12-31", group="month")
        assert {m.month: m.quantity for m in screen.result} == expected
        for key, kind, type_name in (("d", "daily", "DayTotal"), ("o", "top", "TopItem"), ("i", "trends", "ItemTrend")):
            done = screen.loads_done
            await pilot.press(key)
            await _settled(pilot, done)
            assert screen.kind == kind and type(screen.result[0]).__name__ == type_name
        assert screen.query_one("#charts-items").display  # the picker shows for trends only


async def test_table_toggle_and_csv_export(chart_config):
    app = _app(chart_config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        await pilot.press("t")
        table = screen.query_one("#charts-table")
        assert table.display and not screen.query_one("#charts-plot").display
        assert table.row_count == 12
        await pilot.press("x")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await pilot.pause(0.02)
            exports = list((chart_config.home / "exports").glob("monthly-2026-01-01-2026-12-31-*.csv"))
            if exports:
                break
        rows = list(csv.DictReader(exports[0].open()))
        assert {r["month"]: int(r["quantity"]) for r in rows} == {m.month: m.quantity for m in screen.result}
        await pilot.press("t")
        assert screen.query_one("#charts-plot").display


async def test_presets_and_custom_range(chart_config):
    app = _app(chart_config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        done = screen.loads_done
        await pilot.press("p")  # this year -> last 12 months
        await _settled(pilot, done)
        assert screen.result_range.start == date(2025, 7, 1) and screen.result_range.end == date(2026, 6, 15)
        assert [m.month for m in screen.result][0] == "2025-07"  # across the archive cutoff
        done = screen.loads_done
        screen.query_one("#charts-from").value = "2025-03-01"
        screen.query_one("#charts-to").value = "2025-05-31"
        screen.query_one("#charts-from").focus()
        await pilot.press("enter")
        await _settled(pilot, done)
        assert screen.preset == "custom" and [m.month for m in screen.result] == ["2025-03", "2025-04", "2025-05"]


async def test_item_picker_completes_code_and_name(chart_config):
    app = _app(chart_config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        items = screen.suggester.items
        assert await screen.suggester.get_suggestion("md00") == "md0001"
        assert await screen.suggester.get_suggestion("bw0001, toric 02") == "bw0001, toric 02 -1.50"
        codes, unknown = resolve_items("Toric 01 -1.00, md0002, nope", items)
        assert codes == ["TR0001", "MD0002"] and unknown == ["nope"]
        await pilot.press("slash")
        done = screen.loads_done
        await pilot.press(*"toric 01 -1.00, bw0003", "enter")
        await _settled(pilot, done)
        assert [t.item.code for t in screen.result] == ["TR0001", "BW0003"]


async def test_missing_database_is_shown_in_place(config):
    app = _app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        message = screen.query_one("#charts-message")
        assert message.display and not screen.query_one("#charts-plot").display
        assert "demo-data" in str(message.render())


async def test_locked_database_is_shown_with_the_remedy(chart_config, monkeypatch):
    from jumpdeck.core.production import source

    monkeypatch.setattr(source, "LOCK_RETRIES", 1)
    writer = sqlite3.connect(live_db_path(chart_config), isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        app = _app(chart_config)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _settled(pilot)
            text = str(screen.query_one("#charts-message").render())
            assert "locked" in text and "checkpoint" in text
    finally:
        writer.execute("ROLLBACK")
        writer.close()


async def test_ascii_marker_draws_no_braille(chart_config):
    app = _app(chart_config, chart_marker="ascii")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        done = screen.loads_done
        await pilot.press("i")
        await _settled(pilot, done)
        text = _screen_text(app)
        assert not any("\u2800" <= ch <= "\u28ff" for ch in text)
        assert "█" not in text and "*" in text and "+" in text


async def test_wide_screen_shows_the_numbers_beside_a_chart_that_fills_the_rest(chart_config):
    app = _app(chart_config)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await _settled(pilot)
        side, plot = screen.query_one("#charts-side"), screen.query_one("#charts-plot")
        assert side.display and side.row_count == 12 and not side.can_focus
        assert plot.size.width + side.outer_size.width >= 190 and plot.size.height >= 50
        await pilot.press("t")  # the full table replaces both
        assert not side.display and screen.query_one("#charts-table").display
        await pilot.press("t")
        assert side.display
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.2)
        assert not side.display and plot.size.width >= 110


async def test_wide_screen_keeps_a_table_too_wide_to_stand_beside(chart_config):
    from jumpdeck.tui.screens.charts import SIDE_TABLE_MAX

    app = _app(chart_config)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await _settled(pilot)
        await pilot.press("slash")
        done = screen.loads_done
        codes = [i.code for i in screen.suggester.items[:12]]
        await pilot.press(*", ".join(codes).lower(), "enter")
        await _settled(pilot, done)
        assert [t.item.code for t in screen.result] == codes
        assert not screen.query_one("#charts-side").display  # 12 item columns are wider than SIDE_TABLE_MAX
        assert SIDE_TABLE_MAX < 8 + 12 * 8


def test_suggester_without_items_suggests_nothing():
    import asyncio

    assert asyncio.run(ItemSuggester().get_suggestion("bw")) is None


# ----------------------------------------------------------------- snapshots


def _snap(kind_key: str | None):
    async def run_before(pilot) -> None:
        screen = await _settled(pilot)
        if kind_key == "t":  # the table view: no new load
            await pilot.press(kind_key)
            await pilot.pause(0.1)
        elif kind_key:
            done = screen.loads_done
            await pilot.press(kind_key)
            await _settled(pilot, done)

    return run_before


@pytest.fixture
def no_loading_flash(monkeypatch):
    """Whether a load outlives the indicator's delay depends on the machine's load: keep
    the indicator out of snapshots (its own test is the Pilot one)."""
    monkeypatch.setattr(charts_module, "LOADING_DELAY_S", 60)


@pytest.mark.parametrize("key", [None, "d", "i", "o"], ids=["monthly", "daily", "trends", "top"])
def test_snapshot_120x40(chart_config, snap_compare, key, no_loading_flash):
    assert snap_compare(_app(chart_config), terminal_size=(120, 40), run_before=_snap(key))


@pytest.mark.parametrize("key", [None, "i"], ids=["monthly", "trends"])
def test_snapshot_80x24(chart_config, snap_compare, key, no_loading_flash):
    assert snap_compare(_app(chart_config), terminal_size=(80, 24), run_before=_snap(key))


@pytest.mark.parametrize("key", [None, "d", "i", "o", "t"], ids=["monthly", "daily", "trends", "top", "table"])
def test_snapshot_200x60(chart_config, snap_compare, key, no_loading_flash):
    assert snap_compare(_app(chart_config), terminal_size=(200, 60), run_before=_snap(key))
