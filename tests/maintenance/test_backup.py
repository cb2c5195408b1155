import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from jumpdeck.core.errors import Conflict, PermissionDenied
from jumpdeck.core.maintenance import backup, locks
from jumpdeck.core.maintenance.sqlite_files import check
from jumpdeck.core.production import schema


async def test_backup_names_verifies_and_audits(ctx, live):
    events = await backup.backup_all(ctx)
    done = [e for e in events if isinstance(e, backup.BackupDone)]
    assert {e.label for e in done} == {"live", "store"}
    names = {b.name for b in backup.list_backups(ctx.config)}
    assert any(backup.NAME_RE.match(n) and n.startswith("production_") for n in names)
    assert any(n.startswith("store_") for n in names)
    assert all(b.verified for b in backup.list_backups(ctx.config))
    live_backup = backup.last_good_backup(ctx.config, "live")
    assert check(live_backup.path, "integrity_check") == "ok"
    conn = sqlite3.connect(live_backup.path)
    assert conn.execute("SELECT COUNT(*) FROM production_records").fetchone()[0] == 500
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    page = await ctx.activity.page(ctx.actor)
    assert any(e.action == "BACKUP" and live_backup.name in e.detail for e in page.entries)


async def test_archive_backup_names_carry_the_year(ctx, live):
    from tests.maintenance.conftest import fill

    fill(schema.archive_db_path(ctx.config, 2024), {2024: 50})
    await backup.backup_all(ctx, {"archive"})
    (only,) = backup.list_backups(ctx.config)
    assert only.name.startswith("archive_2024_") and only.kind == "archive" and only.year == 2024


async def test_backup_while_a_writer_inserts_is_consistent(ctx, live):
    stop = threading.Event()
    inserted = [0]

    def writer():
        conn = sqlite3.connect(live, timeout=10)
        while not stop.is_set():
            conn.execute("INSERT INTO production_records(production_date, lot_number, item_code, item_name, good_quantity) "
                         "VALUES ('2026-06-01', 'W', 'BW9999', 'w', 1)")
            conn.commit()
            inserted[0] += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while inserted[0] < 50:
            time.sleep(0.01)
        events = [e async for e in backup.run_backup(ctx, {"live"}, step_pages=1)]
    finally:
        stop.set()
        thread.join()
    assert any(isinstance(e, backup.BackupProgress) for e in events)
    done = next(e for e in events if isinstance(e, backup.BackupDone))
    assert check(done.backup.path, "integrity_check") == "ok"
    conn = sqlite3.connect(done.backup.path)
    count, max_id = conn.execute("SELECT COUNT(*), MAX(id) FROM production_records").fetchone()
    conn.close()
    # One snapshot: ids are dense (no insert half-copied), and the writer kept going.
    assert count == max_id
    assert count >= 550
    assert inserted[0] > 50


KILL_SCRIPT = r"""
import sys, time
from pathlib import Path
from jumpdeck.core.maintenance.backup import Source, copy_verified

class SlowEmitter:
    first = True
    cancelled = False
    def raise_if_cancelled(self): pass
    def emit(self, event):
        if type(event).__name__ == "BackupProgress":
            if self.first:
                print("copying", flush=True)
                self.first = False
            time.sleep(0.2)

copy_verified(Source("live", "live", Path(sys.argv[1]), "production"), Path(sys.argv[2]), emitter=SlowEmitter(), step_pages=1)
print("finished", flush=True)
"""


async def test_sigkill_mid_backup_leaves_no_file_with_a_backup_name(ctx, live):
    directory = ctx.config.backups_dir
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(live), str(directory)],
                            stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    assert proc.stdout.readline().strip() == "copying"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    leftovers = list(directory.iterdir())
    assert any(p.name.endswith(".partial") for p in leftovers)
    assert not [p for p in leftovers if backup.parse_name(p.name)]
    assert backup.list_backups(ctx.config) == []
    # The next backup sweeps the half file away and leaves one good backup.
    await backup.backup_all(ctx, {"live"})
    names = [p.name for p in directory.iterdir() if not p.name.startswith(".verified")]
    assert len(names) == 1 and backup.parse_name(names[0])


async def test_retention_keeps_exactly_the_newest_n(ctx, live):
    await ctx.settings.set(ctx.actor, {"backup_retention_live": 3})
    made = []
    for _ in range(5):
        events = await backup.backup_all(ctx, {"live"})
        made += [e.backup.name for e in events if isinstance(e, backup.BackupDone)]
    kept = [b.name for b in backup.list_backups(ctx.config) if b.kind == "live"]
    assert len(made) == 5 and len(set(made)) == 5
    assert sorted(kept) == sorted(made)[-3:]


async def test_retention_waits_for_a_good_backup(ctx, live):
    await ctx.settings.set(ctx.actor, {"backup_retention_live": 1})
    await backup.backup_all(ctx, {"live"})
    await backup.backup_all(ctx, {"live"})
    before = [b.name for b in backup.list_backups(ctx.config)]
    assert len(before) == 1
    # A live DB that is not a database: the backup fails and nothing old is deleted.
    for side in (live.with_name(live.name + "-wal"), live.with_name(live.name + "-shm")):
        side.unlink(missing_ok=True)
    live.write_bytes(b"this is not sqlite" * 1000)
    events = await backup.backup_all(ctx, {"live"})
    assert any(isinstance(e, backup.BackupError) for e in events)
    assert [b.name for b in backup.list_backups(ctx.config)] == before
    assert not [p for p in ctx.config.backups_dir.iterdir() if p.name.endswith(".partial")]


async def test_cleanup_only_applies_retention(ctx, live):
    for _ in range(3):
        await backup.backup_all(ctx, {"live"})
    await ctx.settings.set(ctx.actor, {"backup_retention_live": 1})
    events = await backup.backup_all(ctx, {"live"}, cleanup_only=True)
    assert len([e for e in events if isinstance(e, backup.BackupRemoved)]) == 2
    assert len(backup.list_backups(ctx.config)) == 1


async def test_hand_placed_file_is_listed_unverified(ctx, live):
    ctx.config.backups_dir.mkdir(parents=True, exist_ok=True)
    (ctx.config.backups_dir / "production_20250101_020000.db").write_bytes(live.read_bytes())
    (item,) = backup.list_backups(ctx.config)
    assert not item.verified


async def test_viewer_may_not_back_up(ctx, viewer, live):
    ctx.actor = viewer
    with pytest.raises(PermissionDenied):
        await backup.backup_all(ctx)


async def test_a_second_backup_is_refused_while_one_runs(ctx, live):
    held = locks.acquire(ctx.config, "backup")
    try:
        with pytest.raises(Conflict, match="a backup is running"):
            await backup.backup_all(ctx)
    finally:
        held.release()


async def test_rollback_journal_source_under_a_steady_writer_still_finishes(ctx, config):
    from tests.maintenance.conftest import fill

    live = schema.live_db_path(config)
    fill(live, {2026: 3000}, wal=False)
    stop = threading.Event()

    def writer():
        conn = sqlite3.connect(live, timeout=30)
        while not stop.is_set():
            conn.execute("INSERT INTO production_records(production_date, lot_number, item_code, item_name, good_quantity) "
                         "VALUES ('2026-06-01', 'W', 'BW9999', 'w', 1)")
            conn.commit()
            time.sleep(0.001)  # a busy writer, but one that breathes (a tight loop starves every reader)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        events = [e async for e in backup.run_backup(ctx, {"live"}, step_pages=1)]
    finally:
        stop.set()
        thread.join()
    assert not [e for e in events if isinstance(e, backup.BackupError)]
    done = next(e for e in events if isinstance(e, backup.BackupDone))
    conn = sqlite3.connect(done.backup.path)
    count, max_id = conn.execute("SELECT COUNT(*), MAX(id) FROM production_records").fetchone()
    conn.close()
    assert count == max_id >= 3000


def test_rollback_journal_copy_restarted_by_every_commit_converges_consistently(config, tmp_path):
    """Each progress tick commits a row through another connection, so every step of the
    stepwise copy restarts; the copy must still end, consistent, and say why writers waited."""
    from tests.maintenance.conftest import fill

    live = schema.live_db_path(config)
    fill(live, {2026: 3000}, wal=False)
    writer = sqlite3.connect(live)

    class CommitEveryStep:
        notes: list[str] = []

        def raise_if_cancelled(self):
            pass

        def emit(self, event):
            if isinstance(event, backup.BackupProgress):
                writer.execute("INSERT INTO production_records(production_date, lot_number, item_code, item_name, "
                               "good_quantity) VALUES ('2026-06-01', 'W', 'BW9999', 'w', 1)")
                writer.commit()
            elif isinstance(event, backup.BackupNote):
                self.notes.append(event.text)

    emitter = CommitEveryStep()
    info, _, _ = backup.copy_verified(backup.Source("live", "live", live, "production"), tmp_path, emitter=emitter,
                                      step_pages=2)
    writer.close()
    assert len(emitter.notes) == 1 and "rollback-journal mode" in emitter.notes[0] and "journal_mode=WAL" in emitter.notes[0]
    assert check(info.path, "integrity_check") == "ok"
    conn = sqlite3.connect(info.path)
    count, max_id = conn.execute("SELECT COUNT(*), MAX(id) FROM production_records").fetchone()
    conn.close()
    # One commit a tick (the first step, then MAX_RESTARTS + 1 restarts): all of them, none half.
    assert count == max_id == 3000 + backup.MAX_RESTARTS + 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".partial", "-journal"))]
