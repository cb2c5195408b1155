import sqlite3

import pytest

from jumpdeck.core.errors import PermissionDenied
from jumpdeck.core.maintenance import backup, rollover
from jumpdeck.core.maintenance.health import check_health
from jumpdeck.core.maintenance.sqlite_files import check
from jumpdeck.core.production import schema
from tests.maintenance.conftest import all_rows, fill


def rows_in(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, production_date, lot_number FROM production_records").fetchall()
    finally:
        conn.close()


async def run(ctx, year, **kw):
    return [e async for e in rollover.rollover(ctx, year, **kw)]


def year_count(path, year):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM production_records WHERE production_date >= ? AND production_date < ?",
                            (f"{year}-01-01", f"{year + 1}-01-01")).fetchone()[0]
    finally:
        conn.close()


async def test_rollover_moves_old_rows_and_reconciles(ctx, live):
    before = all_rows(ctx.config)
    events = await run(ctx, 2026)
    result = events[-1]
    assert isinstance(result, rollover.RolloverResult)
    assert result.total_before == result.total_after == 500
    archive = schema.archive_db_path(ctx.config, 2025)
    assert year_count(archive, 2025) == 300 and year_count(archive, 2026) == 0
    assert year_count(live, 2026) == 200 and year_count(live, 2025) == 0
    assert all_rows(ctx.config) == before
    for path in (live, archive):
        assert check(path, "integrity_check") == "ok"
        conn = sqlite3.connect(path)
        assert set(schema.INDEXES) <= {r[1] for r in conn.execute("PRAGMA index_list('production_records')")}
        conn.close()
    assert (await ctx.settings.get()).get("archive_cutoff_year") == 2026
    assert [e.name for e in events if isinstance(e, rollover.RolloverStep) and e.status == "done"] == list(rollover.STEPS)
    # Most rows leave and nobody has the live DB open: the old live file became the archive.
    assert any("old live DB" in e.detail for e in events if isinstance(e, rollover.RolloverStep) and e.name == "archive")
    assert not [p for p in ctx.config.database_dir.glob(".*rollover*") if not p.name.endswith(".lock")]
    assert backup.last_good_backup(ctx.config, "live") is not None  # the final backup
    assert not rollover.journal_path(ctx.config).exists()
    page = await ctx.activity.page(ctx.actor)
    assert any(e.action == "ARCHIVE_ROLLOVER" and e.target_id == "2026" for e in page.entries)


async def test_late_rows_append_to_an_existing_archive(ctx, live):
    await run(ctx, 2026)
    # Late entries for 2025 land in the live DB after the rollover; a second run appends them.
    conn = sqlite3.connect(live)
    conn.execute("INSERT INTO production_records VALUES (9001, '2025-12-31', 'LATE', 'BW0001', 'late', 5)")
    conn.commit()
    conn.close()
    plan = await rollover.dry_run(ctx, 2026)
    assert plan.moves == {2025: 1} and plan.archive_rows == {2025: 300}
    await run(ctx, 2026)
    assert year_count(schema.archive_db_path(ctx.config, 2025), 2025) == 301
    assert len(all_rows(ctx.config)) == 501


async def test_dry_run_changes_nothing(ctx, live):
    before = live.read_bytes()
    plan = await rollover.dry_run(ctx, 2026)
    assert plan.moves == {2025: 300} and plan.keep_rows == 200 and plan.total_before == 500
    assert "300 rows of 2025 -> a new archive_2025.db" in "\n".join(plan.lines())
    assert live.read_bytes() == before
    assert schema.archive_years(ctx.config) == []


@pytest.mark.parametrize("path", ["split", "copy"])
@pytest.mark.parametrize("step", [*(s for s in rollover.STEPS if s != "cleanup"), "swap"])
async def test_injected_failure_leaves_every_row_and_a_rerun_finishes(ctx, live, step, path, monkeypatch):
    if path == "copy":
        monkeypatch.setattr(rollover, "split_year", lambda config, plan: None)
    fill(schema.archive_db_path(ctx.config, 2024), {2024: 40}, start_id=10_000)
    before = all_rows(ctx.config)
    with pytest.raises(Exception):
        await run(ctx, 2026, fail_after=step)
    after = all_rows(ctx.config)
    if step == "swap" and path == "split":
        # The old live DB has left its name and waits, whole, under the scratch name the
        # journal records, until the rerun makes it archive_2025.db.
        scratch = ctx.config.database_dir / ".archive_2025.db.rollover-tmp"
        after = sorted(after + [r for r in rows_in(scratch) if r[1] < "2026"])
    assert after == before  # every row once: none lost, none doubled
    if step in ("backup", "archive"):
        assert schema.archive_years(ctx.config) == [2024]  # rolled back
        assert not rollover.journal_path(ctx.config).exists()
    else:
        assert rollover.pending_rollover(ctx.config) == 2026  # resumable
    events = await run(ctx, 2026)
    assert isinstance(events[-1], rollover.RolloverResult)
    assert all_rows(ctx.config) == before
    assert year_count(live, 2025) == 0 and year_count(schema.archive_db_path(ctx.config, 2025), 2025) == 300
    assert rollover.pending_rollover(ctx.config) is None


@pytest.mark.parametrize("step", ["backup", "archive", "swap", "trim", "verify"])
async def test_a_crash_between_steps_is_recovered_by_the_next_run(ctx, live, step):
    before = all_rows(ctx.config)
    with pytest.raises(rollover.InjectedCrash):
        await run(ctx, 2026, fail_after=step, crash=True)
    assert rollover.pending_rollover(ctx.config) == 2026
    # After the archive swap and before the trim, rows sit in both files; the next run sorts it out.
    health = await check_health(ctx, min_free_gb=0)
    assert any("interrupted" in r for r in health.reasons)
    events = await run(ctx, 2026)
    assert isinstance(events[-1], rollover.RolloverResult)
    assert all_rows(ctx.config) == before
    assert year_count(live, 2025) == 0


def late_row(live):
    conn = sqlite3.connect(live)
    conn.execute("INSERT INTO production_records VALUES (7777, '2025-07-07', 'LATE', 'BW0001', 'late', 1)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("path", ["split", "copy"])
async def test_writers_adding_old_rows_mid_rollover_abort_before_any_delete(ctx, live, monkeypatch, path):
    if path == "split":  # the old live DB would become archive_2025.db: the row lands after the plan
        original_split = rollover.split_year

        def sneaky_split(config, plan):
            year = original_split(config, plan)
            assert year == 2025
            late_row(live)
            return year

        monkeypatch.setattr(rollover, "split_year", sneaky_split)
    else:  # archive_2025.db built as a copy (as when another process has the live DB open)
        monkeypatch.setattr(rollover, "split_year", lambda config, plan: None)
        original = rollover._build_archive

        def sneaky(config, yr, n, *args):
            how = original(config, yr, n, *args)
            late_row(live)
            return how

        monkeypatch.setattr(rollover, "_build_archive", sneaky)
    with pytest.raises(rollover.RolloverFailed, match="changed while the rollover ran"):
        await run(ctx, 2026)
    assert year_count(live, 2025) == 301
    assert schema.archive_years(ctx.config) == []
    assert not list(ctx.config.database_dir.glob(".archive_*"))


async def test_only_admins_roll_over(ctx, operator, live):
    ctx.actor = operator
    with pytest.raises(PermissionDenied):
        await run(ctx, 2026)
