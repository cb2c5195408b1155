import sqlite3

import pytest

from jumpdeck.core.errors import Conflict, PermissionDenied, ValidationError
from jumpdeck.core.maintenance import backup, locks, restore, sqlite_files


def count(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM production_records").fetchone()[0]
    finally:
        conn.close()


async def _one_backup(ctx):
    await backup.backup_all(ctx, {"live"})
    return backup.last_good_backup(ctx.config, "live")


async def test_restore_keeps_broken_copy_and_restores_data(ctx, live):
    good = await _one_backup(ctx)
    conn = sqlite3.connect(live)
    conn.execute("DELETE FROM production_records WHERE id <= 100")  # the accident
    conn.commit()
    conn.close()
    assert count(live) == 400
    result = await restore.restore(ctx, good.name)
    assert result.target == live
    assert count(live) == 500
    assert result.broken is not None and result.broken.name.startswith("production_analysis.db.broken-")
    assert count(result.broken) == 400
    # The live DB was in WAL; the backup (a single file) is not: the restored one is again.
    assert sqlite_files.is_wal(live) and not sqlite_files.is_wal(good.path)
    page = await ctx.activity.page(ctx.actor)
    assert any(e.action == "RESTORE" and good.name in e.detail for e in page.entries)


async def test_restore_is_refused_while_maintenance_runs(ctx, live):
    good = await _one_backup(ctx)
    for kind in ("backup", "watcher", "rollover"):
        held = locks.acquire(ctx.config, kind)
        try:
            with pytest.raises(Conflict, match="Cannot restore while"):
                await restore.restore(ctx, good.name)
        finally:
            held.release()
    assert (await restore.restore(ctx, good.name)).target == live


async def test_a_damaged_backup_changes_nothing(ctx, live):
    good = await _one_backup(ctx)
    data = bytearray(good.path.read_bytes())
    data[4096 * 3: 4096 * 3 + 2000] = b"\xff" * 2000  # trash pages in the middle
    good.path.write_bytes(bytes(data))
    with pytest.raises(Exception) as info:
        await restore.restore(ctx, good.name)
    assert "nothing was changed" in str(info.value) or "integrity" in str(info.value)
    assert count(live) == 500
    assert not list(live.parent.glob("*.broken-*"))
    assert not list(live.parent.glob(".*restoring*"))


async def test_only_admins_restore(ctx, operator, live):
    good = await _one_backup(ctx)
    ctx.actor = operator
    with pytest.raises(PermissionDenied):
        await restore.restore(ctx, good.name)


async def test_store_backups_are_not_restored_in_process(ctx, live):
    await backup.backup_all(ctx, {"store"})
    store_backup = backup.last_good_backup(ctx.config, "store")
    with pytest.raises(ValidationError, match="own store"):
        await restore.restore(ctx, store_backup.name)


async def test_restore_names_processes_that_held_the_old_file(ctx, live):
    import subprocess
    import sys

    good = await _one_backup(ctx)
    holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
                               "c.execute('SELECT COUNT(*) FROM production_records').fetchone(); print('open', flush=True); "
                               "time.sleep(60)", str(live)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        result = await restore.restore(ctx, good.name)
        assert holder.pid in result.open_elsewhere
        assert "restart them" in result.warning()
    finally:
        holder.kill()
        holder.wait()
