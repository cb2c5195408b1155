"""The DB watcher (seed 003 §6): detect change, heal missing indexes, ANALYZE at most
every 24 hours (or when forced), checkpoint a WAL that grew past a size.

State lives in `database/.watcher_state.json` with the seed's keys (`live_mtime`,
`live_size`, `archive_mtime`, `archive_size`, `last_analyze_ts`) plus every archive's
figures and the last run. Lines go to `<data dir>/logs/watcher.log` with the seed's
words, so its recipes keep working:

    grep "ANALYZE" logs/watcher.log
    grep "Healed\\|Creating missing" logs/watcher.log

A lock file makes sure two watchers (a cron one-shot and a daemon) never run together.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator

from jumpdeck.core.config import Config
from jumpdeck.core.identity import Operation, require
from jumpdeck.core.maintenance import locks
from jumpdeck.core.maintenance.sqlite_files import ProductionFile, checkpoint, connect, production_files, wal_size
from jumpdeck.core.production import schema
from jumpdeck.core.private_files import open_private, private_dir, write_private_text

if TYPE_CHECKING:
    from jumpdeck.core.context import Context

ANALYZE_EVERY = 24 * 3600
STATE_NAME = ".watcher_state.json"
LOG_NAME = "watcher.log"


def state_path(config: Config) -> Path:
    return config.database_dir / STATE_NAME


def log_path(config: Config) -> Path:
    return config.log_dir / LOG_NAME


def read_state(config: Config) -> dict:
    try:
        return json.loads(state_path(config).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(config: Config, state: dict) -> None:
    path = state_path(config)
    tmp = path.with_name(path.name + ".tmp")
    write_private_text(tmp, json.dumps(state, indent=2, sort_keys=True))
    os.replace(tmp, path)


def request_analyze(config: Config) -> None:
    """The seed's recipe (last_analyze_ts = 0): ANALYZE runs on the next cycle."""
    state = read_state(config)
    state["last_analyze_ts"] = 0
    config.database_dir.mkdir(parents=True, exist_ok=True)
    _write_state(config, state)


class WatcherLog:
    """Appends `YYYY-MM-DD HH:MM:SS [LEVEL] message` lines to watcher.log and keeps them."""

    def __init__(self, config: Config) -> None:
        self.path = log_path(config)
        self.lines: list[str] = []

    def __call__(self, message: str, level: str = "INFO") -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{level}] {message}"
        self.lines.append(line)
        private_dir(self.path.parent)
        with open_private(self.path, "a") as fh:
            fh.write(line + "\n")


def tail_log(config: Config, lines: int = 50) -> list[str]:
    """The last lines of watcher.log (reads only the file's end)."""
    path = log_path(config)
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 200 * lines))
        text = fh.read().decode("utf-8", errors="replace")
    return text.splitlines()[-lines:]


@dataclass(frozen=True)
class WatcherReport:
    changed: list[str] = field(default_factory=list)
    healed: dict[str, list[str]] = field(default_factory=dict)
    analyzed: list[str] = field(default_factory=list)
    checkpointed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def did_work(self) -> bool:
        return bool(self.healed or self.analyzed or self.checkpointed)


def _fingerprint(path: Path) -> dict:
    stat = path.stat()
    return {"mtime": stat.st_mtime, "size": stat.st_size, "wal": wal_size(path)}


def missing_indexes(conn: sqlite3.Connection) -> list[str] | None:
    """Index names missing on the production table; None if the table itself is missing."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (schema.TABLE,)).fetchone() is None:
        return None
    present = {row[1] for row in conn.execute(f"PRAGMA index_list('{schema.TABLE}')")}
    return [name for name in schema.INDEXES if name not in present]


def refresh_rollups_hook(config: Config, changed: list[ProductionFile], log: WatcherLog) -> None:
    """Refresh the Charts rollups (`jumpdeck.core.production.rollup.refresh_rollups`) when production
    data changed, so the Charts screen's monthly figures follow the healed/changed files."""
    try:
        from jumpdeck.core.production import rollup
    except ImportError:
        return
    refresh = getattr(rollup, "refresh_rollups", None)
    if refresh is None:
        return
    started = time.perf_counter()
    try:
        refresh(config)
    except Exception as exc:  # the watcher's own work must not fail because of rollups
        log(f"Rollup refresh failed: {exc}", "WARNING")
        return
    log(f"Rollups refreshed ({time.perf_counter() - started:.2f} s) after changes in " + ", ".join(f.path.name for f in changed))


def run_once_sync(
    config: Config,
    *,
    force_analyze: bool = False,
    wal_limit_bytes: int = 64 * 1024 * 1024,
    now: float | None = None,
) -> WatcherReport:
    """One watcher cycle. The caller holds the watcher lock."""
    started = time.perf_counter()
    now = time.time() if now is None else now
    log = WatcherLog(config)
    state = read_state(config)
    files = production_files(config)
    previous = state.get("files", {})
    report = WatcherReport(lines=log.lines)
    changed_files = []
    for f in files:
        fp = _fingerprint(f.path)
        if previous.get(f.path.name) != fp:
            changed_files.append(f)
            report.changed.append(f.label)
            if previous.get(f.path.name):
                log(f"Change detected: {f.path.name} (size {previous[f.path.name]['size']:,} -> {fp['size']:,} bytes)")
            else:
                log(f"Watching {f.path.name} ({fp['size']:,} bytes)")
    if not files:
        report.problems.append(f"no production DB in {config.database_dir}")
    analyze_due = force_analyze or now - float(state.get("last_analyze_ts", 0) or 0) >= ANALYZE_EVERY
    for f in files:
        conn = connect(f.path)
        try:
            missing = missing_indexes(conn)
            if missing is None:
                report.problems.append(f"{f.path.name} has no {schema.TABLE} table")
                log(f"{f.path.name} has no {schema.TABLE} table; nothing to heal", "WARNING")
                continue
            for name in missing:
                log(f"Creating missing index {name} on {f.path.name}", "WARNING")
                conn.execute(schema.INDEXES[name])
            if missing:
                report.healed[f.label] = missing
                log(f"Healed {len(missing)} index(es) on {f.path.name}: {', '.join(missing)}")
            if analyze_due:
                t0 = time.perf_counter()
                conn.execute("ANALYZE")
                report.analyzed.append(f.label)
                log(f"ANALYZE OK on {f.path.name} ({time.perf_counter() - t0:.2f} s)" + (" (forced)" if force_analyze else ""))
        except sqlite3.Error as exc:
            report.problems.append(f"{f.path.name}: {exc}")
            log(f"{f.path.name}: {exc}", "ERROR")
        finally:
            conn.close()
        size = wal_size(f.path)
        if size > wal_limit_bytes:
            busy, _, _ = checkpoint(f.path, "TRUNCATE")
            report.checkpointed.append(f.label)
            log(f"WAL checkpoint on {f.path.name}: {size / 1e6:.1f} MB" + (" (readers busy, partial)" if busy else " -> 0"))
    if changed_files:
        refresh_rollups_hook(config, changed_files, log)
    # Record the files as they are after our own changes, so they don't count as news next time.
    state["files"] = {f.path.name: _fingerprint(f.path) for f in files if f.path.exists()}
    live = next((f for f in files if f.label == "live"), None)
    archive = next((f for f in reversed(files) if f.year is not None), None)
    for key, f in (("live", live), ("archive", archive)):
        if f is not None:
            state[f"{key}_mtime"] = state["files"][f.path.name]["mtime"]
            state[f"{key}_size"] = state["files"][f.path.name]["size"]
    if analyze_due and files:
        state["last_analyze_ts"] = now
    seconds = time.perf_counter() - started
    state["last_run_ts"] = now
    state["last_run_seconds"] = round(seconds, 4)
    state["last_problems"] = report.problems
    config.database_dir.mkdir(parents=True, exist_ok=True)
    _write_state(config, state)
    return WatcherReport(report.changed, report.healed, report.analyzed, report.checkpointed, report.problems, log.lines, seconds)


async def _wal_limit(ctx: Context) -> int:
    settings = await ctx.settings.get()
    return int(settings.get("watcher_wal_limit_mb")) * 1024 * 1024


async def run_once(ctx: Context, *, force_analyze: bool = False) -> WatcherReport:
    require(ctx.actor, Operation.RUN_BACKUP)
    limit = await _wal_limit(ctx)
    lock = locks.acquire(ctx.config, "watcher", remedy="Only one watcher runs at a time; the running one does this work.")
    try:
        report = await asyncio.to_thread(run_once_sync, ctx.config, force_analyze=force_analyze, wal_limit_bytes=limit)
    finally:
        lock.release()
    await _audit(ctx, report, force_analyze)
    return report


async def _audit(ctx: Context, report: WatcherReport, forced: bool) -> None:
    # Only cycles that changed something are audited: an hourly cron must not flood the log.
    if report.healed or forced:
        healed = "; ".join(f"{label}: {', '.join(names)}" for label, names in report.healed.items())
        await ctx.activity.record(ctx.actor, "WATCHER", "DATABASE", "production",
                                  ("healed " + healed if healed else "") + ("; forced ANALYZE" if forced else ""))


async def run_daemon(ctx: Context, interval: float, *, stop: asyncio.Event | None = None,
                     force_analyze: bool = False) -> AsyncIterator[WatcherReport]:
    """A cycle every `interval` seconds until `stop` is set; holds the lock throughout."""
    require(ctx.actor, Operation.RUN_BACKUP)
    stop = stop or asyncio.Event()
    lock = locks.acquire(ctx.config, "watcher", remedy="Stop the other watcher first (only one runs at a time).")
    try:
        first = True
        while not stop.is_set():
            limit = await _wal_limit(ctx)
            forced = force_analyze and first
            report = await asyncio.to_thread(run_once_sync, ctx.config, force_analyze=forced, wal_limit_bytes=limit)
            await _audit(ctx, report, forced)
            first = False
            yield report
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
    finally:
        lock.release()
