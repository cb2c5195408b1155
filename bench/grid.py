"""Benchmark: the Servers grid with 1,000 registered servers, headless.

    .venv/bin/python bench/grid.py [--n 1000] [--presses 60]

Prints (1) the time from the store being open to the grid's first paint with every
server loaded (goal <= 150 ms), and (2) key-press-to-handled latency (cursor moves)
while the first round of 1,000 checks runs (goal: p95 <= 100 ms). The fleet is the
local PostgreSQL and MariaDB plus 10 % silent listeners, so the round lasts a while.
Only loopback is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def silent_listeners(count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        socks.append(sock)
    return socks


async def seed(config, n: int, silent_ports: list[int]) -> None:
    """Insert the fleet in one transaction (the registry's per-server path is for people)."""
    from jumpdeck.core.context import open_context
    from jumpdeck.core.store.models import ServerRow

    ctx = await open_context(config, user="admin")
    try:
        empty = ctx.secrets.encrypt("")

        def insert(session) -> None:
            real = n - len(silent_ports)
            rows = []
            for i in range(n):
                if i < real and i % 2 == 0:
                    kind, port, user, db = "postgresql", 5432, "postgres", "postgres"
                elif i < real:
                    kind, port, user, db = "mysql", 3306, "root", ""
                else:
                    kind, port, user, db = "postgresql", silent_ports[i - real], "u", "postgres"
                name = f"db-{i:04d}"
                rows.append(ServerRow(name=name, name_key=name, db_type=kind, host="127.0.0.1", port=port,
                                      username=user, password_enc=empty, default_db=db, tags=["bench"]))
            session.add_all(rows)

        await ctx.store.run(insert)
    finally:
        ctx.close()


async def measure(config, presses: int, timeout: float) -> tuple[float, list[float], int, float]:
    import jumpdeck.core.context
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.servers import ServersScreen
    from jumpdeck.tui.widgets.server_grid import ServerGrid

    marks: dict[str, float] = {}
    real_open = jumpdeck.core.context.open_context

    async def timed_open(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        ctx = await real_open(*args, **kwargs)
        marks["store_open"] = time.perf_counter()
        return ctx

    jumpdeck.core.context.open_context = timed_open
    real_render = ServerGrid.render_line

    def timed_render(self, y):  # noqa: ANN001, ANN202
        if "first_paint" not in marks and len(self.rows) >= 1:
            marks["first_paint"] = time.perf_counter()
            marks["rows_at_paint"] = len(self.rows)
        return real_render(self, y)

    ServerGrid.render_line = timed_render
    handled: list[float] = []
    real_move = ServerGrid.action_move

    def timed_move(self, dx, dy):  # noqa: ANN001, ANN202
        handled.append(time.perf_counter())
        return real_move(self, dx, dy)

    ServerGrid.action_move = timed_move
    latencies: list[float] = []
    round_seen = 0
    app = JumpdeckApp(config, user="admin")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(400):
                await pilot.pause(0.01)
                if "first_paint" in marks:
                    break
            screen = app.screen
            assert isinstance(screen, ServersScreen), screen
            # Wait for the round to begin, then press keys while it runs.
            for _ in range(200):
                if screen.round_progress is not None:
                    break
                await pilot.pause(0.01)
            keys = ["down", "right", "up", "left"]
            for i in range(presses):
                if screen.round_progress is None:
                    break  # only presses during the round count
                round_seen += 1
                before = len(handled)
                start = time.perf_counter()
                await pilot.press(keys[i % 4])
                for _ in range(500):
                    if len(handled) > before:
                        break
                    await asyncio.sleep(0.001)
                latencies.append((handled[before] - start) * 1000)
                await asyncio.sleep(0.005)
            await app.workers.wait_for_complete()
    finally:
        jumpdeck.core.context.open_context = real_open
        ServerGrid.render_line = real_render
        ServerGrid.action_move = real_move
    first_paint = (marks["first_paint"] - marks["store_open"]) * 1000
    return first_paint, latencies, round_seen, marks.get("rows_at_paint", 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--presses", type=int, default=200, help="at most this many, while the round runs")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()

    from jumpdeck.core.config import load_config

    socks = silent_listeners(args.n // 10)
    with tempfile.TemporaryDirectory() as home:
        config = load_config(cli={"home": home}, env={"JUMPDECK_CHECK_TIMEOUT": str(args.timeout)})
        asyncio.run(seed(config, args.n, [s.getsockname()[1] for s in socks]))
        first_paint, latencies, during_round, rows = asyncio.run(measure(config, args.presses, args.timeout))
    for sock in socks:
        sock.close()
    import os

    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (figures mean little above ~1)")
    if not latencies:
        print("the round ended before any key was pressed: raise --n")
        return 1
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"grid bench: {args.n} servers ({args.n // 10} silent), check timeout {args.timeout:g} s, 120x40 headless")
    print(f"  first paint after the store opened: {first_paint:6.1f} ms with {rows} servers (goal <= 150 ms)")
    print(f"  key press -> handled while checks run: median {statistics.median(latencies):5.1f} ms, "
          f"p95 {p95:5.1f} ms, max {latencies[-1]:5.1f} ms over {len(latencies)} presses "
          f"during the round (goal p95 <= 100 ms)")
    print("goals met" if first_paint <= 150 and p95 <= 100 else "goals NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
