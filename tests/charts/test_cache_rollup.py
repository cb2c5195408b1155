"""The query cache (hit, miss, invalidation on change, TTL, size) and the monthly rollup
(always equal to the raw sums; stale after a change, rebuilt by refresh_rollups)."""

import os
import sqlite3

from jumpdeck.core.production.cache import MISS, TTLCache
from jumpdeck.core.production.models import DateRange
from jumpdeck.core.production.queries import ProductionData
from jumpdeck.core.production.rollup import RollupReader, refresh_rollups
from jumpdeck.core.production.schema import live_db_path

from .conftest import direct_sum

YEAR = DateRange.parse("2026-01-01", "2026-12-31")


def _append(config, day="2026-05-05", qty=1_000_000, item="BW0001"):
    """What the ERP does: a new row in the live DB."""
    conn = sqlite3.connect(live_db_path(config))
    conn.execute("INSERT INTO production_records(production_date, lot_number, item_code, item_name, good_quantity) "
                 "VALUES (?, 'LX', ?, 'x', ?)", (day, item, qty))
    conn.commit()
    conn.close()


async def test_hit_then_miss_after_the_file_changes(two_years):
    data = ProductionData(two_years)
    first = await data.monthly_totals(YEAR)
    again = await data.monthly_totals(YEAR)
    stats = data.cache_stats()
    assert again is first and (stats.hits, stats.misses) == (1, 1)

    _append(two_years)
    changed = await data.monthly_totals(YEAR)
    stats = data.cache_stats()
    assert stats.misses == 2 and stats.invalidations == 1
    may = {m.month: m.quantity for m in changed}["2026-05"]
    assert may == {m.month: m.quantity for m in first}["2026-05"] + 1_000_000


async def test_invalidate_is_the_watchers_signal(two_years):
    data = ProductionData(two_years)
    await data.monthly_totals(YEAR)
    data.invalidate()
    await data.monthly_totals(YEAR)
    assert data.cache_stats().misses == 2 and data.cache_stats().hits == 0


def test_ttl_and_size_limits():
    now = [0.0]
    cache = TTLCache(maxsize=2, ttl=10, clock=lambda: now[0])
    cache.put("a", 1, "A")
    cache.put("b", 1, "B")
    assert cache.get("a", 1) == "A"
    cache.put("c", 1, "C")  # evicts the least recently used: b
    assert cache.get("b", 1) is MISS and cache.get("a", 1) == "A"
    now[0] = 11
    assert cache.get("a", 1) is MISS
    assert cache.get("c", 2) is MISS  # another signature never answers
    assert TTLCache(maxsize=0).stats().size == 0


def _rollup_rows(config):
    conn = sqlite3.connect(RollupReader(config).path)
    rows = {(m, c): q for m, c, q in conn.execute("SELECT month, item_code, sum(quantity) FROM monthly GROUP BY 1, 2")}
    conn.close()
    return rows


def _raw_rows(config):
    from jumpdeck.core.production.schema import archive_db_path

    out = {}
    for path in (archive_db_path(config, 2025), live_db_path(config)):
        conn = sqlite3.connect(path)
        for m, c, q in conn.execute("SELECT substr(production_date,1,7), item_code, sum(good_quantity) "
                                    "FROM production_records GROUP BY 1, 2"):
            out[(m, c)] = out.get((m, c), 0) + q
        conn.close()
    return out


async def test_rollup_equals_raw_sums_and_follows_changes(two_years):
    first = refresh_rollups(two_years)
    assert set(first.rebuilt) == {"archive_2025.db", "production_analysis.db"}
    assert _rollup_rows(two_years) == _raw_rows(two_years)
    assert refresh_rollups(two_years).rebuilt == ()  # idempotent, nothing changed
    reader = RollupReader(two_years)
    assert reader.query(live_db_path(two_years), "SELECT count(*) FROM monthly WHERE name = ?", ())[0][0] > 0

    _append(two_years, day="2026-02-14", qty=777)
    # Stale now: the query layer must not use it, and its answer still equals raw SQL.
    assert reader.query(live_db_path(two_years), "SELECT 1 FROM monthly WHERE name = ?", ()) is None
    months = await ProductionData(two_years).monthly_totals(YEAR)
    assert {m.month: m.quantity for m in months} == direct_sum([live_db_path(two_years)], "2026-01-01", "2026-12-31", group="month")

    second = refresh_rollups(two_years)
    assert second.rebuilt == ("production_analysis.db",) and second.unchanged == ("archive_2025.db",)
    assert _rollup_rows(two_years) == _raw_rows(two_years)


def test_rollup_forgets_removed_files(two_years):
    from jumpdeck.core.production.schema import archive_db_path

    refresh_rollups(two_years)
    os.remove(archive_db_path(two_years, 2025))
    result = refresh_rollups(two_years)
    assert result.removed == ("archive_2025.db",)
    assert _rollup_rows(two_years) == {k: v for k, v in _raw_rows_live(two_years).items()}


def _raw_rows_live(config):
    conn = sqlite3.connect(live_db_path(config))
    out = {(m, c): q for m, c, q in conn.execute("SELECT substr(production_date,1,7), item_code, sum(good_quantity) "
                                                 "FROM production_records GROUP BY 1, 2")}
    conn.close()
    return out
