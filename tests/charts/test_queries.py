"""Every figure equals plain SQL over the files, inside one file and across the cutoff,
with and without the rollup."""

import shutil
import sqlite3

import pytest

from jumpdeck.core.production.generate import generate
from jumpdeck.core.production.models import DateRange, ProductionLocked, ProductionUnavailable
from jumpdeck.core.production.queries import ProductionData
from jumpdeck.core.production.rollup import refresh_rollups
from jumpdeck.core.production.schema import archive_db_path, live_db_path

from .conftest import direct_sum

RANGES = [
    ("2026-01-01", "2026-12-31"),  # one file, whole year
    ("2026-03-17", "2026-07-04"),  # one file, partial months at both ends
    ("2025-11-20", "2026-02-10"),  # across the cutoff, partial edges
    ("2025-01-01", "2026-12-31"),  # both files whole
    ("2025-06-05", "2025-06-05"),  # a single day in the archive
    ("2026-02-01", "2026-11-30"),  # most of one file: top-N scans it with a WHERE
]


def _files(config):
    return [archive_db_path(config, 2025), live_db_path(config)]


@pytest.fixture(params=[(False, 1), (True, 1), (False, 3)], ids=["raw", "rollup", "raw-in-3-pieces"])
def data(two_years, request):
    rollup, parallel = request.param
    if rollup:
        refresh_rollups(two_years)
    return ProductionData(two_years, use_rollup=rollup, parallel=parallel)


@pytest.mark.parametrize("lo,hi", RANGES)
async def test_monthly_totals_equal_sql(data, lo, hi):
    months = await data.monthly_totals(DateRange.parse(lo, hi))
    expected = direct_sum(_files(data.config), lo, hi, group="month")
    assert {m.month: m.quantity for m in months if m.quantity} == expected
    assert sum(m.quantity for m in months) == direct_sum(_files(data.config), lo, hi)[""]


@pytest.mark.parametrize("lo,hi", RANGES)
async def test_one_item_monthly_and_daily_equal_sql(data, lo, hi):
    rng = DateRange.parse(lo, hi)
    months = await data.monthly_totals(rng, "MD0001")
    assert {m.month: m.quantity for m in months if m.quantity} == direct_sum(_files(data.config), lo, hi, item="MD0001", group="month")
    days = await data.daily_totals(rng)
    assert {d.day: d.quantity for d in days if d.quantity} == direct_sum(_files(data.config), lo, hi, group="day")
    assert days[0].day == lo and days[-1].day == hi


@pytest.mark.parametrize("lo,hi", RANGES)
async def test_top_items_and_trends_equal_sql(data, lo, hi):
    rng = DateRange.parse(lo, hi)
    per_item = direct_sum(_files(data.config), lo, hi, group="item")
    top = await data.top_items(rng, 5)
    expected = sorted(per_item.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [(t.item.code, t.quantity) for t in top] == expected
    assert all(t.item.name for t in top)
    trends = await data.item_trends(["BW0002", "TR0001"], rng)
    assert [t.item.code for t in trends] == ["BW0002", "TR0001"]
    for trend in trends:
        expected_months = direct_sum(_files(data.config), lo, hi, item=trend.item.code, group="month")
        assert {m.month: m.quantity for m in trend.months if m.quantity} == expected_months


async def test_items_and_lot_lookup(data):
    items = await data.items()
    conn = sqlite3.connect(live_db_path(data.config))
    codes = {r[0] for r in conn.execute("SELECT DISTINCT item_code FROM production_records")}
    lot, count = conn.execute("SELECT lot_number, count(*) FROM production_records GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    conn.close()
    assert codes <= {i.code for i in items}
    assert [i.code for i in items] == sorted(i.code for i in items)
    records = await data.find_lot(lot)
    assert len(records) == count and {r.lot_number for r in records} == {lot}
    assert records[0].source == "production_analysis.db"


async def test_rollover_checks_of_the_seed(config):
    """Seed §8 step 9: after the 2026 -> 2027 rollover, a 2026 range and a 2027 range."""
    generate(config, rows=8_000, years=(2026, 2027), seed=5)
    files = [archive_db_path(config, 2026), live_db_path(config)]
    data = ProductionData(config)
    for lo, hi in (("2026-01-01", "2026-12-31"), ("2027-01-01", "2027-01-31")):
        months = await data.monthly_totals(DateRange.parse(lo, hi))
        assert sum(m.quantity for m in months) == direct_sum(files, lo, hi)[""] > 0


async def test_mid_rollover_copy_is_not_counted_twice(config):
    """Seed §8 step 3 copies the live DB to archive_2026.db before the new live DB exists:
    with the cutoff still 2026, 2026 must be counted once."""
    generate(config, rows=6_000, years=(2025, 2026), seed=5)
    shutil.copy(live_db_path(config), archive_db_path(config, 2026))
    data = ProductionData(config, cutoff_year=2026)
    months = await data.monthly_totals(DateRange.parse("2025-01-01", "2026-12-31"))
    expected = direct_sum([archive_db_path(config, 2025), live_db_path(config)], "2025-01-01", "2026-12-31")[""]
    assert sum(m.quantity for m in months) == expected


async def test_no_database_is_reported_with_a_remedy(config):
    with pytest.raises(ProductionUnavailable) as info:
        await ProductionData(config).monthly_totals(DateRange.parse("2026-01-01", "2026-01-31"))
    assert "demo-data" in str(info.value)


async def test_locked_database_is_retried_then_reported(two_years, monkeypatch):
    from jumpdeck.core.production import source

    monkeypatch.setattr(source, "LOCK_RETRIES", 1)
    writer = sqlite3.connect(live_db_path(two_years), isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # what the ERP holds while it writes (rollback journal)
    try:
        with pytest.raises(ProductionLocked) as info:
            await ProductionData(two_years).monthly_totals(DateRange.parse("2026-01-01", "2026-01-31"))
        assert "checkpoint" in str(info.value)
        # The archive alone is still readable.
        months = await ProductionData(two_years).monthly_totals(DateRange.parse("2025-01-01", "2025-01-31"))
        assert months[0].quantity > 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()


async def test_slow_queries_are_logged(two_years, caplog):
    caplog.set_level("WARNING", logger="jumpdeck.production")
    await ProductionData(two_years, slow_query_ms=0, use_rollup=False).monthly_totals(DateRange.parse("2026-01-01", "2026-03-31"))
    assert any("SLOW QUERY" in r.getMessage() for r in caplog.records)


async def test_connections_are_read_only(two_years):
    from jumpdeck.core.production import source

    conn = source.connect_ro(live_db_path(two_years))
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM production_records")
    conn.close()


# ------------------------------------------------------------ access paths and the pool


def _plan(config, sql, params):
    conn = sqlite3.connect(live_db_path(config))
    try:
        return " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    finally:
        conn.close()


def test_facts_are_the_files_span_and_indexes(two_years):
    from jumpdeck.core.production import source

    conn = source.connect_ro(live_db_path(two_years))
    facts = source.read_facts(conn)
    conn.close()
    assert (facts.first_day.isoformat(), facts.last_day.isoformat()) == ("2026-01-01", "2026-12-31")
    assert {"idx_production_date", "idx_item_date"} <= facts.indexes
    assert facts.covers("2026-01-01", "2027-01-01") and not facts.covers("2026-01-02", "2027-01-01")
    assert facts.share("2026-01-01", "2026-02-01") == 31 / 365
    assert facts.share("2025-01-01", "2030-01-01") == 1.0


@pytest.mark.parametrize("lo,hi,path", [
    ("2026-04-01", "2026-07-01", "USING INDEX idx_production_date"),  # a quarter: the index skips 3/4
    ("2026-02-01", "2026-12-01", "SCAN production_records"),  # most of the file: a scan
    ("2026-01-01", "2027-01-01", "SCAN production_records"),  # all of it: a scan with no WHERE
])
def test_top_n_access_path_follows_the_share_of_the_file(two_years, lo, hi, path):
    from jumpdeck.core.production import source
    from jumpdeck.core.production.queries import item_sums_sql

    conn = source.connect_ro(live_db_path(two_years))
    facts = source.read_facts(conn)
    conn.close()
    sql, params = item_sums_sql(facts, lo, hi)
    plan = _plan(two_years, sql, params)
    assert path in plan and "USING INDEX idx_item" not in plan
    assert ("WHERE" in sql) == (not facts.covers(lo, hi))


async def test_a_missing_index_never_breaks_a_query(two_years):
    """INDEXED BY names only indexes the file has (the watcher heals the others later)."""
    conn = sqlite3.connect(live_db_path(two_years))
    conn.execute("DROP INDEX idx_production_date")
    conn.commit()
    conn.close()
    data = ProductionData(two_years, use_rollup=False)
    lo, hi = "2026-04-01", "2026-06-30"
    top = await data.top_items(DateRange.parse(lo, hi), 3)
    per_item = direct_sum(_files(two_years), lo, hi, group="item")
    assert [(t.item.code, t.quantity) for t in top] == sorted(per_item.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    months = await data.monthly_totals(DateRange.parse(lo, hi))
    assert sum(m.quantity for m in months) == direct_sum(_files(two_years), lo, hi)[""]


async def test_pooled_connections_follow_a_replaced_file(two_years, tmp_path):
    """A restore or the rollover puts another file under the name: the pooled connection
    to the old one must not answer."""
    import os

    data = ProductionData(two_years, use_rollup=False)
    rng = DateRange.parse("2026-01-01", "2026-12-31")
    before = sum(m.quantity for m in await data.monthly_totals(rng))
    other = tmp_path / "other"
    generate(replace_home(two_years, other), rows=4_000, years=(2025, 2026), seed=11)
    os.replace(live_db_path(replace_home(two_years, other)), live_db_path(two_years))
    data.invalidate()
    after = sum(m.quantity for m in await data.monthly_totals(rng))
    assert after == direct_sum([live_db_path(two_years)], "2026-01-01", "2026-12-31")[""] != before
    data.close()


def replace_home(config, home):
    from dataclasses import replace

    return replace(config, home=home)


async def test_a_query_past_the_timeout_is_stopped(two_years):
    from jumpdeck.core.production.models import QueryTimeout

    data = ProductionData(two_years, use_rollup=False, parallel=1)  # one query long enough to be stopped
    data.reader.timeout = 0
    with pytest.raises(QueryTimeout) as info:
        await data.daily_totals(DateRange.parse("2026-01-01", "2026-12-31"))
    assert "Narrow the date range" in str(info.value)
    data.reader.timeout = 60
    assert len(await data.daily_totals(DateRange.parse("2026-01-01", "2026-01-31"))) == 31


def test_month_pieces_cut_a_range_at_each_first_of_a_month():
    from jumpdeck.core.production.queries import month_pieces

    assert month_pieces("2026-01-20", "2026-03-05") == [("2026-01-20", "2026-02-01"), ("2026-02-01", "2026-03-01"),
                                                        ("2026-03-01", "2026-03-05")]
    assert month_pieces("2026-12-01", "2027-01-01") == [("2026-12-01", "2027-01-01")]
    assert month_pieces("2026-05-05", "2026-05-05") == []


async def test_lot_lookup_scans_without_an_index_and_seeks_with_one(two_years, monkeypatch):
    """No index on lot_number in the seed: a full-file lookup scans (never walks the date index
    over every row); a site that added one gets a seek."""
    from jumpdeck.core.production import source

    conn = sqlite3.connect(live_db_path(two_years))
    lot, count = conn.execute("SELECT lot_number, count(*) FROM production_records "
                              "WHERE production_date >= '2026-03-01' GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    conn.close()
    statements: list[str] = []
    data = ProductionData(two_years)
    original = source.connect_ro

    def traced(path):
        c = original(path)
        c.set_trace_callback(statements.append)
        return c

    monkeypatch.setattr(source, "connect_ro", traced)
    try:
        records = await data.find_lot(lot)
        assert len(records) == count and {r.lot_number for r in records} == {lot}
        lookups = [s for s in statements if "lot_number = " in s]
        assert lookups and all("NOT INDEXED" in s and "production_date >=" not in s for s in lookups)

        writer = sqlite3.connect(live_db_path(two_years))
        writer.execute("CREATE INDEX site_lot ON production_records(lot_number)")
        writer.commit()
        writer.close()
        statements.clear()
        data.invalidate()
        assert len(await data.find_lot(lot)) == count
        live = [s for s in statements if "lot_number = " in s and "NOT INDEXED" not in s]
        assert live, "the live file has an index on lot_number: no NOT INDEXED there"
    finally:
        data.close()


def test_range_parts_cover_the_range_in_month_aligned_pieces():
    from jumpdeck.core.production.queries import range_parts

    assert range_parts("2026-03-17", "2026-03-30", 4) == [("2026-03-17", "2026-03-30")]
    assert range_parts("2026-01-01", "2027-01-01", 1) == [("2026-01-01", "2027-01-01")]
    assert range_parts("2026-01-01", "2027-01-01", 2) == [("2026-01-01", "2026-07-01"), ("2026-07-01", "2027-01-01")]
    parts = range_parts("2026-01-20", "2026-04-05", 3)  # 4 month pieces in 3 parts
    assert parts == [("2026-01-20", "2026-02-01"), ("2026-02-01", "2026-04-01"), ("2026-04-01", "2026-04-05")]
    parts = range_parts("2026-01-20", "2026-12-05", 5)
    assert parts[0][0] == "2026-01-20" and parts[-1][1] == "2026-12-05" and len(parts) <= 5
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))  # no gap, no overlap
