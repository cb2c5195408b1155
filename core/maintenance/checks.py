"""Integrity check and WAL checkpoint over every production file (seed 003 §7.1, §8 step 8).

`integrity_check` reads every page (25 s on a 5M-row file), so it is its own action with
per-file progress, never part of a backup's hot path (backups use `quick_check`).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator

from jumpdeck.core.identity import Operation, require
from jumpdeck.core.maintenance.sqlite_files import check, checkpoint, count_rows, production_files, unreadable, wal_size
from jumpdeck.core.maintenance.streaming import Emitter, stream

if TYPE_CHECKING:
    from jumpdeck.core.context import Context


@dataclass(frozen=True)
class FileStarted:
    label: str
    path: Path
    index: int
    total: int


@dataclass(frozen=True)
class FileChecked:
    label: str
    path: Path
    verdict: str  # "ok" or the problems
    rows: int | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


@dataclass(frozen=True)
class FileCheckpointed:
    label: str
    path: Path
    wal_before: int
    busy: bool
    error: str = ""  # why the file could not be checkpointed (not a SQLite database)


async def integrity(ctx: Context, *, quick: bool = False) -> AsyncIterator[FileStarted | FileChecked]:
    require(ctx.actor, Operation.RUN_BACKUP)
    files = production_files(ctx.config)
    pragma = "quick_check" if quick else "integrity_check"

    def work(emitter: Emitter) -> None:
        for i, f in enumerate(files):
            emitter.raise_if_cancelled()
            emitter.emit(FileStarted(f.label, f.path, i, len(files)))
            t0 = time.perf_counter()
            verdict = check(f.path, pragma)
            try:
                rows = count_rows(f.path) if verdict == "ok" else None
            except Exception:
                rows = None
            emitter.emit(FileChecked(f.label, f.path, verdict, rows, time.perf_counter() - t0))

    bad = []
    async for event in stream(work):
        if isinstance(event, FileChecked) and not event.ok:
            bad.append(event.path.name)
        yield event
    await ctx.activity.record(ctx.actor, "INTEGRITY_CHECK", "DATABASE", "production",
                              f"{pragma} on {len(files)} file(s): " + ("ok" if not bad else "FAILED " + ", ".join(bad)))
    if bad:
        from jumpdeck.core.notify.report import integrity_failed, report

        await report(ctx.store, ctx.secrets, ctx.actor, integrity_failed(bad))


async def checkpoint_all(ctx: Context) -> list[FileCheckpointed]:
    import asyncio

    require(ctx.actor, Operation.RUN_BACKUP)

    def work() -> list[FileCheckpointed]:
        out = []
        for f in production_files(ctx.config):
            before = wal_size(f.path)
            try:
                busy, _, _ = checkpoint(f.path, "TRUNCATE")
            except sqlite3.Error as exc:
                out.append(FileCheckpointed(f.label, f.path, before, False, error=unreadable(exc)))
                continue
            out.append(FileCheckpointed(f.label, f.path, before, bool(busy)))
        return out

    return await asyncio.to_thread(work)
