"""Which production file answers which dates, and reading them safely.

The timeline is split by file so a row is never counted twice, even mid-rollover when
the live DB and a fresh archive copy hold the same year:

- the live file answers dates from the cutoff year on (setting `archive_cutoff_year`;
  unset: the year after the newest archive; no archive: every date);
- `archive_YYYY.db` answers the year YYYY, the oldest archive also everything before it
  (the seed's `archive_2025.db` holds "2025 and earlier"), never the cutoff year or later.

Connections are read-only (`file:...?mode=ro`): jumpdeck never writes the ERP's data.
A locked file is retried briefly, then reported with the seed's remedy.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import quote

from core.config import Config
from core.production.models import ProductionLocked, ProductionUnavailable, QueryTimeout
from core.production.schema import archive_db_path, archive_years, live_db_path

log = logging.getLogger("jumpdeck.production")
T = TypeVar("T")

LOCK_RETRIES = 4  # attempts after the first; with the busy timeout, ~2 s in all
BUSY_TIMEOUT_S = 0.25
QUERY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Segment:
    """One file and the dates it answers: [lo, hi), None = unbounded."""

    path: Path
    lo: date | None
    hi: date | None

    def clamp(self, start: date, end_exclusive: date) -> tuple[str, str] | None:
        lo = max(start, self.lo) if self.lo else start
        hi = min(end_exclusive, self.hi) if self.hi else end_exclusive
        return (lo.isoformat(), hi.isoformat()) if lo < hi else None


def plan_segments(config: Config, cutoff_year: int | None = None) -> list[Segment]:
    years = archive_years(config)
    cutoff = cutoff_year if cutoff_year is not None else (years[-1] + 1 if years else None)
    segments = []
    previous: int | None = None
    for year in years:
        lo = date(previous + 1, 1, 1) if previous is not None else None
        hi_year = year + 1 if cutoff is None else min(year + 1, cutoff)
        if lo is None or lo.year < hi_year:
            segments.append(Segment(archive_db_path(config, year), lo, date(hi_year, 1, 1)))
        previous = year
    live = live_db_path(config)
    segments.append(Segment(live, date(cutoff, 1, 1) if cutoff is not None else None, None))
    return [s for s in segments if s.path.exists()]


def file_signature(path: Path) -> tuple:
    """What changes when anyone writes the file: size and mtime of the DB and its WAL."""
    out: list[Any] = [path.name]
    for candidate in (str(path), f"{path}-wal"):
        try:
            st = os.stat(candidate)
            out += [st.st_mtime_ns, st.st_size]
        except FileNotFoundError:
            out += [None, None]
    return tuple(out)


def data_signature(config: Config) -> tuple:
    """The signature of every production file: the cache's validity key."""
    paths = [archive_db_path(config, y) for y in archive_years(config)] + [live_db_path(config)]
    return tuple(file_signature(p) for p in paths)


def missing_data_error(config: Config) -> ProductionUnavailable:
    return ProductionUnavailable(
        f"There is no production database in {config.database_dir} (expected {live_db_path(config).name} "
        "and/or archive_YYYY.db).",
        remedy="Copy the production DB there, or create demo data with: jumpdeck demo-data --rows 200000.",
    )


def connect_ro(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    return conn


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def read(path: Path, fn: Callable[[sqlite3.Connection], T], *, label: str, slow_ms: float,
         timeout: float = QUERY_TIMEOUT_S) -> T:
    """Run `fn(conn)` on a fresh read-only connection to `path` (blocking: call in a thread).

    Retries a locked file a few times, interrupts a query that runs past `timeout`,
    and logs `SLOW QUERY` above `slow_ms`."""
    delay = 0.1
    for attempt in range(LOCK_RETRIES + 1):
        started = time.perf_counter()
        try:
            conn = connect_ro(path)
        except sqlite3.OperationalError as exc:
            raise ProductionUnavailable(f"Cannot open {path}: {exc}.",
                                        remedy="Check that the file exists and is readable by this user.") from None
        timer = threading.Timer(timeout, conn.interrupt)
        timer.daemon = True
        timer.start()
        try:
            result = fn(conn)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc).lower():
                raise QueryTimeout(f"The query {label} on {path.name} ran past {timeout:.0f} s and was stopped.",
                                   remedy="Narrow the date range, or run the DB watcher to heal missing indexes.") from None
            if _is_locked(exc) and attempt < LOCK_RETRIES:
                time.sleep(delay)
                delay *= 2
                continue
            if _is_locked(exc):
                raise locked_error(path) from None
            raise ProductionUnavailable(f"Reading {path.name} failed: {exc}.",
                                        remedy="Run an integrity check on it from the Maintenance screen.") from None
        except sqlite3.DatabaseError as exc:
            raise ProductionUnavailable(f"{path.name} is not a readable SQLite database: {exc}.",
                                        remedy="Restore it from a backup (Maintenance screen).") from None
        finally:
            timer.cancel()
            conn.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms > slow_ms:
            log.warning("SLOW QUERY %.0f ms %s on %s", elapsed_ms, label, path.name)
        return result
    raise locked_error(path)  # unreachable; keeps type checkers calm


def locked_error(path: Path) -> ProductionLocked:
    # The seed's checklist (7.1): the ERP may be writing; a large WAL wants a checkpoint.
    return ProductionLocked(
        f"{path.name} is locked: another program (the ERP) is writing to it.",
        remedy=f"Wait a moment and retry (r). If it stays locked, check the size of {path.name}-wal "
        "and run a WAL checkpoint from the Maintenance screen.",
    )
