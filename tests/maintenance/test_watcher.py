import asyncio
import sqlite3
import time

import pytest

from jumpdeck.core.errors import Conflict
from jumpdeck.core.maintenance import locks, watcher
from jumpdeck.core.production import schema


def index_names(path):
    conn = sqlite3.connect(path)
    try:
        return {r[1] for r in conn.execute("PRAGMA index_list('production_records')")}
    finally:
        conn.close()


def log_text(config):
    return watcher.log_path(config).read_text()


async def test_heals_a_dropped_index_and_logs_healed(ctx, live):
    watcher.run_once_sync(ctx.config)
    conn = sqlite3.connect(live)
    conn.execute("DROP INDEX idx_item_code")
    conn.commit()
    conn.close()
    report = await watcher.run_once(ctx)
    assert report.healed == {"live": ["idx_item_code"]}
    assert "idx_item_code" in index_names(live)
    text = log_text(ctx.config)
    assert "Creating missing index idx_item_code on production_analysis.db" in text
    assert "Healed 1 index(es) on production_analysis.db: idx_item_code" in text
    assert "live" in report.changed


async def test_heals_archives_too(ctx, live):
    from tests.maintenance.conftest import fill

    arch = schema.archive_db_path(ctx.config, 2024)
    fill(arch, {2024: 10})
    conn = sqlite3.connect(arch)
    conn.execute("DROP INDEX idx_item_date")
    conn.commit()
    conn.close()
    report = watcher.run_once_sync(ctx.config)
    assert report.healed == {"archive 2024": ["idx_item_date"]}
    assert set(schema.INDEXES) <= index_names(arch)


async def test_analyze_at_most_every_24h_or_forced(ctx, live):
    t0 = time.time()
    first = watcher.run_once_sync(ctx.config, now=t0)
    assert first.analyzed == ["live"]
    assert watcher.run_once_sync(ctx.config, now=t0 + 3600).analyzed == []
    assert watcher.run_once_sync(ctx.config, now=t0 + 23 * 3600).analyzed == []
    assert watcher.run_once_sync(ctx.config, now=t0 + 23 * 3600, force_analyze=True).analyzed == ["live"]
    # Forcing resets the clock: 24 h counts from the forced run.
    assert watcher.run_once_sync(ctx.config, now=t0 + 25 * 3600).analyzed == []
    assert watcher.run_once_sync(ctx.config, now=t0 + 47 * 3600 + 1).analyzed == ["live"]
    assert log_text(ctx.config).count("ANALYZE OK") == 3
    state = watcher.read_state(ctx.config)
    assert state["last_analyze_ts"] == t0 + 47 * 3600 + 1
    assert {"live_mtime", "live_size", "last_analyze_ts"} <= set(state)


async def test_seed_recipe_last_analyze_zero_forces_next_cycle(ctx, live):
    watcher.run_once_sync(ctx.config)
    assert watcher.run_once_sync(ctx.config).analyzed == []
    watcher.request_analyze(ctx.config)
    assert watcher.run_once_sync(ctx.config).analyzed == ["live"]


async def test_nothing_changed_means_no_work(ctx, live):
    watcher.run_once_sync(ctx.config)
    report = watcher.run_once_sync(ctx.config)
    assert report.changed == [] and not report.did_work and report.lines == []


async def test_checkpoints_a_wal_past_the_limit(ctx, live):
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("UPDATE production_records SET good_quantity = good_quantity + 1")
    conn.commit()
    wal = live.with_name(live.name + "-wal")
    assert wal.stat().st_size > 0
    report = watcher.run_once_sync(ctx.config, wal_limit_bytes=1024)
    assert report.checkpointed == ["live"]
    assert wal.stat().st_size == 0  # TRUNCATE, while our connection still holds the WAL open
    conn.close()
    assert "WAL checkpoint on production_analysis.db" in log_text(ctx.config)


async def test_two_watchers_never_run_together(ctx, live):
    held = locks.acquire(ctx.config, "watcher")
    try:
        with pytest.raises(Conflict, match="the DB watcher is running"):
            await watcher.run_once(ctx)
    finally:
        held.release()
    await watcher.run_once(ctx)


async def test_daemon_repeats_until_stopped_and_holds_the_lock(ctx, live):
    stop = asyncio.Event()
    reports = []
    async for report in watcher.run_daemon(ctx, 0.05, stop=stop):
        reports.append(report)
        assert locks.holder(ctx.config, "watcher") is not None
        if len(reports) == 3:
            stop.set()
    assert len(reports) == 3
    assert locks.holder(ctx.config, "watcher") is None


async def test_changed_data_refreshes_the_charts_rollups(ctx, live):
    from jumpdeck.core.production import rollup

    watcher.run_once_sync(ctx.config)
    assert rollup.rollup_path(ctx.config).exists()
    assert "Rollups refreshed" in log_text(ctx.config)
