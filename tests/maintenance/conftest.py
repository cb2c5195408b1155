"""Small production datasets built directly with the shared schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jumpdeck.core.production import schema


def fill(path: Path, rows_per_year: dict[int, int], *, wal: bool = True, start_id: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    schema.create_schema(conn)
    rows = []
    i = start_id
    for year, n in rows_per_year.items():
        for k in range(n):
            rows.append((i, f"{year}-{k % 12 + 1:02d}-{k % 28 + 1:02d}", f"LOT{i}", f"BW{k % 17:04d}", f"item {k % 17}", k % 100))
            i += 1
    conn.executemany(f"INSERT INTO {schema.TABLE} VALUES (?,?,?,?,?,?)", rows)
    conn.commit()
    conn.close()


def all_rows(config) -> list[tuple]:
    """Every (id, date, lot) over the live DB and every archive, duplicates kept."""
    out = []
    paths = [schema.live_db_path(config)] + [schema.archive_db_path(config, y) for y in schema.archive_years(config)]
    for path in paths:
        if path.exists():
            conn = sqlite3.connect(path)
            out += conn.execute(f"SELECT id, production_date, lot_number FROM {schema.TABLE}").fetchall()
            conn.close()
    return sorted(out)


@pytest.fixture
def live(config) -> Path:
    path = schema.live_db_path(config)
    fill(path, {2025: 300, 2026: 200})
    return path
