"""Verified backups of the production DBs and of jumpdeck's own SQLite store (seed 003 §5).

A backup is SQLite's online backup API copying into `.<name>.partial`, then
`PRAGMA quick_check`, then a rename to the seed's name (`production_YYYYMMDD_HHMMSS.db`,
`archive_YYYY_YYYYMMDD_HHMMSS.db`, `store_YYYYMMDD_HHMMSS.db`). A crash or SIGKILL at any
point leaves at most a `.partial` file, never a file with a backup's name; the next
backup sweeps leftovers away.

Consistency under writers: for a WAL database the source connection pins one read
snapshot for the whole copy (writers are never blocked; WAL readers don't block them),
and the copy goes in page steps so progress can be shown and the copy cancelled. For a
rollback-journal database, each step holds the shared lock only for its pages, so a
writer waits at most one step; but every commit by a writer restarts the copy, so after
a few restarts the file is copied byte for byte under one shared lock (`_copy_file_locked`):
the writer waits for that copy, and the operator is told to switch the DB to WAL.

Retention (settings `backup_retention_live/archive/store`) runs only after a good
backup of that kind, or on an explicit cleanup.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator

from jumpdeck.core.config import Config
from jumpdeck.core.errors import JumpdeckError, NotFound
from jumpdeck.core.identity import Operation, require
from jumpdeck.core.maintenance import locks
from jumpdeck.core.maintenance.sqlite_files import check, connect, fsync_dir, fsync_path, side_files
from jumpdeck.core.maintenance.streaming import Cancelled, Emitter, stream
from jumpdeck.core.private_files import private_dir, touch_private, write_private_text
from jumpdeck.core.production import schema

if TYPE_CHECKING:
    from jumpdeck.core.context import Context

log = logging.getLogger("jumpdeck.maintenance")
KINDS = ("live", "archive", "store")
STEP_PAGES = 1024  # ~4 MB a step: each holds the source's lock for a few milliseconds
STAMP = "%Y%m%d_%H%M%S"
NAME_RE = re.compile(r"^(?:(?P<live>production)|(?P<store>store)|archive_(?P<year>\d{4}))_(?P<stamp>\d{8}_\d{6})\.db$")
MANIFEST = ".verified.json"
RETENTION_KEYS = {"live": "backup_retention_live", "archive": "backup_retention_archive", "store": "backup_retention_store"}


class BackupFailed(JumpdeckError):
    title = "Backup failed"


# --- events ---------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupStarted:
    label: str
    source: Path
    name: str


@dataclass(frozen=True)
class BackupProgress:
    label: str
    copied_pages: int
    total_pages: int

    @property
    def fraction(self) -> float:
        return self.copied_pages / self.total_pages if self.total_pages else 1.0


@dataclass(frozen=True)
class BackupDone:
    label: str
    backup: "BackupInfo"
    copy_seconds: float
    check_seconds: float


@dataclass(frozen=True)
class BackupSkipped:
    label: str
    reason: str


@dataclass(frozen=True)
class BackupError:
    label: str
    reason: str


@dataclass(frozen=True)
class BackupNote:
    """Something the operator should know about a backup that succeeded."""

    label: str
    text: str


@dataclass(frozen=True)
class BackupRemoved:
    """Retention deleted an old backup."""

    label: str
    name: str


@dataclass(frozen=True)
class BackupSwept:
    """A file that an interrupted backup or restore left behind was removed."""

    label: str  # "backup" or "restore": what left it
    name: str
    size: int


BackupEvent = (BackupStarted | BackupProgress | BackupDone | BackupSkipped | BackupError | BackupNote | BackupRemoved
               | BackupSwept)


# --- listing --------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupInfo:
    name: str
    path: Path
    kind: str  # live, archive or store
    year: int | None  # the archive's year
    taken_at: datetime
    size: int
    verified: bool  # passed quick_check before it got its name (per the manifest)

    @property
    def label(self) -> str:
        return f"archive {self.year}" if self.kind == "archive" else self.kind

    def age_seconds(self, now: float | None = None) -> float:
        return (now if now is not None else time.time()) - self.taken_at.timestamp()


def parse_name(name: str) -> tuple[str, int | None, datetime] | None:
    match = NAME_RE.match(name)
    if not match:
        return None
    kind = "live" if match.group("live") else "store" if match.group("store") else "archive"
    year = int(match.group("year")) if match.group("year") else None
    try:
        return kind, year, datetime.strptime(match.group("stamp"), STAMP)
    except ValueError:
        return None


def _read_manifest(directory: Path) -> dict:
    try:
        return json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _write_manifest(directory: Path, manifest: dict) -> None:
    tmp = directory / (MANIFEST + ".tmp")
    write_private_text(tmp, json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, directory / MANIFEST)


def list_backups(config: Config) -> list[BackupInfo]:
    """Every file with a backup's name, newest first."""
    return scan_backups(config.backups_dir)


def scan_backups(directory: Path) -> list[BackupInfo]:
    if not directory.is_dir():
        return []
    manifest = _read_manifest(directory)
    out = []
    for path in directory.iterdir():
        parsed = parse_name(path.name)
        if parsed is None:
            continue
        kind, year, taken = parsed
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue
        entry = manifest.get(path.name) or {}
        out.append(BackupInfo(path.name, path, kind, year, taken, size, entry.get("check") == "ok" and entry.get("size") == size))
    out.sort(key=lambda b: (b.taken_at, b.name), reverse=True)
    return out


def last_good_backup(config: Config, kind: str = "live") -> BackupInfo | None:
    return next((b for b in list_backups(config) if b.kind == kind and b.verified), None)


# --- the copy -------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    label: str
    kind: str
    path: Path
    prefix: str  # production, archive_2025, store
    year: int | None = None


def sources(config: Config, kinds: set[str], store_path: Path | None) -> list[Source]:
    out = []
    if "live" in kinds:
        out.append(Source("live", "live", schema.live_db_path(config), "production"))
    if "archive" in kinds:
        for year in schema.archive_years(config):
            out.append(Source(f"archive {year}", "archive", schema.archive_db_path(config, year), f"archive_{year}", year))
    if "store" in kinds and store_path is not None:
        out.append(Source("store", "store", store_path, "store"))
    return out


def _free_name(directory: Path, prefix: str, now: float) -> str:
    """The seed's name for `now`. Names must sort in the order backups were taken (retention
    keeps the newest by name), so a backup in the same second as the newest existing one
    takes the second after it."""
    stamp = int(now)
    newest = max((int(time.mktime(parsed[2].timetuple())) for p in directory.glob(f"{prefix}_*.db")
                  if (parsed := parse_name(p.name)) and p.name[: -len("_YYYYMMDD_HHMMSS.db")] == prefix), default=None)
    if newest is not None and newest >= stamp:
        stamp = newest + 1
    while True:
        name = f"{prefix}_{time.strftime(STAMP, time.localtime(stamp))}.db"
        if not (directory / name).exists() and not (directory / f".{name}.partial").exists():
            return name
        stamp += 1


def sweep_partials(directory: Path) -> list[Path]:
    """Remove `.partial` files a killed backup left. Call only under the backup lock."""
    removed = []
    if directory.is_dir():
        for path in directory.glob(".*.partial*"):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class _Restarted(Exception):
    """Writers sent a stepwise copy of a rollback-journal DB back to page one too often."""


MAX_RESTARTS = 3
SQLITE_OK = 0


def _copy_steps(src: sqlite3.Connection, tmp: Path, label: str, emitter: Emitter | None, step_pages: int, wal: bool) -> int:
    """The backup API into `tmp`, `step_pages` at a time; returns how often it restarted.

    Without WAL, every commit by another connection between two steps sends the copy back
    to page one (measured: under a writer committing every few ms a 5M-row copy never got
    past its first 1,024 pages). A step that copies pages but ends no further than the step
    before is such a restart; after MAX_RESTARTS, `_Restarted`."""
    seen = {"copied": 0, "restarts": 0}

    def progress(status: int, remaining: int, total: int) -> None:
        if emitter:
            emitter.raise_if_cancelled()
            emitter.emit(BackupProgress(label, total - remaining, total))
        copied = total - remaining
        if status == SQLITE_OK and copied <= seen["copied"]:
            seen["restarts"] += 1
            if seen["restarts"] > MAX_RESTARTS:
                raise _Restarted
        seen["copied"] = copied

    touch_private(tmp)  # before SQLite opens it: its journal takes the file's mode
    dst = sqlite3.connect(tmp, isolation_level=None)
    try:
        # `sleep` applies only when a step finds the source locked (a writer holds PENDING
        # while it waits to commit): 5 ms lets that writer in.
        src.backup(dst, pages=step_pages, progress=progress, sleep=0 if wal else 0.005)
        # A backup is one self-contained file: no -wal beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
    return seen["restarts"]


def _copy_file_locked(src: sqlite3.Connection, path: Path, tmp: Path) -> float:
    """A byte copy of a rollback-journal DB under one SHARED lock; returns how long it held it.

    While a connection holds SHARED nobody can change the file (a commit needs EXCLUSIVE)
    and a hot journal has been rolled back, so the bytes are one committed version. A
    consistent copy of such a DB under a steady writer must hold that writer for one whole
    read of the file: this holds it for a kernel copy alone (the backup API's one-step copy,
    the earlier fallback, took 5-7x longer); fsync and quick_check come after the release."""
    started = time.perf_counter()
    src.execute("BEGIN")
    try:
        src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # takes SHARED until COMMIT
        for p in [tmp, *side_files(tmp)]:  # a -journal left by the abandoned copy would "roll back" this one
            p.unlink(missing_ok=True)
        touch_private(tmp)  # copyfile keeps the mode of a file it overwrites
        shutil.copyfile(path, tmp)
    finally:
        src.execute("COMMIT")
    return time.perf_counter() - started


def rollback_journal_note(path: Path, held: float) -> str:
    return (f"{path.name} is in rollback-journal mode and writers changed it during the copy, so they were held "
            f"{held * 1000:.0f} ms for one consistent copy. In WAL mode a backup never holds them: run "
            f"`sqlite3 {path} 'PRAGMA journal_mode=WAL'` while its writers are stopped.")


def copy_verified(
    source: Source,
    directory: Path,
    *,
    emitter: Emitter | None = None,
    step_pages: int = STEP_PAGES,
    now: float | None = None,
) -> tuple[BackupInfo, float, float]:
    """Copy, quick_check and rename one file; returns (info, copy s, check s). Blocking."""
    if not source.path.exists():
        raise NotFound(f"There is no {source.label} database at {source.path}.")
    private_dir(directory)
    name = _free_name(directory, source.prefix, time.time() if now is None else now)
    tmp = directory / f".{name}.partial"
    if emitter:
        emitter.emit(BackupStarted(source.label, source.path, name))
    try:
        return _copy_check_rename(source, directory, name, tmp, emitter, step_pages)
    except BaseException:
        # Whatever stopped it (a failure, a cancel, an interrupt): no partial copy stays.
        for p in [tmp, *side_files(tmp)]:
            p.unlink(missing_ok=True)
        raise


def _copy_check_rename(source: Source, directory: Path, name: str, tmp: Path, emitter: Emitter | None,
                       step_pages: int) -> tuple[BackupInfo, float, float]:
    started = time.perf_counter()
    src = connect(source.path)
    try:
        wal = src.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        if wal:
            # Pin one snapshot: the stepwise copy then never restarts and never blocks writers.
            src.execute("BEGIN")
            src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        if wal:
            _copy_steps(src, tmp, source.label, emitter, step_pages, wal)
            src.execute("COMMIT")
        else:
            try:
                _copy_steps(src, tmp, source.label, emitter, step_pages, wal)
            except _Restarted:
                held = _copy_file_locked(src, source.path, tmp)
                note = rollback_journal_note(source.path, held)
                log.warning("backup of %s: %s", source.label, note)
                if emitter:
                    emitter.emit(BackupNote(source.label, note))
    except (sqlite3.Error, Cancelled, OSError) as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, Cancelled):
            raise
        raise BackupFailed(f"Copying the {source.label} database failed: {exc}.",
                           remedy="Check free space in the backups directory and that the file is a SQLite database.") from None
    finally:
        src.close()
    fsync_path(tmp)
    copy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    verdict = check(tmp, "quick_check")
    check_seconds = time.perf_counter() - started
    if verdict != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupFailed(f"The {source.label} backup failed its quick_check ({verdict}); nothing was kept.",
                           remedy="Run `jumpdeck integrity` on the source: it may be damaged.")
    final = directory / name
    os.replace(tmp, final)
    fsync_dir(directory)
    size = final.stat().st_size
    manifest = _read_manifest(directory)
    manifest[name] = {"check": "ok", "size": size, "at": time.time()}
    _write_manifest(directory, manifest)
    parsed = parse_name(name)
    assert parsed is not None
    return BackupInfo(name, final, source.kind, source.year, parsed[2], size, True), copy_seconds, check_seconds


def apply_retention(directory: Path, kind: str, keep: int, year: int | None = None) -> list[str]:
    """Delete all but the `keep` newest backups of one kind (and archive year)."""
    group = [
        b for b in scan_backups(directory)
        if b.kind == kind and (kind != "archive" or year is None or b.year == year)
    ]
    removed: list[str] = []
    by_year: dict[int | None, list[BackupInfo]] = {}
    for b in group:
        by_year.setdefault(b.year, []).append(b)
    manifest = _read_manifest(directory)
    for items in by_year.values():
        items.sort(key=lambda b: (b.taken_at, b.name), reverse=True)
        for old in items[keep:]:
            old.path.unlink(missing_ok=True)
            manifest.pop(old.name, None)
            removed.append(old.name)
    if removed:
        _write_manifest(directory, manifest)
    return removed


def store_file(ctx: Context) -> Path | None:
    """The store's SQLite file, or None when the store is PostgreSQL (its own tools back it up)."""
    return Path(ctx.store.url_display) if ctx.store.kind == "sqlite" else None


# --- the service ----------------------------------------------------------------------

async def run_backup(
    ctx: Context,
    kinds: set[str] | None = None,
    *,
    cleanup_only: bool = False,
    step_pages: int = STEP_PAGES,
) -> AsyncIterator[BackupEvent]:
    """Back up the chosen kinds (all by default), then apply retention to each kind
    that got a good backup. With `cleanup_only`, apply retention to all and copy nothing."""
    require(ctx.actor, Operation.RUN_BACKUP)
    kinds = set(kinds or KINDS)
    config = ctx.config
    directory = config.backups_dir
    settings = await ctx.settings.get()
    lock = locks.acquire(config, "backup")
    try:
        if cleanup_only:
            from jumpdeck.core.maintenance import leftovers

            # A restore holds the backup lock too, so none is running: its copies are leftovers.
            for item in leftovers.sweep(config, ("backup", "restore")):
                yield BackupSwept(item.left_by, item.path.name, item.size)
            removed_all = []
            for kind in sorted(kinds):
                for name in apply_retention(directory, kind, settings.get(RETENTION_KEYS[kind])):
                    removed_all.append(name)
                    yield BackupRemoved(kind, name)
            await ctx.activity.record(ctx.actor, "BACKUP_CLEANUP", "BACKUP", directory.name,
                                      f"removed {len(removed_all)}: " + ", ".join(removed_all))
            return
        sweep_partials(directory)
        store_path = store_file(ctx)
        if "store" in kinds and store_path is None:
            yield BackupSkipped("store", "the store is PostgreSQL; back it up with pg_dump")
        for source in sources(config, kinds, store_path):
            if not source.path.exists():
                yield BackupSkipped(source.label, f"{source.path.name} does not exist")
                continue
            result: list[tuple[BackupInfo, float, float]] = []

            def work(emitter: Emitter, source: Source = source) -> None:
                result.append(copy_verified(source, directory, emitter=emitter, step_pages=step_pages))

            try:
                async for event in stream(work):
                    yield event
            except BackupFailed as exc:
                await ctx.activity.record(ctx.actor, "BACKUP_FAILED", "DATABASE", source.path.name, exc.message)
                from jumpdeck.core.notify.report import backup_failed, report

                await report(ctx.store, ctx.secrets, ctx.actor, backup_failed(source.label, source.path.name, exc.message))
                yield BackupError(source.label, str(exc))
                continue
            info, copy_s, check_s = result[0]
            await ctx.activity.record(ctx.actor, "BACKUP", "DATABASE", source.path.name,
                                      f"{info.name}, {info.size} bytes, quick_check ok")
            yield BackupDone(source.label, info, copy_s, check_s)
            keep = settings.get(RETENTION_KEYS[source.kind])
            for name in apply_retention(directory, source.kind, keep, source.year):
                yield BackupRemoved(source.label, name)
    finally:
        lock.release()


async def backup_all(ctx: Context, kinds: set[str] | None = None, **kw) -> list[BackupEvent]:
    """The whole run's events as a list (for callers that do not show progress)."""
    return [event async for event in run_backup(ctx, kinds, **kw) if not isinstance(event, BackupProgress)]


def describe(event: BackupEvent) -> str | None:
    """One line for a log or the CLI; None for events too fine to print."""
    if isinstance(event, BackupStarted):
        return f"{event.label}: backing up {event.source.name} -> {event.name}"
    if isinstance(event, BackupDone):
        return (f"{event.label}: {event.backup.name} verified ({event.backup.size / 1e6:.1f} MB, "
                f"copy {event.copy_seconds:.2f} s, quick_check {event.check_seconds:.2f} s)")
    if isinstance(event, BackupSkipped):
        return f"{event.label}: skipped, {event.reason}"
    if isinstance(event, BackupError):
        return f"{event.label}: FAILED: {event.reason}"
    if isinstance(event, BackupRemoved):
        return f"{event.label}: removed old backup {event.name} (retention)"
    if isinstance(event, BackupNote):
        return f"{event.label}: note: {event.text}"
    if isinstance(event, BackupSwept):
        return f"removed {event.name} ({human_size(event.size)}), left by an interrupted {event.label}"
    return None



def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def human_age(seconds: float) -> str:
    if seconds < 90:
        return f"{max(0, seconds):.0f}s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f}m"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"
