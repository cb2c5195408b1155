"""A file jumpdeck replaces keeps the mode its owner gave it; a file it makes is 0600."""

from __future__ import annotations

import os
import stat

from jumpdeck.core.maintenance import backup, restore, rollover
from jumpdeck.core.production import schema
from tests.maintenance.conftest import fill


def mode(path) -> int:  # noqa: ANN001
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_restored_live_db_keeps_the_mode_the_erp_gave_it(ctx, live):
    os.chmod(live, 0o640)  # the ERP's group reads it
    [done] = [e for e in await backup.backup_all(ctx, {"live"}) if isinstance(e, backup.BackupDone)]
    assert mode(done.backup.path) == 0o600
    await restore.restore(ctx, done.backup.name)
    assert mode(live) == 0o640


async def test_the_rollover_keeps_the_live_mode_and_makes_archives_0600(ctx, live):
    fill(live, {2024: 10}, start_id=10_000)  # a small year: its archive is built by inserting rows
    os.chmod(live, 0o640)
    [e async for e in rollover.rollover(ctx, 2026)]
    assert mode(live) == 0o640
    # archive_2025 is the old live file itself (the split year) and keeps its mode too;
    # the backups the rollover took are jumpdeck's own.
    assert mode(schema.archive_db_path(ctx.config, 2025)) == 0o640
    assert mode(schema.archive_db_path(ctx.config, 2024)) == 0o600
    assert {mode(b.path) for b in backup.list_backups(ctx.config)} == {0o600}
