"""The monthly rollup: per source file, per month, per item, the summed quantity.

A year's monthly totals over millions of raw rows cost a scan of the year; from the
rollup they cost a few hundred rows. The rollup lives in jumpdeck's own file
(`<home>/cache/production_rollup.db`), never in the ERP's DB, and remembers the
signature (mtime, size of the DB and its WAL) of the file it summed. A source whose
signature moved is stale: queries ignore its rollup and read raw rows until
`refresh_rollups(config)` (the DB watcher calls it) rebuilds it.

`refresh_rollups` is idempotent and cheap when nothing changed: one `stat` per file.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from jumpdeck.core.config import Config
from jumpdeck.core.production import source
from jumpdeck.core.production.schema import TABLE, archive_db_path, archive_years, live_db_path
from jumpdeck.core.private_files import make_private, private_dir, touch_private

log = logging.getLogger("jumpdeck.production")

_DDL = (
    "CREATE TABLE IF NOT EXISTS sources (name TEXT PRIMARY KEY, signature TEXT NOT NULL, built_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS monthly (name TEXT NOT NULL, month TEXT NOT NULL, item_code TEXT NOT NULL, "
    "item_name TEXT NOT NULL, quantity INTEGER NOT NULL, rows INTEGER NOT NULL, PRIMARY KEY (name, month, item_code))",
)


@dataclass(frozen=True)
class RefreshResult:
    rebuilt: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    seconds: float


def rollup_path(config: Config) -> Path:
    return config.home / "cache" / "production_rollup.db"


def _open(config: Config) -> sqlite3.Connection:
    path = rollup_path(config)
    private_dir(path.parent)
    touch_private(path)  # the sums name items and quantities: 0600, and its WAL with it
    make_private(path)
    conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    for ddl in _DDL:
        conn.execute(ddl)
    return conn


def _sources(config: Config) -> list[Path]:
    paths = [archive_db_path(config, y) for y in archive_years(config)] + [live_db_path(config)]
    return [p for p in paths if p.exists()]


def _sig_text(path: Path) -> str:
    return repr(source.file_signature(path))


def _summarize(path: Path) -> list[tuple]:
    # One full scan of the file; it runs only when the file changed.
    def scan(conn: sqlite3.Connection) -> list[tuple]:
        return conn.execute(
            f"SELECT substr(production_date, 1, 7), item_code, max(item_name), sum(good_quantity), count(*) "
            f"FROM {TABLE} GROUP BY 1, 2"
        ).fetchall()

    return source.read(path, scan, label="rollup build", slow_ms=float("inf"))


def refresh_rollups(config: Config) -> RefreshResult:
    """Rebuild the rollup of every production file whose signature changed; drop those of
    files that are gone. Blocking (run it in a thread); safe to call as often as you like."""
    started = time.perf_counter()
    rebuilt, unchanged, removed = [], [], []
    conn = _open(config)
    try:
        known = dict(conn.execute("SELECT name, signature FROM sources").fetchall())
        present = _sources(config)
        for path in present:
            before = _sig_text(path)
            if known.get(path.name) == before:
                unchanged.append(path.name)
                continue
            rows = _summarize(path)
            if _sig_text(path) != before:
                # Written while we read: leave it stale; the next refresh tries again.
                log.info("Rollup of %s skipped: the file changed while it was read", path.name)
                continue
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM monthly WHERE name = ?", (path.name,))
            conn.executemany("INSERT INTO monthly VALUES (?, ?, ?, ?, ?, ?)", [(path.name, *r) for r in rows])
            conn.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", (path.name, before, time.time()))
            conn.execute("COMMIT")
            rebuilt.append(path.name)
            log.info("Rollup of %s rebuilt: %d month-item rows", path.name, len(rows))
        for name in set(known) - {p.name for p in present}:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM monthly WHERE name = ?", (name,))
            conn.execute("DELETE FROM sources WHERE name = ?", (name,))
            conn.execute("COMMIT")
            removed.append(name)
    finally:
        conn.close()
    return RefreshResult(tuple(rebuilt), tuple(unchanged), tuple(sorted(removed)), time.perf_counter() - started)


class RollupReader:
    """Read side used by the query layer; one short connection per call (threads)."""

    def __init__(self, config: Config) -> None:
        self.path = rollup_path(config)
        self.config = config

    def _connect(self) -> sqlite3.Connection | None:
        if not self.path.exists():
            return None
        from urllib.parse import quote

        return sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, timeout=1, check_same_thread=False)

    def is_valid(self, conn: sqlite3.Connection, path: Path) -> bool:
        row = conn.execute("SELECT signature FROM sources WHERE name = ?", (path.name,)).fetchone()
        return row is not None and row[0] == _sig_text(path)

    def query(self, path: Path, sql: str, params: tuple) -> list[tuple] | None:
        """Rows of `sql` over `monthly` for this source, or None when its rollup is stale or missing.
        `sql` must filter on `name = ?` first; `params` follow the name."""
        try:
            conn = self._connect()
        except sqlite3.Error:
            return None
        if conn is None:
            return None
        try:
            if not self.is_valid(conn, path):
                return None
            return conn.execute(sql, (path.name, *params)).fetchall()
        except sqlite3.Error as exc:
            log.info("Rollup unavailable (%s); reading raw rows", exc)
            return None
        finally:
            conn.close()
