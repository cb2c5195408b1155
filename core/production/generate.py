"""Deterministic demo production data (seed 003's `production_records`), for `--demo`,
`jumpdeck demo-data`, tests and benchmarks.

    generate(config, rows=200_000, years=(2025, 2026), seed=7) -> GenerateResult

Rows are spread evenly over every day of `years`, in date order (the ERP appends), each
row an (item, lot, quantity) drawn from `random.Random(seed)`: the same arguments always
write the same files. Years before `cutoff_year` (default: the last of `years`) go to
`archive_YYYY.db`, one file a year; the rest to the live `production_analysis.db`.
Existing files for those years are replaced. Loading is one transaction per file with
journaling off; the three indexes are built after the rows are in, which is several
times faster than maintaining them row by row.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from jumpdeck.core.config import Config
from jumpdeck.core.errors import ValidationError
from jumpdeck.core.production.models import Item
from jumpdeck.core.production.schema import INDEXES, TABLE, archive_db_path, create_schema, live_db_path
from jumpdeck.core.private_files import private_dir, touch_private

if TYPE_CHECKING:
    from jumpdeck.core.context import Context

# Product families of a lens maker, as in the seed's item codes (e.g. BW0021).
_FAMILIES = (("BW", "Biweekly"), ("MD", "1-Day Moist"), ("TR", "Toric"), ("CL", "Color"), ("MO", "Monthly"))
_POWERS = ("-0.50", "-1.00", "-1.50", "-2.00", "-2.50", "-3.00", "-3.50", "-4.00", "-5.00", "-6.00")
DEFAULT_ITEMS = 120
DEFAULT_LOTS_PER_DAY = 8
_BATCH = 50_000


@dataclass(frozen=True)
class GeneratedFile:
    path: Path
    year_from: int
    year_to: int
    rows: int


@dataclass(frozen=True)
class GenerateResult:
    files: tuple[GeneratedFile, ...]
    rows: int
    seconds: float
    cutoff_year: int


def demo_items(count: int = DEFAULT_ITEMS) -> list[Item]:
    """The item master: `count` codes over the families, numbered per family; names are unique."""
    items = []
    for i in range(count):
        prefix, family = _FAMILIES[i % len(_FAMILIES)]
        number = i // len(_FAMILIES) + 1
        items.append(Item(f"{prefix}{number:04d}", f"{family} {number:02d} {_POWERS[number % len(_POWERS)]}"))
    return items


def _days(year: int) -> list[date]:
    day, end, out = date(year, 1, 1), date(year + 1, 1, 1), []
    while day < end:
        out.append(day)
        day += timedelta(days=1)
    return out


def _pick_table(count: int) -> list[int]:
    """A skewed (Zipf-like) pick table so top-N charts have a clear head and a long tail."""
    weights = [1.0 / (k + 1) ** 0.8 for k in range(count)]
    scale = 4096 / sum(weights)
    table: list[int] = []
    for k, w in enumerate(weights):
        table.extend([k] * max(1, round(w * scale)))
    return table


def _rows(first: int, count: int, total: int, all_days: int, table: list[int], lots_per_day: int,
          rng: random.Random) -> Iterator[tuple[int, int, int, int, int]]:
    """(row index, day index, item index, lot, quantity) for rows first..first+count-1 of the
    global sequence; row i falls on day i * all_days // total, so days get equal shares."""
    pick = len(table)
    randrange = rng.randrange
    for index in range(first, first + count):
        yield index, index * all_days // total, table[randrange(pick)], randrange(lots_per_day), randrange(20, 500)


def _validate(rows: int, years: Sequence[int], cutoff_year: int | None) -> tuple[list[int], int]:
    if rows < 1:
        raise ValidationError("The number of rows must be at least 1.", field="rows")
    ys = sorted(set(int(y) for y in years))
    if not ys or ys[0] < 1970 or ys[-1] > 9999:
        raise ValidationError(f"Years must be between 1970 and 9999; got {list(years)}.", field="years")
    cutoff = ys[-1] if cutoff_year is None else int(cutoff_year)
    return ys, cutoff


def generate(config: Config, rows: int = 200_000, years: Sequence[int] = (2025, 2026), seed: int = 7, *,
             cutoff_year: int | None = None, items: int = DEFAULT_ITEMS,
             lots_per_day: int = DEFAULT_LOTS_PER_DAY) -> GenerateResult:
    """Write `rows` production records over `years` into the live and archive files of
    `config.database_dir`, replacing those files. Blocking: call it in a thread from async code.

    Same (rows, years, seed, items, lots_per_day) -> byte-for-byte the same rows."""
    ys, cutoff = _validate(rows, years, cutoff_year)
    started = time.perf_counter()
    private_dir(config.database_dir)
    master = demo_items(items)
    days = [d for y in ys for d in _days(y)]
    all_days = len(days)
    rng = random.Random(seed)
    table = _pick_table(len(master))
    # Strings formatted once per day and per (item, lot), not once per row: 3x faster.
    day_iso = [d.isoformat() for d in days]
    day_lot = [f"L{d:%y%m%d}-" for d in days]
    lot_suffix = [[f"{i:03d}{lot}" for lot in range(lots_per_day)] for i in range(len(master))]
    # Which file each year goes to: archive_YYYY below the cutoff, the live file from it on.
    targets: dict[Path, list[int]] = {}
    for y in ys:
        path = live_db_path(config) if y >= cutoff else archive_db_path(config, y)
        targets.setdefault(path, []).append(y)
    written = []
    for path, file_years in targets.items():
        _replace(path)
        touch_private(path)  # the files jumpdeck makes are 0600 (SQLite's journal follows)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-200000")
            create_schema(conn, indexes=False)
            first_day = days.index(date(file_years[0], 1, 1))
            last_day = days.index(date(file_years[-1], 12, 31))
            # Global row range whose day falls in these years (rows are spread evenly).
            lo = -(-first_day * rows // all_days)
            hi = -(-(last_day + 1) * rows // all_days)
            conn.execute("BEGIN")
            insert = f"INSERT INTO {TABLE}(id, production_date, lot_number, item_code, item_name, good_quantity) VALUES (?,?,?,?,?,?)"
            batch: list[tuple] = []
            for index, day_index, item_index, lot, qty in _rows(lo, hi - lo, rows, all_days, table, lots_per_day, rng):
                item = master[item_index]
                batch.append((index + 1, day_iso[day_index], day_lot[day_index] + lot_suffix[item_index][lot],
                              item.code, item.name, qty))
                if len(batch) >= _BATCH:
                    conn.executemany(insert, batch)
                    batch.clear()
            if batch:
                conn.executemany(insert, batch)
            conn.execute("COMMIT")
            for ddl in INDEXES.values():
                conn.execute(ddl)
            conn.execute("ANALYZE")
            conn.execute("PRAGMA journal_mode=DELETE")
            written.append(GeneratedFile(path, file_years[0], file_years[-1], hi - lo))
        finally:
            conn.close()
    return GenerateResult(tuple(written), rows, time.perf_counter() - started, cutoff)


def _replace(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(f"{path}{suffix}")
        except FileNotFoundError:
            pass


async def create_demo_data(ctx: Context, rows: int, years: Sequence[int] = (2025, 2026), seed: int = 7, *,
                           replace: bool = False) -> GenerateResult:
    """`generate` for a face: refuses to overwrite existing production files unless
    `replace` (admin only: it destroys data like a restore does), audits, then refreshes
    the monthly rollup so the first chart is fast."""
    import asyncio

    from jumpdeck.core.errors import Conflict, JumpdeckError
    from jumpdeck.core.identity import Operation, require
    from jumpdeck.core.production.rollup import refresh_rollups

    ys, cutoff = _validate(rows, years, None)
    targets = {live_db_path(ctx.config) if y >= cutoff else archive_db_path(ctx.config, y) for y in ys}
    existing = sorted(p.name for p in targets if p.exists())
    if existing and not replace:
        raise Conflict(f"{', '.join(existing)} already exist in {ctx.config.database_dir}.",
                       remedy="Add --replace to overwrite them (admin), or use another --home.")
    require(ctx.actor, Operation.RESTORE if existing else Operation.RUN_BACKUP)
    try:
        result = await asyncio.to_thread(generate, ctx.config, rows, ys, seed)
    except OSError as exc:  # a read-only or full disk: the files are half written at most
        raise JumpdeckError(f"The demo production DBs cannot be written in {ctx.config.database_dir} ({exc.strerror}).",
                            remedy="Free some space, or set JUMPDECK_HOME to a writable directory.") from None
    await asyncio.to_thread(refresh_rollups, ctx.config)
    await ctx.activity.record(ctx.actor, "GENERATE", "PRODUCTION_DB", ",".join(f.path.name for f in result.files),
                              f"{rows} demo rows, years {','.join(map(str, ys))}, seed {seed}")
    return result
