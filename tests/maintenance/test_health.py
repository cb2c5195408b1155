import sqlite3

from jumpdeck.core.maintenance import backup, watcher
from jumpdeck.core.maintenance.health import check_health


async def test_ok_after_a_backup_and_a_watcher_run(ctx, live):
    await backup.backup_all(ctx, {"live"})
    watcher.run_once_sync(ctx.config)
    health = await check_health(ctx, min_free_gb=0)
    assert health.status == "ok", health.reasons
    assert health.database == "connected"
    assert health.db_size_mb > 0
    assert health.last_backup_age_hours is not None and health.last_backup_age_hours < 1
    assert health.archive_db == "none"


async def test_degraded_names_every_reason(ctx, live):
    health = await check_health(ctx, min_free_gb=10**9)
    assert health.status == "degraded"
    text = " | ".join(health.reasons)
    assert "no verified backup" in text
    assert "never run" in text
    assert "disk free" in text


async def test_missing_live_db_is_degraded(ctx):
    health = await check_health(ctx, min_free_gb=0)
    assert not health.ok
    assert any("live DB" in r and "missing" in r for r in health.reasons)


async def test_rollup_state_follows_builds_and_writes(ctx, live):
    from jumpdeck.core.production.rollup import refresh_rollups

    health = await check_health(ctx, min_free_gb=0)
    assert health.rollup.missing == ["production_analysis.db"] and not health.rollup.fresh
    # The first refresh after the writer closed the file skips it: its read-only open brings
    # back the -wal the writer's close removed, and the file's signature moves (core.production).
    refresh_rollups(ctx.config)
    refresh_rollups(ctx.config)
    health = await check_health(ctx, min_free_gb=0)
    assert health.rollup.fresh == ["production_analysis.db"] and not health.rollup.stale
    assert health.rollup.oldest_build_age_hours is not None and "1/1 files fresh" in health.rollup.sentence()
    conn = sqlite3.connect(live)
    conn.execute("INSERT INTO production_records VALUES (9999, '2026-03-03', 'NEW', 'BW0001', 'new', 1)")
    conn.commit()
    conn.close()
    health = await check_health(ctx, min_free_gb=0)
    assert health.rollup.stale == ["production_analysis.db"]
    assert "stale: production_analysis.db" in health.rollup.sentence() and health.rollup.short() == "0/1 fresh, 1 stale"
    assert health.as_dict()["rollup"]["stale"] == ["production_analysis.db"]
