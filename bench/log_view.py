"""Benchmark: the run log against Textual's plain `Log`, fed the same lines in the same run.

100k Ansible-like lines (mixed ok/changed/failed/skipped, ANSI colors) are written from a
thread worker in batches of 1,000 while a task presses keys; prints lines/s, key-press
latency (median, p95) and resident memory after 50k and 100k lines (the run log's cap
is 20k, so its memory should stay flat past the cap).

    .venv/bin/python bench/log_view.py [--lines 100000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Log  # noqa: E402

from jumpdeck.tui.widgets.run_log import RunLog  # noqa: E402

CAP = 20_000


def make_lines(n: int) -> list[str]:
    rnd = random.Random(42)
    kinds = [("\x1b[0;32mok: [web-{h}] => (item=config-{i})\x1b[0m", 5), ("\x1b[0;33mchanged: [app-{h}] => {{\"rc\": 0}}\x1b[0m", 3),
             ("\x1b[0;31mfatal: [db-{h}]: FAILED! => {{\"msg\": \"timeout {i}\"}}\x1b[0m", 1),
             ("\x1b[0;36mskipping: [lb-{h}]\x1b[0m", 1), ("TASK [service : Start app service {i}] ******************", 1)]
    population = [k for k, w in kinds for _ in range(w)]
    return [rnd.choice(population).format(h=rnd.randint(1, 9), i=i) for i in range(n)]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class BenchApp(App):
    BINDINGS = [("k", "mark", "mark")]

    def action_mark(self) -> None:
        self.handled.append(time.perf_counter())

    def __init__(self, kind: str, lines: list[str], batch: int) -> None:
        super().__init__()
        self.kind, self.all_lines, self.batch = kind, lines, batch
        self.done = threading.Event()
        self.elapsed = 0.0
        self.rss: dict[int, float] = {}
        self.handled: list[float] = []

    def compose(self) -> ComposeResult:
        yield RunLog(max_lines=CAP, id="log") if self.kind == "runlog" else Log(max_lines=CAP, id="log")

    def feed(self) -> None:
        widget = self.query_one("#log")
        start = time.perf_counter()
        written = 0
        for i in range(0, len(self.all_lines), self.batch):
            chunk = self.all_lines[i:i + self.batch]
            self.call_from_thread(widget.write_lines, chunk)
            time.sleep(0)  # let the event loop see key presses between batches, as a real feed would
            written += len(chunk)
            if written in (len(self.all_lines) // 2, len(self.all_lines)):
                self.rss[written] = rss_mb()
        self.elapsed = time.perf_counter() - start
        self.done.set()


async def measure(kind: str, lines: list[str], batch: int) -> dict:
    app = BenchApp(kind, lines, batch)
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#log").focus()
        thread = threading.Thread(target=app.feed, daemon=True)
        thread.start()
        from textual import events

        sent: list[float] = []
        while not app.done.is_set():
            # A key press is posted as the terminal driver would; its latency is the
            # time until the app has run the bound action.
            sent.append(time.perf_counter())
            app.post_message(events.Key("k", "k"))
            await asyncio.sleep(0.02)
        await pilot.pause()
        await asyncio.sleep(0.2)
        latencies = [h - s for s, h in zip(sent, app.handled)]
    latencies.sort()
    return {
        "lines_per_s": len(lines) / app.elapsed,
        "key_median_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "key_p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else 0.0,
        "presses": len(latencies),
        "rss": app.rss,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median round is reported")
    args = parser.parse_args()
    lines = make_lines(args.lines)
    results: dict[str, list[dict]] = {"log": [], "runlog": []}
    for _ in range(args.rounds):
        for kind in ("log", "runlog"):
            results[kind].append(await measure(kind, lines, args.batch))

    def median_round(rounds: list[dict]) -> dict:
        return sorted(rounds, key=lambda r: r["lines_per_s"])[len(rounds) // 2]

    base, ours = median_round(results["log"]), median_round(results["runlog"])
    for name, r in (("textual Log (baseline)", base), ("jumpdeck RunLog", ours)):
        rss = ", ".join(f"{k // 1000}k lines: {v:.0f} MB" for k, v in sorted(r["rss"].items()))
        print(f"{name:24} {r['lines_per_s']:>10,.0f} lines/s   key median {r['key_median_ms']:5.1f} ms"
              f"   p95 {r['key_p95_ms']:5.1f} ms   ({r['presses']} presses)   RSS {rss}")
    ratio = ours["lines_per_s"] / base["lines_per_s"]
    print(f"ratio RunLog/Log lines/s: {ratio:.2f} (goal >= 0.8); RunLog key p95 {ours['key_p95_ms']:.1f} ms (goal <= 60 ms)")


if __name__ == "__main__":
    asyncio.run(main())
