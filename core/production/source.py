"""Which production file answers which dates, and reading them safely.

The timeline is split by file so a row is never counted twice, even mid-rollover when
the live DB and a fresh archive copy hold the same year:

- the live file answers dates from the cutoff year on (setting `archive_cutoff_year`;
  unset: the year after the newest archive; no archive: every date);
- `archive_YYYY.db` answers the year YYYY, the oldest archive also everything before it
  (the seed's `archive_2025.db` holds "2025 and earlier"), never the cutoff year or later.

Connections are read-only (`file:...?mode=ro`): jumpdeck never writes the ERP's data.
They are pooled per file (`FileReader`). A locked file is retried briefly, then reported
with the seed's remedy.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import quote

from jumpdeck.core.config import Config
from jumpdeck.core.production.models import ProductionLocked, ProductionUnavailable, QueryTimeout
from jumpdeck.core.production.schema import TABLE, archive_db_path, archive_years, live_db_path

log = logging.getLogger("jumpdeck.production")
T = TypeVar("T")

LOCK_RETRIES = 4  # attempts after the first; with the busy timeout, ~2 s in all
BUSY_TIMEOUT_S = 0.25
QUERY_TIMEOUT_S = 120.0
PROGRESS_EVERY = 100_000  # SQLite VM steps between two looks at the query's deadline


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


@dataclass(frozen=True)
class FileFacts:
    """What a query plan may be chosen from, read in a few index seeks (never by timing):
    the first and last production day in the file, which indexes exist and the columns
    they lead with."""

    first_day: date | None
    last_day: date | None
    indexes: frozenset[str]
    leading_columns: frozenset[str] = frozenset()

    @property
    def span_days(self) -> int | None:
        if self.first_day is None or self.last_day is None:
            return None
        return (self.last_day - self.first_day).days + 1

    def share(self, lo: str, hi: str) -> float | None:
        """The share of the file's days that [lo, hi) covers (None: unknown)."""
        span = self.span_days
        if span is None:
            return None
        wanted = (min(date.fromisoformat(hi), self.last_day + timedelta(days=1))
                  - max(date.fromisoformat(lo), self.first_day)).days
        return max(0, wanted) / span

    def covers(self, lo: str, hi: str) -> bool:
        """True when [lo, hi) holds every row of the file (a WHERE on the date filters nothing)."""
        return (self.first_day is not None and self.last_day is not None
                and lo <= self.first_day.isoformat() and self.last_day.isoformat() < hi)


def read_facts(conn: sqlite3.Connection) -> FileFacts:
    indexes = frozenset(row[1] for row in conn.execute(f"PRAGMA index_list('{TABLE}')"))
    leading = frozenset(row[2] for name in indexes for row in conn.execute(f"PRAGMA index_info('{name}')") if row[0] == 0)
    if "idx_production_date" not in indexes:
        return FileFacts(None, None, indexes, leading)  # min/max would scan the table: leave the span unknown
    # Two statements: SQLite answers a lone min() or max() with one index seek, but
    # `SELECT min(x), max(x)` walks the whole index.
    first = conn.execute(f"SELECT min(production_date) FROM {TABLE}").fetchone()[0]
    last = conn.execute(f"SELECT max(production_date) FROM {TABLE}").fetchone()[0]
    try:
        return FileFacts(date.fromisoformat(first), date.fromisoformat(last), indexes, leading)
    except (TypeError, ValueError):  # empty table, or dates not in the seed's format
        return FileFacts(None, None, indexes, leading)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class FileReader:
    """Read-only connections to the production files, kept open between queries.

    Opening a connection and reading the schema costs a little on every query; a
    pooled connection costs nothing. An idle connection holds no transaction, so it
    never blocks the ERP's writes or a checkpoint. A file replaced under its name (a
    restore, the rollover) has another inode: its connections are closed and reopened.
    `FileFacts` are kept per file signature. Thread-safe; each connection serves one
    thread at a time."""

    def __init__(self, *, slow_ms: float = 500, timeout: float = QUERY_TIMEOUT_S, keep: int = 4) -> None:
        self.slow_ms = slow_ms
        self.timeout = timeout
        self.keep = keep
        self._lock = threading.Lock()
        self._idle: dict[Path, tuple[tuple[int, int] | None, list[sqlite3.Connection]]] = {}
        self._facts: dict[Path, tuple[tuple, FileFacts]] = {}

    def _checkout(self, path: Path) -> sqlite3.Connection:
        identity = _identity(path)
        with self._lock:
            known, idle = self._idle.get(path, (None, []))
            if known != identity:
                stale, idle = idle, []
                self._idle[path] = (identity, idle)
            else:
                stale = []
            conn = idle.pop() if idle else None
        for old in stale:
            old.close()
        if conn is not None:
            return conn
        try:
            return connect_ro(path)
        except sqlite3.OperationalError as exc:
            raise ProductionUnavailable(f"Cannot open {path}: {exc}.",
                                        remedy="Check that the file exists and is readable by this user.") from None

    def _checkin(self, path: Path, conn: sqlite3.Connection, *, healthy: bool) -> None:
        with self._lock:
            known, idle = self._idle.get(path, (None, []))
            if healthy and known == _identity(path) and len(idle) < self.keep and not conn.in_transaction:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), {}
        for _, idle in pools:
            for conn in idle:
                conn.close()

    def facts(self, path: Path, conn: sqlite3.Connection) -> FileFacts:
        """The file's facts, read once per signature (call inside `read`'s function)."""
        signature = file_signature(path)
        with self._lock:
            cached = self._facts.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        facts = read_facts(conn)
        with self._lock:
            self._facts[path] = (signature, facts)
        return facts

    def read(self, path: Path, fn: Callable[[sqlite3.Connection], T], *, label: str) -> T:
        """Run `fn(conn)` on a read-only connection to `path` (blocking: call in a thread).

        Retries a locked file a few times, interrupts a query that runs past the timeout,
        and logs `SLOW QUERY` above `slow_ms`."""
        delay = 0.1
        for attempt in range(LOCK_RETRIES + 1):
            started = time.perf_counter()
            conn = self._checkout(path)
            # A progress handler, not a timer thread per query: it costs nothing to arm.
            deadline = time.monotonic() + self.timeout
            conn.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_EVERY)
            healthy = False
            try:
                result = fn(conn)
                healthy = True
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc).lower():
                    healthy = True
                    raise QueryTimeout(f"The query {label} on {path.name} ran past {self.timeout:.0f} s and was stopped.",
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
                conn.set_progress_handler(None, 0)
                self._checkin(path, conn, healthy=healthy)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if elapsed_ms > self.slow_ms:
                log.warning("SLOW QUERY %.0f ms %s on %s", elapsed_ms, label, path.name)
            return result
        raise locked_error(path)  # unreachable; keeps type checkers calm


def read(path: Path, fn: Callable[[sqlite3.Connection], T], *, label: str, slow_ms: float,
         timeout: float = QUERY_TIMEOUT_S) -> T:
    """`FileReader.read` on a connection of its own, closed afterwards (one-off readers: the rollup build)."""
    reader = FileReader(slow_ms=slow_ms, timeout=timeout, keep=0)
    return reader.read(path, fn, label=label)


def locked_error(path: Path) -> ProductionLocked:
    # The seed's checklist (7.1): the ERP may be writing; a large WAL wants a checkpoint.
    return ProductionLocked(
        f"{path.name} is locked: another program (the ERP) is writing to it.",
        remedy=f"Wait a moment and retry (r). If it stays locked, check the size of {path.name}-wal "
        "and run a WAL checkpoint from the Maintenance screen.",
    )
