"""The production figures the Charts screen and `jumpdeck report` show (seed 003's API):
monthly totals, daily totals, item trends, top-N items, the item list and a lot lookup.

    data = await ProductionData.from_context(ctx)
    months = await data.monthly_totals(DateRange.parse("2026-01-01", "2026-12-31"))

Every query is split by file (`source.plan_segments`): a range that crosses the archive
cutoff reads both files and merges the sums. Each segment runs in a thread on a pooled
read-only connection (`source.FileReader`). WHERE clauses are ranges on `production_date`
(and `item_code`), never functions of a column, and the access path is chosen per question
from the file's facts (its date span, its indexes), never by timing: day sums walk the
date index (or idx_item_date for items), top-N walks the date index for a small share of
the file and scans it for a large one. Whole months come from the monthly rollup when it
is current. Results are cached (TTL + LRU) under the files'
signature, so a changed file is never answered from the cache.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Callable, Sequence

from jumpdeck.core.config import Config
from jumpdeck.core.production import source
from jumpdeck.core.production.cache import MISS, CacheStats, TTLCache
from jumpdeck.core.production.models import DateRange, DayTotal, Item, ItemTrend, LotRecord, MonthTotal, TopItem
from jumpdeck.core.production.rollup import RollupReader
from jumpdeck.core.production.schema import TABLE

if TYPE_CHECKING:
    import sqlite3

    from jumpdeck.core.context import Context

MAX_THREADS = 4
MAX_ITEMS_PER_TREND = 12
# Top-N over a share of a file's days at or above this scans the table instead of walking the
# date index. Both feed the same GROUP BY sorter; the index wins while it skips enough rows.
# Measured on 2.5M rows (bench/charts.py, CPU time, medians of 5): 1 month 121 ms index / 256 ms
# scan, 3 months 375 / 428, 6 months 810 / 816, 9 months 1229 / 1263, 12 months 1590 / 1497.
SCAN_SHARE = 0.6


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def months_between(start: date, end: date) -> list[str]:
    """'YYYY-MM' of every month touched by [start, end] (inclusive)."""
    out, cur = [], date(start.year, start.month, 1)
    while cur <= end:
        out.append(cur.strftime("%Y-%m"))
        cur = _next_month(cur)
    return out


def month_pieces(lo: str, hi: str) -> list[tuple[str, str]]:
    """[lo, hi) cut at every first of a month: [('2026-01-20', '2026-02-01'), ('2026-02-01', ...), ...]."""
    d_lo, d_hi = date.fromisoformat(lo), date.fromisoformat(hi)
    out = []
    while d_lo < d_hi:
        cut = min(_next_month(d_lo), d_hi)
        out.append((d_lo.isoformat(), cut.isoformat()))
        d_lo = cut
    return out


def range_parts(lo: str, hi: str, parts: int) -> list[tuple[str, str]]:
    """[lo, hi) as up to `parts` consecutive pieces cut at firsts of months (whole when it
    lies within one month), for reading one file on several connections at once."""
    pieces = month_pieces(lo, hi)
    if parts < 2 or len(pieces) < 2:
        return [(lo, hi)]
    count = min(parts, len(pieces))
    cuts = [round(i * len(pieces) / count) for i in range(count + 1)]
    return [(pieces[a][0], pieces[b - 1][1]) for a, b in zip(cuts, cuts[1:])]


def split_months(lo: str, hi: str) -> tuple[tuple[str, str] | None, list[tuple[str, str]]]:
    """Split the date range [lo, hi) into whole months (as a 'YYYY-MM' range [m_lo, m_hi))
    and the partial edges (date ranges) that must be read raw."""
    d_lo, d_hi = date.fromisoformat(lo), date.fromisoformat(hi)
    full_lo = d_lo if d_lo.day == 1 else _next_month(d_lo)
    full_hi = date(d_hi.year, d_hi.month, 1)
    if full_lo >= full_hi:
        return None, [(lo, hi)]
    edges = []
    if d_lo < full_lo:
        edges.append((lo, full_lo.isoformat()))
    if full_hi < d_hi:
        edges.append((full_hi.isoformat(), hi))
    return (full_lo.strftime("%Y-%m"), full_hi.strftime("%Y-%m")), edges


def _in(codes: Sequence[str]) -> str:
    return ",".join("?" * len(codes))


def _indexed_by(facts: source.FileFacts, index: str) -> str:
    """Pin the plan to `index` when the file has it (INDEXED BY fails on a missing one,
    and an ANALYZE by the watcher must not move the plan to a worse index)."""
    return f" INDEXED BY {index}" if index in facts.indexes else ""


def date_access(facts: source.FileFacts, lo: str, hi: str) -> tuple[str, bool]:
    """(access hint, whether a WHERE on the date is needed) for reading the rows of [lo, hi)
    from one file: the date index for a small share of its days, a table scan
    (`NOT INDEXED`) for a large one, and a scan with no date filter when the range holds
    every row. Decided from the file's facts, never by timing."""
    if facts.covers(lo, hi):
        return " NOT INDEXED", False
    share = facts.share(lo, hi)
    if share is not None and share < SCAN_SHARE:
        return _indexed_by(facts, "idx_production_date"), True
    return " NOT INDEXED", True


def item_sums_sql(facts: source.FileFacts, lo: str, hi: str) -> tuple[str, tuple[str, ...]]:
    """The statement summing each item over [lo, hi) in one file, on `date_access`'s path."""
    path, bounded = date_access(facts, lo, hi)
    where, params = (" WHERE production_date >= ? AND production_date < ?", (lo, hi)) if bounded else ("", ())
    return f"SELECT item_code, sum(good_quantity) FROM {TABLE}{path}{where} GROUP BY item_code", params


class ProductionData:
    """Read-only access to the live and archive production DBs of one data dir."""

    def __init__(self, config: Config, *, cutoff_year: int | None = None, cache_size: int = 200,
                 cache_ttl: float = 300, slow_query_ms: float = 500, use_rollup: bool = True,
                 max_threads: int = MAX_THREADS, parallel: int | None = None) -> None:
        self.config = config
        self.cutoff_year = cutoff_year
        self.slow_query_ms = slow_query_ms
        self.cache = TTLCache(cache_size, cache_ttl)
        self.rollup = RollupReader(config) if use_rollup else None
        self._threads = asyncio.Semaphore(max_threads)
        # A range of several months in one file is read as that many pieces at once, each
        # on its own read-only connection (SQLite works outside the GIL): on a 2-core
        # machine a year's totals take about half the time of the best single query.
        import os

        self.parallel = parallel if parallel is not None else max(1, min(max_threads, os.cpu_count() or 1))
        self.reader = source.FileReader(slow_ms=slow_query_ms, keep=max_threads)

    @classmethod
    async def from_context(cls, ctx: Context, **overrides: Any) -> ProductionData:
        """Sized and tuned by the settings (cache_size, cache_ttl, slow_query_ms, archive_cutoff_year)."""
        settings = await ctx.settings.get()
        options = dict(cutoff_year=settings.get("archive_cutoff_year"), cache_size=settings.get("cache_size"),
                       cache_ttl=settings.get("cache_ttl"), slow_query_ms=settings.get("slow_query_ms"))
        options.update(overrides)
        return cls(ctx.config, **options)

    # -- plumbing ---------------------------------------------------------------------

    def invalidate(self) -> None:
        """Drop every cached answer (the DB watcher's signal that a file changed)."""
        self.cache.clear()

    def close(self) -> None:
        """Close the pooled connections (they reopen on the next query)."""
        self.reader.close()

    def cache_stats(self) -> CacheStats:
        return self.cache.stats()

    def signature(self) -> tuple:
        return (self.cutoff_year, source.data_signature(self.config))

    async def _cached(self, key: tuple, compute: Callable[[list[source.Segment]], Any]) -> Any:
        signature = self.signature()
        hit = self.cache.get(key, signature)
        if hit is not MISS:
            return hit
        segments = source.plan_segments(self.config, self.cutoff_year)
        if not segments:
            raise source.missing_data_error(self.config)
        value = await compute(segments)
        self.cache.put(key, signature, value)
        return value

    async def _each(self, segments: list[source.Segment], rng: DateRange | None,
                    fn: Callable[[source.Segment, str, str], Any], *, split: bool = False) -> list[Any]:
        """Run `fn(segment, lo, hi)` in threads for every segment the range touches; with
        `split` (callers that add up the parts), each segment's range in `self.parallel`
        month-aligned pieces at once."""
        start = rng.start if rng else date(1, 1, 1)
        end_excl = rng.end + timedelta(days=1) if rng else date(9999, 12, 31)
        jobs = []
        for seg in segments:
            bounds = seg.clamp(start, end_excl)
            if bounds:
                pieces = range_parts(*bounds, self.parallel) if split and rng else [bounds]
                jobs.extend(self._thread(fn, seg, lo, hi) for lo, hi in pieces)
        return list(await asyncio.gather(*jobs))

    async def _thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        async with self._threads:
            return await asyncio.to_thread(fn, *args)

    def _read(self, seg: source.Segment, label: str, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        return self.reader.read(seg.path, fn, label=label)

    def _rollup(self, seg: source.Segment, sql: str, params: tuple) -> list[tuple] | None:
        return self.rollup.query(seg.path, sql, params) if self.rollup else None

    # -- month x item sums: rollup for whole months, raw rows for the edges -------------

    def _month_sums(self, seg: source.Segment, lo: str, hi: str, codes: tuple[str, ...] | None,
                    per_item: bool, by_month: bool = True) -> dict[tuple[str, str], int]:
        """{(month or '', item_code or ''): quantity} over [lo, hi) in one file."""
        out: dict[tuple[str, str], int] = defaultdict(int)
        months, edges = split_months(lo, hi)
        if months:
            month_col = "month" if by_month else "''"
            item_col = "item_code" if per_item else "''"
            where = f" AND item_code IN ({_in(codes)})" if codes else ""
            rows = self._rollup(seg, f"SELECT {month_col}, {item_col}, sum(quantity) FROM monthly WHERE name = ? "
                                     f"AND month >= ? AND month < ?{where} GROUP BY 1, 2", (*months, *(codes or ())))
            if rows is None:
                edges = [(lo, hi)]
            else:
                for month, code, qty in rows:
                    out[(month, code)] += qty
        for e_lo, e_hi in edges:
            if by_month and not per_item:
                for month, qty in self._raw_month_sums(seg, e_lo, e_hi, codes):
                    out[(month, "")] += qty
            elif by_month:
                for day, code, qty in self._raw_day_sums(seg, e_lo, e_hi, codes, per_item):
                    out[(day[:7], code)] += qty
            else:
                for code, qty in self._raw_item_sums(seg, e_lo, e_hi):
                    out[("", code)] += qty
        return out

    def _raw_day_sums(self, seg: source.Segment, lo: str, hi: str, codes: tuple[str, ...] | None,
                      per_item: bool) -> list[tuple[str, str, int]]:
        # GROUP BY the indexed columns in index order: SQLite walks the index with no sort.
        # Measured on 2.5M rows: 0.26 s against 0.70 s for GROUP BY substr(production_date, 1, 7),
        # and the date index beats a table scan at every share of the file (its scan needs a sort).
        def run(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
            facts = self.reader.facts(seg.path, conn)
            if codes:
                index = _indexed_by(facts, "idx_item_date")
                sql = (f"SELECT production_date, item_code, sum(good_quantity) FROM {TABLE}{index} "
                       f"WHERE item_code IN ({_in(codes)}) AND production_date >= ? AND production_date < ? "
                       "GROUP BY item_code, production_date")
                rows = conn.execute(sql, (*codes, lo, hi)).fetchall()
                return rows if per_item else [(day, "", qty) for day, _, qty in rows]
            if per_item:
                # Not asked for by any chart without codes: the planner's choice is fine.
                sql = (f"SELECT production_date, item_code, sum(good_quantity) FROM {TABLE} "
                       "WHERE production_date >= ? AND production_date < ? GROUP BY item_code, production_date")
                return conn.execute(sql, (lo, hi)).fetchall()
            index = _indexed_by(facts, "idx_production_date")
            sql = (f"SELECT production_date, '', sum(good_quantity) FROM {TABLE}{index} "
                   "WHERE production_date >= ? AND production_date < ? GROUP BY production_date")
            return conn.execute(sql, (lo, hi)).fetchall()

        return self._read(seg, "day sums per item" if per_item else "day sums", run)

    def _raw_month_sums(self, seg: source.Segment, lo: str, hi: str,
                        codes: tuple[str, ...] | None) -> list[tuple[str, int]]:
        """(month, quantity) over [lo, hi): one plain sum a month over the index, no GROUP BY.
        Measured on 2.5M rows (bench/charts.py, CPU, medians of 7): 454 ms for a year
        against 558 ms for GROUP BY production_date folded into months."""
        def run(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            facts = self.reader.facts(seg.path, conn)
            if codes:
                sql = (f"SELECT sum(good_quantity) FROM {TABLE}{_indexed_by(facts, 'idx_item_date')} "
                       f"WHERE item_code IN ({_in(codes)}) AND production_date >= ? AND production_date < ?")
            else:
                sql = (f"SELECT sum(good_quantity) FROM {TABLE}{_indexed_by(facts, 'idx_production_date')} "
                       "WHERE production_date >= ? AND production_date < ?")
            out = []
            for m_lo, m_hi in month_pieces(lo, hi):
                qty = conn.execute(sql, (*(codes or ()), m_lo, m_hi)).fetchone()[0]
                if qty:
                    out.append((m_lo[:7], qty))
            return out

        return self._read(seg, "month sums", run)

    def _raw_item_sums(self, seg: source.Segment, lo: str, hi: str) -> list[tuple[str, int]]:
        def run(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            facts = self.reader.facts(seg.path, conn)
            sql, params = item_sums_sql(facts, lo, hi)
            return conn.execute(sql, params).fetchall()

        return self._read(seg, "item sums", run)

    # -- public queries ----------------------------------------------------------------

    async def monthly_totals(self, rng: DateRange, item: str | None = None) -> list[MonthTotal]:
        """Good quantity per month over the range (every month listed, 0 when none);
        `item` narrows to one item code (the seed's /summary/monthly_total)."""
        codes = (item,) if item else None

        async def compute(segments):
            totals: dict[str, int] = defaultdict(int)
            for part in await self._each(segments, rng, lambda s, lo, hi: self._month_sums(s, lo, hi, codes, False),
                                         split=True):
                for (month, _), qty in part.items():
                    totals[month] += qty
            return [MonthTotal(m, totals.get(m, 0)) for m in months_between(rng.start, rng.end)]

        return await self._cached(("monthly", rng, item), compute)

    async def daily_totals(self, rng: DateRange, item: str | None = None) -> list[DayTotal]:
        codes = (item,) if item else None

        async def compute(segments):
            totals: dict[str, int] = defaultdict(int)
            for rows in await self._each(segments, rng, lambda s, lo, hi: self._raw_day_sums(s, lo, hi, codes, False),
                                         split=True):
                for day, _, qty in rows:
                    totals[day] += qty
            out, cur = [], rng.start
            while cur <= rng.end:
                out.append(DayTotal(cur.isoformat(), totals.get(cur.isoformat(), 0)))
                cur += timedelta(days=1)
            return out

        return await self._cached(("daily", rng, item), compute)

    async def item_trends(self, codes: Sequence[str], rng: DateRange) -> list[ItemTrend]:
        """Monthly quantity of each item over the range, in the order given."""
        from jumpdeck.core.errors import ValidationError

        wanted = tuple(dict.fromkeys(c.strip() for c in codes if c.strip()))
        if not wanted:
            raise ValidationError("Pick at least one item.", field="item", remedy="Choose items by code or name.")
        if len(wanted) > MAX_ITEMS_PER_TREND:
            raise ValidationError(f"At most {MAX_ITEMS_PER_TREND} items fit in one trend chart.", field="item")
        names = {it.code: it.name for it in await self.items()}

        async def compute(segments):
            sums: dict[tuple[str, str], int] = defaultdict(int)
            for part in await self._each(segments, rng, lambda s, lo, hi: self._month_sums(s, lo, hi, wanted, True),
                                         split=True):
                for key, qty in part.items():
                    sums[key] += qty
            months = months_between(rng.start, rng.end)
            return [ItemTrend(Item(code, names.get(code, "")), tuple(MonthTotal(m, sums.get((m, code), 0)) for m in months))
                    for code in wanted]

        return await self._cached(("trends", wanted, rng), compute)

    async def top_items(self, rng: DateRange, n: int = 10) -> list[TopItem]:
        """The `n` items with the largest quantity over the range, largest first."""
        names = {it.code: it.name for it in await self.items()}

        async def compute(segments):
            sums: dict[str, int] = defaultdict(int)
            for part in await self._each(segments, rng,
                                         lambda s, lo, hi: self._month_sums(s, lo, hi, None, True, by_month=False),
                                         split=True):
                for (_, code), qty in part.items():
                    sums[code] += qty
            ranked = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))[: max(0, n)]
            return [TopItem(Item(code, names.get(code, "")), qty) for code, qty in ranked]

        return await self._cached(("top", rng, n), compute)

    async def items(self) -> list[Item]:
        """Every item code with its name (the newest file's name wins), sorted by code."""

        def one(seg: source.Segment, lo: str, hi: str) -> list[tuple[str, str]]:
            rows = self._rollup(seg, "SELECT item_code, max(item_name) FROM monthly WHERE name = ? GROUP BY 1", ())
            if rows is not None:
                return rows
            # One index seek per distinct code (a loose index scan): ~120 seeks, not 2.5M entries.
            def seek(conn: sqlite3.Connection) -> list[tuple[str, str]]:
                out, code = [], ""
                while True:
                    row = conn.execute(f"SELECT item_code, item_name FROM {TABLE} WHERE item_code > ? "
                                       "ORDER BY item_code LIMIT 1", (code,)).fetchone()
                    if row is None:
                        return out
                    out.append(row)
                    code = row[0]

            return self._read(seg, "items", seek)

        async def compute(segments):
            names: dict[str, str] = {}
            for rows in await self._each(segments, None, one):
                names.update(rows)
            return [Item(code, name) for code, name in sorted(names.items())]

        return await self._cached(("items",), compute)

    async def find_lot(self, lot_number: str, rng: DateRange | None = None) -> list[LotRecord]:
        """Rows of one lot number. The seed's schema has no index on lot_number (and jumpdeck
        never adds one to the ERP's files): this reads the range on `date_access`'s path, a
        scan of each file when no range is given (see the README's Charts section)."""
        lot = lot_number.strip()

        def one(seg: source.Segment, lo: str, hi: str) -> list[LotRecord]:
            def run(conn: sqlite3.Connection) -> list[tuple]:
                facts = self.reader.facts(seg.path, conn)
                path, bounded = date_access(facts, lo, hi)
                if "lot_number" in facts.leading_columns:
                    path = ""  # a site's own index on lot_number: let the planner seek it
                where, params = (" AND production_date >= ? AND production_date < ?", (lot, lo, hi)) if bounded else ("", (lot,))
                return conn.execute(
                    f"SELECT production_date, lot_number, item_code, item_name, good_quantity FROM {TABLE}{path} "
                    f"WHERE lot_number = ?{where} ORDER BY production_date, id", params).fetchall()

            rows = self._read(seg, "lot lookup", run)
            return [LotRecord(d, ln, Item(code, name), qty, seg.path.name) for d, ln, code, name, qty in rows]

        async def compute(segments):
            return [rec for part in await self._each(segments, rng, one) for rec in part]

        return await self._cached(("lot", lot, rng), compute)
