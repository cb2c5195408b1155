"""Generated production DBs for the charts tests, and a direct-SQL oracle to check sums."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jumpdeck.core.production.generate import generate


@pytest.fixture
def two_years(config):
    """20,000 rows over 2025 (archive_2025.db) and 2026 (live)."""
    generate(config, rows=20_000, years=(2025, 2026), seed=3)
    return config


def direct_sum(paths: list[Path], lo: str, hi: str, *, item: str | None = None, group: str | None = None):
    """Plain SQL over the files, no jumpdeck code: the oracle every query is checked against."""
    select = {None: "''", "month": "substr(production_date, 1, 7)", "day": "production_date", "item": "item_code"}[group]
    totals: dict[str, int] = {}
    for path in paths:
        conn = sqlite3.connect(path)
        try:
            sql = (f"SELECT {select}, sum(good_quantity) FROM production_records "
                   "WHERE production_date BETWEEN ? AND ?" + (" AND item_code = ?" if item else "") + " GROUP BY 1")
            for key, qty in conn.execute(sql, (lo, hi, *([item] if item else []))):
                totals[key] = totals.get(key, 0) + qty
        finally:
            conn.close()
    return totals
