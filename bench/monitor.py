"""Benchmark of the Monitor refresh: 1,000 resources against a real local Prometheus.

One node_exporter is scraped under 1,000 instance labels (static targets with an
`instance` label each), so Prometheus holds a real fleet's series. The store gets 1,000
assigned pool VMs whose `{ip}:9100` labels match. Printed:

- requests per refresh and refresh time (median / p95 of N rounds) for 1 and 1,000
  resources, with instant queries (the CLI) and with the hour's range queries (the screen);
- the baseline measured in the same run: the seed's shape, one request per VM and metric
  (bounded at 32 in flight), and the ratio against it.

Goal (issue 10): <= 3 requests per refresh (+ range queries for sparklines), <= 300 ms.

    .venv/bin/python bench/monitor.py [--vms 1000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.monitor.prom_stack import PromStack, binaries_missing  # noqa: E402


def fleet_ips(count: int) -> list[str]:
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(count)]


async def seed(ctx, ips: list[str], url: str) -> None:
    from jumpdeck.core.store.models import ProvisionRunRow, WorkloadVmRow

    await ctx.settings.set(ctx.actor, {"prometheus_url": url, "prometheus_instance": "{ip}:9100"})

    def insert(session) -> None:  # noqa: ANN001
        run = ProvisionRunRow(service_name="bench-fleet", template="enterprise", status="COMPLETED",
                              created_by=ctx.actor.user, details={"status": "COMPLETED"})
        session.add(run)
        session.flush()
        session.add_all(WorkloadVmRow(vm_name=f"BENCH-{i:04d}", ip_address=ip, status="assigned", project_id=run.id,
                                      occupy_user=ctx.actor.user) for i, ip in enumerate(ips))

    await ctx.store.run(insert)


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered):7.1f} ms  p95 {p95:7.1f} ms"


async def measure(service, rounds: int, *, history: bool, everyone: bool | None = None,
                  fresh_history: bool = False) -> tuple[list[float], int, int]:
    times, requests, rows = [], 0, 0
    for _ in range(rounds):
        if fresh_history:
            service._history_key = None  # as when the 2-minute grid moves on
        started = time.perf_counter()
        snap = await service.snapshot(history=history, everyone=everyone)
        times.append((time.perf_counter() - started) * 1000)
        if snap.problem is not None:
            raise SystemExit(f"bench: {snap.message}")
        requests, rows = snap.requests, len(snap.rows)
        assert all(r.cpu.value is not None for r in snap.rows), "a VM without data: Prometheus not warmed up"
    return times, requests, rows


async def prometheus_alone(url: str, service, rounds: int) -> list[float]:  # noqa: ANN001
    """The floor under a refresh: the same three instant queries sent in parallel with
    plain httpx and not decoded, so what is left of a refresh's time is jumpdeck's."""
    import httpx

    queries = list(service._queries.values())
    times = []
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as client:
        for _ in range(rounds):
            started, now = time.perf_counter(), f"{time.time():.3f}"
            answers = await asyncio.gather(*(client.post("/api/v1/query", data={"query": q, "time": now})
                                             for q in queries))
            times.append((time.perf_counter() - started) * 1000)
            assert all(a.status_code == 200 for a in answers)
    return times


async def naive_refresh(url: str, instances: list[str]) -> tuple[float, int]:
    """The seed's shape: one query per VM and metric, gathered (32 at a time)."""
    from jumpdeck.core.monitor.prometheus import PrometheusClient, instance_regex
    from jumpdeck.core.monitor.service import METRIC_QUERIES

    gate = asyncio.Semaphore(32)
    async with PrometheusClient(url) as client:
        async def one(template: str, instance: str) -> None:
            async with gate:
                await client.query(template.format(match=f'instance=~"{instance_regex([instance])}"'))

        started = time.perf_counter()
        await asyncio.gather(*(one(t, i) for i in instances for t in METRIC_QUERIES.values()))
        return (time.perf_counter() - started) * 1000, client.requests


async def run(vms: int, rounds: int, workdir: Path) -> None:
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.monitor.service import MonitorService
    from tests.monitor.rows import add_run

    ips = fleet_ips(vms)
    stack = PromStack(workdir / "prom", scrape_interval="15s", extra_instances=[f"{ip}:9100" for ip in ips])
    stack.workdir.mkdir(parents=True)
    try:
        t0 = time.perf_counter()
        stack.start_exporter()
        stack.start_prometheus()
        stack.wait_for_samples(vms + 1, timeout=240)
        print(f"Prometheus with {vms + 1} scraped instances (every 15 s) ready in {time.perf_counter() - t0:.1f} s ({stack.url})")
        print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs")

        ctx = await open_context(load_config(cli={"home": str(workdir / "home")}), user="bench")
        try:
            await seed(ctx, ips, stack.url)
            # One VM of the bench user's own, for the 1-resource baseline (scope "mine").
            await add_run(ctx, service="single", created_by="other", vms=[("SOLO", ips[0])], occupy_user="other")
            service = MonitorService(ctx)
            await service.snapshot()  # warm: connection, store, Prometheus caches
            print(f"\n{'case':44} {'rows':>5} {'req':>4}  time")
            results = {}
            from dataclasses import replace

            from jumpdeck.core.identity import Actor, Role

            solo = MonitorService(replace(ctx, actor=Actor("other", Role.OPERATOR)))
            await solo.snapshot()
            cases = (("1 resource, instant (CLI)", solo, False, False),
                     ("1 resource, screen refresh", solo, True, False),
                     ("1 resource, screen refresh + hour range", solo, True, True),
                     (f"{vms} resources, instant (CLI)", service, False, False),
                     (f"{vms} resources, screen refresh", service, True, False),
                     (f"{vms} resources, screen refresh + hour range", service, True, True))
            for label, svc, history, fresh in cases:
                times, requests, rows = await measure(svc, rounds, history=history, everyone=False, fresh_history=fresh)
                results[label] = statistics.median(times)
                print(f"{label:44} {rows:5d} {requests:4d}  {summary(times)}")
            # Where a fleet refresh goes: the store read (a thread) vs the three queries.
            store_ms = []
            for _ in range(rounds):
                t = time.perf_counter()
                await service.resources(everyone=False)
                store_ms.append((time.perf_counter() - t) * 1000)
            print(f"{'  of which the store read (1000 pool rows)':44} {'':5} {'':4}  {summary(store_ms)}")
            raw_ms = await prometheus_alone(stack.url, service, rounds)
            print(f"{'Prometheus alone: the 3 queries, plain httpx':44} {vms:5d} {3:4d}  {summary(raw_ms)}")
            await service.aclose()
            await solo.aclose()

            instances = [f"{ip}:9100" for ip in ips]
            naive_ms, naive_requests = await naive_refresh(stack.url, instances)
            print(f"{'baseline: one request per VM and metric':44} {vms:5d} {naive_requests:4d}  {naive_ms:7.1f} ms (1 round)")
            fleet = results[f"{vms} resources, instant (CLI)"]
            print(f"\nratio baseline / batched (instant refresh): {naive_ms / fleet:.1f}x faster, "
                  f"{naive_requests // 3}x fewer requests")
            print(f"cost of the fleet vs 1 resource (instant refresh): {fleet / results['1 resource, instant (CLI)']:.1f}x time, "
                  "same requests")
            await screen_bench(ctx.config, rounds=max(3, rounds // 4))
            print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        finally:
            ctx.close()
    finally:
        stack.stop()


def send_key(app, key: str) -> None:
    """A key as the terminal driver delivers one. Not `pilot.press`: that waits until the
    process has been idle for 20 ms (up to 2 s), which never happens while this bench's
    own ticker runs, so it would time the wait rather than the key."""
    from textual import events

    event = events.Key(key, None)
    event.set_sender(app)
    app._driver.send_message(event)


async def screen_bench(config, *, rounds: int) -> None:
    """The Monitor screen with the fleet: how long a refresh holds the event loop (a key
    pressed then waits that long) and how long keys take while refreshes run."""
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.monitor import MonitorScreen
    from jumpdeck.tui.widgets.line_table import LineTable

    app = JumpdeckApp(config, user="bench", start_mode="monitor")
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while not (isinstance(app.screen, MonitorScreen) and app.screen.refreshes > 0):
            if time.monotonic() > deadline:
                raise SystemExit("bench: the Monitor screen did not load")
            await pilot.pause(0.05)
        screen = app.screen
        table = screen.query_one("#mon-table", LineTable)
        table.focus()
        table.move_cursor(table.row_count // 2)
        await pilot.pause()

        # Event-loop lag: a 5 ms ticker; any overshoot is time a key press would have waited.
        # The same gap in the main thread's CPU time: what the loop itself spent between two
        # ticks, which a loaded machine (other processes taking the CPU) does not inflate.
        lags: list[float] = []
        cpu_lags: list[float] = []
        running = True

        async def ticker() -> None:
            while running:
                t, c = time.perf_counter(), time.thread_time()
                await asyncio.sleep(0.005)
                lags.append((time.perf_counter() - t - 0.005) * 1000)
                cpu_lags.append((time.thread_time() - c) * 1000)

        tick = asyncio.create_task(ticker())
        key_ms: list[float] = []
        render_ms: list[float] = []

        async def watch_renders() -> None:
            # From the snapshot's arrival to the table showing it (the render worker done).
            seen, count, arrived = screen._snapshot, screen.refreshes, None
            while running:
                if screen._snapshot is not seen:
                    seen, arrived = screen._snapshot, time.perf_counter()
                if screen.refreshes != count:
                    count = screen.refreshes
                    if arrived is not None:
                        render_ms.append((time.perf_counter() - arrived) * 1000)
                        arrived = None
                await asyncio.sleep(0.001)

        watcher = asyncio.create_task(watch_renders())
        presses = 0
        whole_ms: list[float] = []
        for i in range(rounds):
            done = screen.refreshes
            if i % 2:  # every other refresh re-reads the hour too, as when the grid moves on
                screen._service._history_key = None
            polled = time.perf_counter()
            screen.load()
            # Keys while the refresh is in flight: time from press to the cursor moving.
            while screen.refreshes == done:
                row = table.cursor_row
                t = time.perf_counter()
                presses += 1
                send_key(app, "down" if presses % 2 else "up")
                while table.cursor_row == row and time.perf_counter() - t < 2:
                    await asyncio.sleep(0)
                key_ms.append((time.perf_counter() - t) * 1000)
            whole_ms.append((time.perf_counter() - polled) * 1000)
        running = False
        await tick
        await watcher
        print(f"\nMonitor screen, {table.row_count} rows, {rounds} refreshes with keys pressed meanwhile:")
        print(f"  poll to table updated (snapshot, then the table):      {summary(whole_ms)}")
        print(f"  snapshot to table updated (diff, changed cells, re-sort): {summary(render_ms)}")
        print(f"  key press to cursor move ({len(key_ms)} keys): {summary(key_ms)}  max {max(key_ms):.1f} ms")
        print(f"  event-loop stall (5 ms ticker overshoot): {summary(lags)}  max {max(lags):.1f} ms")
        print(f"  event-loop stall, main thread CPU between ticks: {summary(cpu_lags)}  max {max(cpu_lags):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    missing = binaries_missing()
    if missing:
        raise SystemExit(f"bench: {missing}")
    with tempfile.TemporaryDirectory(prefix="jumpdeck-bench-monitor-") as tmp:
        asyncio.run(run(args.vms, args.rounds, Path(tmp)))


if __name__ == "__main__":
    main()
