"""Small sqlite3 helpers shared by backup, restore, watcher, rollover and the checks."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from jumpdeck.core.config import Config
from jumpdeck.core.production import schema

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves) with a busy timeout."""
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def check(path: Path, pragma: str = "quick_check") -> str:
    """'ok' or the first problem `PRAGMA quick_check|integrity_check` reports."""
    conn = connect(path, readonly=True)
    try:
        rows = conn.execute(f"PRAGMA {pragma}").fetchall()
    except sqlite3.DatabaseError as exc:
        return f"not a readable database ({exc})"
    finally:
        conn.close()
    text = "; ".join(str(r[0]) for r in rows[:5])
    return "ok" if text == "ok" else text


def count_rows(path: Path, where: str = "", params: tuple = ()) -> int:
    conn = connect(path, readonly=True)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {schema.TABLE} {where}", params).fetchone()[0]
    finally:
        conn.close()


def unreadable(exc: sqlite3.Error) -> str:
    """A sqlite3 error on a production file, said as what it means for the operator."""
    text = str(exc)
    if "not a database" in text:
        return "not a SQLite database"
    if "no such table" in text:
        return f"a SQLite database without the {schema.TABLE} table (another program's file?)"
    return f"cannot be read ({text})"


def side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def is_wal(path: Path) -> bool:
    """Whether the file's header says WAL (bytes 18-19 = 2), read without opening it as a DB."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def wal_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def fsync_path(path: Path) -> None:
    """fsync a file's data, or (for a directory) make a rename in it durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


fsync_dir = fsync_path


@dataclass(frozen=True)
class ProductionFile:
    """One production DB file: the live one, or an archive year."""

    label: str  # "live" or "archive 2025"
    path: Path
    year: int | None = None


def production_files(config: Config) -> list[ProductionFile]:
    """The live DB (if present) and every archive, oldest archive first."""
    files = []
    live = schema.live_db_path(config)
    if live.exists():
        files.append(ProductionFile("live", live))
    for year in schema.archive_years(config):
        files.append(ProductionFile(f"archive {year}", schema.archive_db_path(config, year), year))
    return files


def checkpoint(path: Path, mode: str = "TRUNCATE") -> tuple[int, int, int]:
    """(busy, wal pages, checkpointed pages) of `PRAGMA wal_checkpoint(mode)`."""
    conn = connect(path)
    try:
        return tuple(conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone())  # type: ignore[return-value]
    finally:
        conn.close()
