"""The Maintenance screen through Pilot (real core underneath), and its snapshots."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import namedtuple

import pytest

from jumpdeck.core.config import load_config
from jumpdeck.core.maintenance import backup
from jumpdeck.core.production import schema
from tests.maintenance.conftest import fill
from tests.tui.conftest import booted, prepare_store
from jumpdeck.tui.app import JumpdeckApp

SIZES = [(120, 40), (80, 24), (60, 20)]


@pytest.fixture
def mt_config(tmp_path):
    config = load_config(cli={"home": str(tmp_path / "home")})
    asyncio.run(prepare_store(config))
    fill(schema.live_db_path(config), {2025: 300, 2026: 200})
    return config


def results(app) -> str:
    return "\n".join(app.screen.query_one("#mt-results").lines)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause(0.1)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


async def test_backup_now_lists_the_verified_backup(mt_config):
    app = JumpdeckApp(mt_config, user="admin", start_mode="maintenance")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert "verified" in results(app)
        table = app.screen.query_one("#mt-backups")
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]  # cells are Text
        assert any(n.startswith("production_") for n in names) and any(n.startswith("store_") for n in names)
        assert all(str(table.get_row_at(i)[4]) == "yes" for i in range(table.row_count))


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_every_backup_shows_on_a_small_terminal_with_a_long_notice(mt_config, size):
    app = JumpdeckApp(mt_config, user="admin", start_mode="maintenance")
    async with app.run_test(size=size) as pilot:
        await booted(pilot)
        await app.ctx.settings.set(app.ctx.actor, {"system_notice": "Line one of the notice, long enough to wrap at sixty "
                                                             "columns and again at eighty columns of the terminal."})
        await pilot.press("b")  # a live and a store backup
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        table = app.screen.query_one("#mt-backups")
        assert table.row_count == 4
        # The header row and every backup fit: each can be selected for a restore.
        assert table.size.height >= table.row_count + 1, table.size


async def test_restore_needs_the_file_name_typed(mt_config):
    app = JumpdeckApp(mt_config, user="admin", start_mode="maintenance")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("b")
        await settle(pilot)
        live = schema.live_db_path(mt_config)
        conn = sqlite3.connect(live)
        conn.execute("DELETE FROM production_records")
        conn.commit()
        conn.close()
        screen = app.screen
        table = screen.query_one("#mt-backups")
        row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[0]).startswith("production_"))
        table.move_cursor(row=row)
        name = str(table.get_row_at(row)[0])
        await pilot.press("r")
        await pilot.pause(0.1)
        dialog = app.screen
        assert type(dialog).__name__ == "RestoreDialog"
        await pilot.press(*"production_wrong.db")
        assert dialog.query_one("#confirm").disabled
        dialog.query_one("Input").value = ""
        await pilot.press(*name)
        assert not dialog.query_one("#confirm").disabled
        await pilot.press("enter")
        await settle(pilot)
        assert "restored from " + name in results(app)
        conn = sqlite3.connect(live)
        assert conn.execute("SELECT COUNT(*) FROM production_records").fetchone()[0] == 500
        conn.close()
        assert list(live.parent.glob("production_analysis.db.broken-*"))


async def test_watcher_once_heals_and_analyze_forces(mt_config):
    live = schema.live_db_path(mt_config)
    conn = sqlite3.connect(live)
    conn.execute("DROP INDEX idx_item_date")
    conn.commit()
    conn.close()
    app = JumpdeckApp(mt_config, user="admin", start_mode="maintenance")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert "healed live: idx_item_date" in results(app)
        log = "\n".join(app.screen.query_one("#mt-watcher-log").lines)
        assert "Healed 1 index(es)" in log and "Creating missing index idx_item_date" in log
        await pilot.press("a")
        await settle(pilot)
        assert results(app).count("ANALYZE OK on live") == 2


async def test_integrity_and_checkpoint_show_result_lines(mt_config):
    app = JumpdeckApp(mt_config, user="admin", start_mode="maintenance")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert "integrity: production_analysis.db: ok, 500 rows" in results(app)
        await pilot.press("k")
        await settle(pilot)
        assert "checkpoint: production_analysis.db: WAL checkpoint complete" in results(app)


async def test_daemon_starts_and_stops(mt_config):
    app = JumpdeckApp(mt_config, user="admin", start_mode="maintenance")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("d")
        for _ in range(50):
            await pilot.pause(0.05)
            if "watcher: ANALYZE OK" in results(app):
                break
        assert app.screen.running_work() == ["the DB watcher daemon"]
        assert "watcher: daemon started" in results(app)
        await pilot.press("d")
        await settle(pilot)
        assert "watcher: daemon stopped" in results(app)
        assert app.screen.running_work() == []


async def test_rollover_wizard_ticks_the_checklist(mt_config):
    app = JumpdeckApp(mt_config, user="admin", start_mode="maintenance")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("o")
        await pilot.pause(0.1)
        wizard = app.screen
        year = wizard.query_one("#rw-year")
        year.value = "2026"
        await pilot.click("#rw-plan-button")
        await settle(pilot)
        assert "300 rows of 2025 -> a new archive_2025.db" in str(wizard.query_one("#rw-plan").render())
        await pilot.click("#rw-run")
        await settle(pilot)
        checklist = str(wizard.query_one("#rw-checklist").render())
        assert "[ ]" not in checklist and checklist.count("[x]") == 7
        assert "500 rows before, 500 after" in str(wizard.query_one("#rw-result").render())
        await pilot.press("escape")
        await settle(pilot)
        assert schema.archive_years(mt_config) == [2025]


@pytest.mark.parametrize("typed", ["99999", "1812"])
async def test_the_rollover_wizard_refuses_a_year_that_is_a_typo(mt_config, typed):
    app = JumpdeckApp(mt_config, user="admin", start_mode="maintenance")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("o")
        await pilot.pause(0.1)
        wizard = app.screen
        wizard.query_one("#rw-year").value = typed
        await pilot.click("#rw-plan-button")
        await settle(pilot)
        plan = str(wizard.query_one("#rw-plan").render())
        assert f"The rollover year must be from 1970 to" in plan and typed in plan, plan
        assert "rows of the live DB" not in plan
        await pilot.click("#rw-run")
        await settle(pilot)
        assert schema.archive_years(mt_config) == []


async def test_a_viewer_sees_keys_disabled_and_nothing_runs(mt_config):
    from jumpdeck.core.context import open_context
    from jumpdeck.core.identity import Role

    ctx = await open_context(mt_config, user="admin")
    try:
        await ctx.users.add(ctx.actor, "vera", Role.VIEWER)
    finally:
        ctx.close()
    app = JumpdeckApp(mt_config, user="vera", start_mode="maintenance")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        screen = app.screen
        assert screen.check_action("backup", ()) is None
        assert screen.check_action("restore", ()) is None
        assert "Only an admin or an operator can run backups" in screen.disabled_reason("backup")
        await pilot.press("b")
        await settle(pilot)
        assert backup.list_backups(mt_config) == []


FakeUsage = namedtuple("FakeUsage", "total used free")


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24", "60x20"])
def test_maintenance_snapshot(snap_compare, mt_config, monkeypatch, size):
    # Disk free is the only figure that moves by itself: pin it.
    monkeypatch.setattr("jumpdeck.core.maintenance.health.shutil.disk_usage", lambda _p: FakeUsage(100e9, 58e9, 42e9))

    async def run_before(pilot) -> None:
        await booted(pilot)
        await settle(pilot)

    assert snap_compare(JumpdeckApp(mt_config, user="admin", start_mode="maintenance"), terminal_size=size, run_before=run_before)
