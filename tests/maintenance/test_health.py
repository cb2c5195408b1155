from core.maintenance import backup, watcher
from core.maintenance.health import check_health


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
