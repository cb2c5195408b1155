"""Benchmark of the Charts data path (issue 7), printed, never asserted.

    .venv/bin/python bench/charts.py [--rows 5000000] [--home DIR] [--reuse] [--rounds 7]

Generates demo data (timed; --reuse keeps the files already in --home), then for three
questions -- monthly totals of a year, one item's monthly trend over a year, top-10 items
of a quarter -- times, interleaved in rounds (each round runs every contender once, in a
rotated order) and reported as medians with their spread:
  - every raw SQLite plan we know for the same answer, on the same file (the best median
    is the baseline);
  - jumpdeck's query layer cold (a fresh instance: empty cache, no pooled connection)
    without the rollup, and with it;
  - the same call cached.
Wall time is the figure; CPU time (the process's) is printed beside it, steadier on a
loaded machine.
Also the rollup build and plotext's drawing of a 12-month bar chart and a 1,000-point line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jumpdeck.core.config import load_config  # noqa: E402
from jumpdeck.core.production.generate import generate  # noqa: E402
from jumpdeck.core.production.models import DateRange  # noqa: E402
from jumpdeck.core.production.queries import ProductionData  # noqa: E402
from jumpdeck.core.production.rollup import refresh_rollups, rollup_path  # noqa: E402
from jumpdeck.core.production.schema import live_db_path  # noqa: E402

YEAR = ("2026-01-01", "2027-01-01")
QUARTER = ("2026-04-01", "2026-07-01")
ITEM = "BW0003"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


def timed(fn, repeat: int = 1):
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - started)
    return best, value


@dataclass
class Runs:
    """Wall and CPU seconds (the process's, all threads) of one contender, one per round."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"


def raw_plans(path: Path) -> dict[str, dict[str, callable]]:
    def q(sql, params, fold=None):
        def run():
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = conn.execute(sql, params).fetchall()
            finally:
                conn.close()
            return fold(rows) if fold else rows
        return run

    def by_month(rows):
        out = defaultdict(int)
        for day, qty in rows:
            out[day[:7]] += qty
        return dict(out)

    t = "production_records"
    bounds = [f"2026-{m:02d}-01" for m in range(1, 13)] + [YEAR[1]]

    def months_one_by_one():
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {lo[:7]: conn.execute(f"SELECT sum(good_quantity) FROM {t} WHERE production_date >= ? AND production_date < ?",
                                         (lo, hi)).fetchone()[0] for lo, hi in zip(bounds, bounds[1:])}
        finally:
            conn.close()

    return {
        "monthly totals, a year": {
            "GROUP BY substr(date) over the date range": q(f"SELECT substr(production_date,1,7), sum(good_quantity) FROM {t} WHERE production_date >= ? AND production_date < ? GROUP BY 1", YEAR),
            "GROUP BY date over the date range, months folded": q(f"SELECT production_date, sum(good_quantity) FROM {t} WHERE production_date >= ? AND production_date < ? GROUP BY 1", YEAR, by_month),
            "12 range sums over the date index, one a month": months_one_by_one,
            "full scan (NOT INDEXED)": q(f"SELECT substr(production_date,1,7), sum(good_quantity) FROM {t} NOT INDEXED WHERE production_date >= ? AND production_date < ? GROUP BY 1", YEAR),
            "substr() in WHERE (not sargable)": q(f"SELECT substr(production_date,1,7), sum(good_quantity) FROM {t} WHERE substr(production_date,1,4) = '2026' GROUP BY 1", ()),
        },
        "one item's trend, a year": {
            "idx_item_date, GROUP BY substr(date)": q(f"SELECT substr(production_date,1,7), sum(good_quantity) FROM {t} WHERE item_code = ? AND production_date >= ? AND production_date < ? GROUP BY 1", (ITEM, *YEAR)),
            "idx_item_date, GROUP BY date, folded": q(f"SELECT production_date, sum(good_quantity) FROM {t} WHERE item_code = ? AND production_date >= ? AND production_date < ? GROUP BY 1", (ITEM, *YEAR), by_month),
        },
        "top-10 items, a quarter": {
            "date index": q(f"SELECT item_code, sum(good_quantity) s FROM {t} WHERE production_date >= ? AND production_date < ? GROUP BY 1 ORDER BY s DESC LIMIT 10", QUARTER),
            "date index, no ORDER BY (ranked in Python)": q(f"SELECT item_code, sum(good_quantity) s FROM {t} INDEXED BY idx_production_date WHERE production_date >= ? AND production_date < ? GROUP BY 1", QUARTER),
            "full scan (NOT INDEXED)": q(f"SELECT item_code, sum(good_quantity) s FROM {t} NOT INDEXED WHERE production_date >= ? AND production_date < ? GROUP BY 1 ORDER BY s DESC LIMIT 10", QUARTER),
            "idx_item_date": q(f"SELECT item_code, sum(good_quantity) s FROM {t} INDEXED BY idx_item_date WHERE production_date >= ? AND production_date < ? GROUP BY 1 ORDER BY s DESC LIMIT 10", QUARTER),
        },
    }


def layer_calls(data: ProductionData) -> dict[str, callable]:
    year = DateRange.parse("2026-01-01", "2026-12-31")
    quarter = DateRange.parse("2026-04-01", "2026-06-30")
    return {
        "monthly totals, a year": lambda: data.monthly_totals(year),
        "one item's trend, a year": lambda: data.item_trends([ITEM], year),
        "top-10 items, a quarter": lambda: data.top_items(quarter, 10),
    }


async def measure_questions(config, rounds: int) -> dict[str, dict[str, Runs]]:
    """Every raw plan and the layer cold (a fresh instance: empty cache, no pooled
    connection, facts unread -- like a raw plan's fresh connection), without and with the
    rollup, interleaved: each round runs every contender once, in an order rotated from
    round to round, so load that comes and goes hits them all alike."""
    probe = ProductionData(config, use_rollup=False)
    items = await probe.items()  # the item names every chart needs; its cost is not the question's
    probe.close()
    out: dict[str, dict[str, Runs]] = {}
    for question, plans in raw_plans(live_db_path(config)).items():
        def fresh(use_rollup: bool) -> ProductionData:
            data = ProductionData(config, use_rollup=use_rollup)
            data.cache.put(("items",), data.signature(), items)
            return data

        layers = {LAYER: False, ROLLUP: True}
        names = [f"raw: {label}" for label in plans] + list(layers)
        runs = {name: Runs() for name in names}
        for r in range(rounds):
            for name in names[r % len(names):] + names[: r % len(names)]:
                data = fresh(layers[name]) if name in layers else None  # built outside the timing
                wall, cpu = time.perf_counter(), time.process_time()
                if data is not None:
                    await layer_calls(data)[question]()
                else:
                    plans[name[5:]]()
                runs[name].add(time.perf_counter() - wall, time.process_time() - cpu)
                if data is not None:
                    data.close()
        out[question] = runs
    return out


async def measure_cached(config) -> dict[str, float]:
    out = {}
    for use_rollup in (False, True):
        data = ProductionData(config, use_rollup=use_rollup)
        for question, call in layer_calls(data).items():
            await call()
            best = float("inf")
            for _ in range(7):
                started = time.perf_counter()
                await call()
                best = min(best, time.perf_counter() - started)
            out[question] = min(out.get(question, best), best)
        data.close()
    return out


LAYER = "jumpdeck cold, no rollup"
ROLLUP = "jumpdeck cold, rollup"


def plotext_timings() -> tuple[float, float]:
    import plotext as plt

    def bars():
        plt.clf()
        plt.plotsize(120, 30)
        plt.bar([f"2026-{m:02d}" for m in range(1, 13)], [1000 + m * 37 for m in range(12)])
        return plt.build()

    def line():
        plt.clf()
        plt.plotsize(120, 30)
        plt.plot(list(range(1000)), [(i * 7919) % 1000 for i in range(1000)])
        return plt.build()

    return timed(bars, 5)[0], timed(line, 5)[0]


async def measure_screen(config) -> dict[str, float]:
    """The Charts screen headless at 120x40: a cached range switch (press to repaint) and
    the event loop's worst lag while a cold query runs (keys are handled on that loop)."""
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.charts import ChartsScreen

    # Key handled -> chart redrawn, measured inside the app (Pilot's own waits excluded).
    # "Drawn" is when the figure for the new answer is built and handed to the repaint
    # (ChartPlot builds it in a thread after the answer arrives).
    from jumpdeck.tui.widgets.chart_plot import ChartPlot

    marks: dict[str, float] = {}
    original_action, original_build = ChartsScreen.action_next_preset, ChartPlot.build

    def action(self) -> None:
        marks["key"] = time.perf_counter()
        original_action(self)

    async def build(self, *args) -> None:  # noqa: ANN002
        await original_build(self, *args)
        marks["drawn"] = time.perf_counter()

    ChartsScreen.action_next_preset, ChartPlot.build = action, build
    app = JumpdeckApp(config, user="bench", start_mode="charts")
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        async def settled(after: int) -> ChartsScreen:
            while True:
                await pilot.pause(0.005)
                screen = app.screen
                if isinstance(screen, ChartsScreen) and screen.loads_done > after and not screen.query_one("#charts-body").loading \
                        and not screen.chart_building:
                    return screen

        screen = await settled(0)
        for _ in range(3):  # visit every preset once: now they are cached
            done = screen.loads_done
            await pilot.press("p")
            await settled(done)
        switches, inside = [], []
        for _ in range(6):
            done = screen.loads_done
            started = time.perf_counter()
            await pilot.press("p")
            await settled(done)
            await pilot.pause()  # the repaint
            switches.append(time.perf_counter() - started)
            inside.append(marks["drawn"] - marks["key"])
        out["cached switch, key to figure built, worst of 6"] = max(inside)
        out["cached switch, through Pilot incl. repaint, worst of 6"] = max(switches)
        # A cold query: daily totals over the year read raw rows (the rollup is monthly).
        lags: list[float] = []
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - started - 0.01)

        sampler = asyncio.create_task(sample())
        done = screen.loads_done
        started = time.perf_counter()
        await pilot.press("d")
        await settled(done)
        out["cold daily load"] = time.perf_counter() - started
        stop.set()
        await sampler
        out["worst loop lag during it"] = max(lags, default=0.0)
    return out


def main() -> int:
    import logging

    logging.getLogger("jumpdeck.production").setLevel(logging.ERROR)  # SLOW QUERY lines are expected here
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--home", type=Path, default=None, help="data dir (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="keep existing files in --home")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per question (default 7)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="jumpdeck-bench-"))
    config = load_config(cli={"home": str(home)}, env={})
    print(f"data dir: {home}  rows: {args.rows:,}  sqlite {sqlite3.sqlite_version}")

    if not (args.reuse and live_db_path(config).exists()):
        result = generate(config, rows=args.rows, years=(2025, 2026), seed=7)
        size = sum(f.path.stat().st_size for f in result.files)
        print(f"generate: {result.seconds:.1f} s for {result.rows:,} rows ({result.rows / result.seconds:,.0f} rows/s), "
              f"{size / 1e6:.0f} MB in {len(result.files)} files")

    rollup_path(config).unlink(missing_ok=True)
    started = time.perf_counter()
    refresh = refresh_rollups(config)
    rollup_build = time.perf_counter() - started
    print(f"rollup build: {rollup_build:.2f} s ({', '.join(refresh.rebuilt)}); "
          f"refresh with nothing changed: {timed(lambda: refresh_rollups(config), 3)[0] * 1000:.2f} ms")

    print(f"\nload average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    questions = asyncio.run(measure_questions(config, args.rounds))
    cached = asyncio.run(measure_cached(config))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\nraw SQLite plans and the layer, interleaved, {args.rounds} rounds (live file, 2026): "
          "median wall (min–max), median CPU")
    summary = []
    for question, runs in questions.items():
        print(f"  {question}")
        for name, r in runs.items():
            print(f"    {ms(r.median)} ({min(r.wall) * 1000:.1f}–{max(r.wall) * 1000:.1f})  cpu {ms(r.cpu_median)}  {name}")
        candidates = {n: r for n, r in runs.items() if n.startswith("raw: ") and "not sargable" not in n}
        best_name = min(candidates, key=lambda n: candidates[n].median)
        best = candidates[best_name]
        # Per round: layer / best raw plan of that round (adjacent in time, so load hits both alike).
        paired = [layer / raw for layer, raw in zip(runs[LAYER].wall, best.wall)]
        summary.append((question, best_name[5:], best, runs[LAYER], runs[ROLLUP], paired))

    print("\njumpdeck query layer (cold = fresh instance; ratio = median cold / median best raw plan;"
          " per round = that ratio round by round, median (min–max)):")
    print(f"  {'question':26} {'best raw':>11} {'cold, raw':>11} {'ratio':>6} {'per round':>17} {'cpu ratio':>9}"
          f" {'cold, rollup':>13} {'cached':>10}")
    for question, best_name, best, layer, rollup, paired in summary:
        print(f"  {question:26} {ms(best.median):>11} {ms(layer.median):>11} {layer.median / best.median:6.2f} "
              f"{statistics.median(paired):6.2f} ({spread(paired):>9}) {layer.cpu_median / best.cpu_median:9.2f} "
              f"{ms(rollup.median):>13} {cached[question] * 1000:8.3f} ms")
        print(f"  {'':26} best raw plan: {best_name}")
    screen = asyncio.run(measure_screen(config))
    print("\nCharts screen (headless, 120x40):")
    for label, seconds in screen.items():
        print(f"  {ms(seconds)}  {label}")
    bars, line = plotext_timings()
    print(f"\nplotext build: 12-month bar chart {ms(bars)}, 1,000-point line {ms(line)} (120x30, best of 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
