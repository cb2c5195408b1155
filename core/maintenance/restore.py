"""Restore a production DB from a backup (seed 003 §5 "DB 복구 절차"), admin only.

Refused while a backup, the watcher or the rollover runs (their lock files). The backup
is copied beside the target under a temporary name and must pass `integrity_check`
before anything changes; the current file is kept as `<name>.broken-<timestamp>` (a
hard link, so the target path never disappears) and the verified copy is swapped in
with one atomic rename. The old WAL is checkpointed first and moved aside with the
broken copy, so it can never be replayed into the restored file.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jumpdeck.core.errors import JumpdeckError, NotFound, ValidationError
from jumpdeck.core.identity import Operation, require
from jumpdeck.core.maintenance import locks
from jumpdeck.core.maintenance.backup import parse_name
from jumpdeck.core.maintenance.sqlite_files import check, checkpoint, connect, fsync_dir, fsync_path, is_wal, side_files
from jumpdeck.core.private_files import private_dir, touch_private
from jumpdeck.core.production import schema

if TYPE_CHECKING:
    from jumpdeck.core.config import Config
    from jumpdeck.core.context import Context


RESTORING = "restoring"


class RestoreFailed(JumpdeckError):
    title = "Restore failed"


@dataclass(frozen=True)
class RestoreResult:
    backup: Path
    target: Path
    broken: Path | None  # the previous file, kept
    seconds: float
    open_elsewhere: list[int] = field(default_factory=list)  # pids that had the old file open

    def warning(self) -> str | None:
        if not self.open_elsewhere:
            return None
        return (f"{len(self.open_elsewhere)} process(es) (pid {', '.join(map(str, self.open_elsewhere[:5]))}) had the old "
                f"{self.target.name} open; restart them so they read the restored file (seed §5 stops the services first).")


def target_for(config: Config, backup: Path) -> Path:
    parsed = parse_name(backup.name)
    if parsed is None:
        raise ValidationError(
            f"{backup.name} is not named like a jumpdeck backup.",
            field="backup", remedy="Pick a file named production_YYYYMMDD_HHMMSS.db or archive_YYYY_YYYYMMDD_HHMMSS.db.")
    kind, year, _ = parsed
    if kind == "live":
        return schema.live_db_path(config)
    if kind == "archive":
        assert year is not None
        return schema.archive_db_path(config, year)
    raise ValidationError(
        "jumpdeck cannot restore its own store while it has the store open.",
        field="backup", remedy=f"Stop every jumpdeck process, then copy {backup} over {config.store_path} by hand.")


def resolve_backup(config: Config, name_or_path: str) -> Path:
    path = Path(name_or_path).expanduser()
    if not path.exists() and not path.is_absolute():
        path = config.backups_dir / name_or_path
    if not path.is_file():
        raise NotFound(f"There is no backup file {name_or_path}.", remedy="`jumpdeck backup --list` shows them.")
    return path.resolve()


def restoring_leftovers(directory: Path) -> list[Path]:
    """Copies a killed restore left beside its target (`.<name>.restoring-<stamp>` and
    their side files)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f".*.{RESTORING}-*"))


def sweep_restoring(directory: Path) -> list[Path]:
    """Remove what killed restores left. Call only under the restore's locks: a restore
    running now has its copy there too."""
    removed = []
    for path in restoring_leftovers(directory):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _restore_sync(config: Config, backup: Path) -> RestoreResult:
    started = time.perf_counter()
    target = target_for(config, backup)
    stamp = time.strftime("%Y%m%d_%H%M%S")
    tmp = target.with_name(f".{target.name}.{RESTORING}-{stamp}")
    private_dir(target.parent)
    sweep_restoring(target.parent)
    try:
        touch_private(tmp)  # copyfile keeps the mode of the file it writes into
        if target.exists():
            # The file being replaced may be the ERP's, shared with its own account.
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        shutil.copyfile(backup, tmp)
        fsync_path(tmp)
        verdict = check(tmp, "integrity_check")
        if verdict != "ok":
            raise RestoreFailed(f"{backup.name} failed its integrity_check ({verdict}); nothing was changed.",
                                remedy="Pick an older backup.")
        if target.exists() and is_wal(target):
            # Backups are single files in rollback-journal mode; a live DB put back in that
            # mode would make every later backup hold its writers (backup.py).
            conn = connect(tmp)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            finally:
                conn.close()
        for side in side_files(tmp):
            side.unlink(missing_ok=True)
        broken = None
        openers: list[int] = []
        if target.exists():
            from jumpdeck.core.maintenance.rollover import other_openers

            openers = [pid for pid in other_openers(target) if pid != os.getpid()]
            try:
                checkpoint(target, "TRUNCATE")
            except Exception:  # a damaged file may not checkpoint: keep its WAL with it below
                pass
            broken = target.with_name(f"{target.name}.broken-{stamp}")
            os.link(target, broken)
            for side in side_files(target):
                if side.exists():
                    os.replace(side, side.with_name(broken.name + side.name[len(target.name):]))
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
        for side in side_files(tmp):
            side.unlink(missing_ok=True)
    return RestoreResult(backup, target, broken, time.perf_counter() - started, openers)


async def restore(ctx: Context, backup_file: str) -> RestoreResult:
    require(ctx.actor, Operation.RESTORE)
    backup = resolve_backup(ctx.config, backup_file)
    target_for(ctx.config, backup)  # refuse a store backup before taking locks
    held = locks.acquire_all(ctx.config, "restore")
    try:
        result = await asyncio.to_thread(_restore_sync, ctx.config, backup)
    finally:
        for lock in held:
            lock.release()
    await ctx.activity.record(ctx.actor, "RESTORE", "DATABASE", result.target.name,
                              f"from {backup.name}; previous kept as {result.broken.name if result.broken else '(none)'}")
    return result
