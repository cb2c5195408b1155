"""`jumpdeck demo-data` and `jumpdeck report ...`: production figures from the live and
archive DBs (seed 003's /summary endpoints), for operators and scripts."""

from __future__ import annotations

import argparse
import csv
import sys

from jumpdeck.tui.cli import run_with_context
from jumpdeck.tui.cli.inputs import whole_number
from jumpdeck.tui.cli.output import dumps, print_table


def _years(text: str) -> list[int]:
    try:
        years = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of years such as 2025,2026") from None
    if not years:
        raise argparse.ArgumentTypeError("give at least one year")
    return years


def _output_options(parser: argparse.ArgumentParser) -> None:
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON array for scripts")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")


def _range_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD", help="first day (inclusive)")
    parser.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD", help="last day (inclusive)")


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo-data", help="write deterministic demo production DBs (live + archive)",
                          description="Generate production_records over the given years, split into "
                          "archive_YYYY.db files and the live DB at the cutoff (the last year).")
    demo.add_argument("--rows", type=int, required=True, help="number of rows in all")
    demo.add_argument("--years", type=_years, default=[2025, 2026], help="comma-separated years (default 2025,2026)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    demo.add_argument("--replace", action="store_true", help="overwrite existing production files (admin)")
    demo.set_defaults(run=lambda a: run_with_context(a, _demo_data))

    report = sub.add_parser("report", help="production figures: monthly totals, top items, items, lots",
                            description="Production figures over the live and archive DBs.")
    report.set_defaults(run=lambda a: (report.print_help(), 2)[1])
    verbs = report.add_subparsers(dest="verb", metavar="VERB")

    monthly = verbs.add_parser("monthly", help="good quantity per month (the seed's /summary/monthly_total)")
    _range_options(monthly)
    monthly.add_argument("--item", metavar="CODE", help="one item code only")
    _output_options(monthly)
    monthly.set_defaults(run=lambda a: run_with_context(a, _monthly))

    daily = verbs.add_parser("daily", help="good quantity per day")
    _range_options(daily)
    daily.add_argument("--item", metavar="CODE", help="one item code only")
    _output_options(daily)
    daily.set_defaults(run=lambda a: run_with_context(a, _daily))

    top = verbs.add_parser("top", help="the items with the largest quantity over a range")
    _range_options(top)
    top.add_argument("--n", type=whole_number(1, 10000), default=10, help="how many items (default 10)")
    _output_options(top)
    top.set_defaults(run=lambda a: run_with_context(a, _top))

    items = verbs.add_parser("items", help="every item code with its name")
    _output_options(items)
    items.set_defaults(run=lambda a: run_with_context(a, _items))

    lot = verbs.add_parser("lot", help="the rows of one lot number")
    lot.add_argument("lot_number")
    lot.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="narrow the scan (no index on lots)")
    lot.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    _output_options(lot)
    lot.set_defaults(run=lambda a: run_with_context(a, _lot))


def _emit(args: argparse.Namespace, headers: list[str], rows: list[list]) -> None:
    if args.json:
        print(dumps([dict(zip(headers, row)) for row in rows]))
    elif args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        print_table(headers, [[f"{v:,}" if isinstance(v, int) else v for v in row] for row in rows])


async def _data(ctx):
    from jumpdeck.core.production.queries import ProductionData

    return await ProductionData.from_context(ctx)


def _range(args):
    from jumpdeck.core.production.models import DateRange

    return DateRange.parse(args.date_from, args.date_to)


async def _demo_data(args, ctx) -> int:
    from jumpdeck.core.production.generate import create_demo_data

    result = await create_demo_data(ctx, args.rows, args.years, args.seed, replace=args.replace)
    for f in result.files:
        span = str(f.year_from) if f.year_from == f.year_to else f"{f.year_from}-{f.year_to}"
        print(f"{f.path}: {f.rows:,} rows ({span})")
    print(f"Generated {result.rows:,} rows in {result.seconds:.1f} s (live DB from {result.cutoff_year}).")
    return 0


async def _monthly(args, ctx) -> int:
    rng = _range(args)
    months = await (await _data(ctx)).monthly_totals(rng, args.item)
    _emit(args, ["month", "quantity"], [[m.month, m.quantity] for m in months])
    return 0


async def _daily(args, ctx) -> int:
    rng = _range(args)
    days = await (await _data(ctx)).daily_totals(rng, args.item)
    _emit(args, ["day", "quantity"], [[d.day, d.quantity] for d in days])
    return 0


async def _top(args, ctx) -> int:
    from jumpdeck.core.errors import ValidationError

    if args.n < 1:
        raise ValidationError("--n must be at least 1.", field="n")
    rng = _range(args)
    top = await (await _data(ctx)).top_items(rng, args.n)
    _emit(args, ["rank", "item_code", "item_name", "quantity"],
          [[i, t.item.code, t.item.name, t.quantity] for i, t in enumerate(top, 1)])
    return 0


async def _items(args, ctx) -> int:
    items = await (await _data(ctx)).items()
    _emit(args, ["item_code", "item_name"], [[i.code, i.name] for i in items])
    return 0


async def _lot(args, ctx) -> int:
    from jumpdeck.core.production.models import DateRange, parse_date

    rng = None
    if args.date_from or args.date_to:
        rng = DateRange(parse_date(args.date_from or "1970-01-01", "from"), parse_date(args.date_to or "9999-12-30", "to"))
    records = await (await _data(ctx)).find_lot(args.lot_number, rng)
    _emit(args, ["production_date", "lot_number", "item_code", "item_name", "good_quantity", "source"],
          [[r.production_date, r.lot_number, r.item.code, r.item.name, r.good_quantity, r.source] for r in records])
    return 0 if records else 1
