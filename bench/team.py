"""Benchmark: how fast a change made on one jump host is drawn on another, and what
being live costs when nothing changes.

Host A is this process; host B is a second process running the real app (Servers
screen, headless at 120x40) on the same store. A renames a server 100 times, one
commit at a time, waiting for B to draw each name before the next. B stamps the moment
the grid holding the new name was drawn. Both clocks are this machine's.

The baseline, measured in the same run: a third process that only listens (the
bare change feed, no app) and stamps each notification: the floor the app adds its
reload and frame to. Printed: median and p95 of commit -> drawn, and the same over
the floor as a ratio.

Idle cost (PostgreSQL): transactions the database counts in a minute while B sits
idle on the grid (pg_stat_database.xact_commit, minus this script's own reads).

    .venv/bin/python bench/team.py [--changes 100] [--idle 60] [--store sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _config(home: str, url: str | None):  # noqa: ANN202
    from jumpdeck.core.config import load_config

    cli = {"home": home}
    if url:
        cli["store_url"] = url
    return load_config(cli=cli, env={"JUMPDECK_CONFIG": os.devnull})


async def host_b(home: str, url: str | None) -> None:
    """The app on host B: print one JSON line per redraw of the grid, with its names."""
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.servers import ServersScreen

    ServersScreen.AUTO_CHECK = False
    drawn: list[tuple[float, list[str]]] = []
    original = ServersScreen.redraw

    def redraw(self) -> None:  # noqa: ANN001
        original(self)
        drawn.append((0.0, sorted(r.info.name for r in self.fleet.rows.values())))

    ServersScreen.redraw = redraw  # type: ignore[method-assign]
    app = JumpdeckApp(_config(home, url), user="admin")
    async with app.run_test(size=(120, 40)) as pilot:
        while app.ctx is None or app.current_mode != "servers":
            await pilot.pause(0.05)
        print(json.dumps({"ready": True}), flush=True)
        seen = 0
        while True:
            await pilot.pause(0.002)
            if len(drawn) > seen:
                # The frame after the redraw is on screen once the pause returns.
                stamp = time.time()
                for _, names in drawn[seen:]:
                    print(json.dumps({"at": stamp, "names": names}), flush=True)
                seen = len(drawn)
            if Path(home, "stop").exists():
                break


async def listener(home: str, url: str | None) -> None:
    """The floor: the bare feed in a process of its own, stamping each notification."""
    from jumpdeck.core.context import open_context

    ctx = await open_context(_config(home, url), user="admin")
    feed = ctx.changes()
    feed.subscribe({"servers"}, lambda _t: print(json.dumps({"at": time.time()}), flush=True))
    await feed.started()
    print(json.dumps({"ready": True}), flush=True)
    while not Path(home, "stop").exists():
        await asyncio.sleep(0.05)
    ctx.close()


def _spawn(role: str, home: str, url: str | None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, __file__, role, home, url or ""], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "JUMPDECK_HOME": home})
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"{role} did not start")
        if json.loads(line).get("ready"):
            return proc


def _server_log() -> Path | None:
    """The PostgreSQL server's log file, where a local install writes it."""
    logs = sorted(Path("/var/log/postgresql").glob("*.log"), key=lambda p: p.stat().st_mtime)
    return logs[-1] if logs else None


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * 0.95) - 1)]


async def measure(kind: str, changes: int, idle: float) -> None:
    from sqlalchemy import create_engine, text

    from jumpdeck.core.context import open_context
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec

    tmp = Path(tempfile.mkdtemp(prefix="jd-team-bench-"))
    url = None
    admin = None
    dbname = f"jd_team_bench_{os.getpid()}"
    if kind == "postgresql":
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {dbname}"))
            # Set before anyone connects: a session takes it when it starts. Every
            # statement B sends is then in the server's log for the idle count below.
            conn.execute(text(f"ALTER DATABASE {dbname} SET log_statement = 'all'"))
        url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    try:
        home = str(tmp / "home")
        ctx = await open_context(_config(home, url), user="admin")
        registry = ServerRegistry(ctx.store, ctx.secrets)
        for i in range(20):
            await registry.create(ctx.actor, ServerSpec(name=f"db-{i:02d}", db_type="postgresql", host="127.0.0.1",
                                                        username="postgres", password=Secret("x")))
        target = (await registry.list(ctx.actor))[0]
        b = _spawn("--host-b", home, url)
        floor = _spawn("--listener", home, url)
        app_ms, floor_ms = [], []
        for n in range(changes):
            name = f"renamed-{n:03d}"
            committed = time.time()
            await registry.update(ctx.actor, target.id, ServerSpec(name=name, db_type="postgresql", host="127.0.0.1",
                                                                   username="postgres"))
            got_floor = json.loads(await asyncio.to_thread(floor.stdout.readline))["at"]
            floor_ms.append((got_floor - committed) * 1000)
            while True:
                line = json.loads(await asyncio.to_thread(b.stdout.readline))
                if name in line.get("names", []):
                    app_ms.append((line["at"] - committed) * 1000)
                    break
            await asyncio.sleep(0.02)
        print(f"{kind}: commit on A -> drawn on B: median {statistics.median(app_ms):.0f} ms, p95 {_p95(app_ms):.0f} ms "
              f"over {changes} changes (goal: median <= 250 ms, p95 <= 1000 ms)")
        print(f"{kind}: floor (bare feed in a third process): median {statistics.median(floor_ms):.1f} ms, "
              f"p95 {_p95(floor_ms):.1f} ms; app / floor: median {statistics.median(app_ms) / max(statistics.median(floor_ms), 0.1):.2f}x")
        floor_stop = Path(home, "stop")
        if admin is not None and idle:
            # Only B stays connected (A and the listener are quiet or gone) during the idle minute.
            floor.terminate()
            ctx.close()

            def backends() -> set[int]:
                with admin.connect() as conn:
                    return set(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                            {"d": dbname}).scalars())

            # Every statement B's connections send is logged (autovacuum's work on the
            # bench's own writes is not, which a transaction counter would include).
            log = _server_log()
            await asyncio.sleep(2)
            pids = backends()
            start = log.stat().st_size if log else 0
            await asyncio.sleep(idle)
            pids |= backends()
            count = None
            if log:
                with log.open("rb") as f:
                    f.seek(start)
                    lines = f.read().decode(errors="replace").splitlines()
                count = sum(1 for line in lines if "statement:" in line and any(f"[{p}]" in line for p in pids))
            if count is None:
                print(f"{kind}: the PostgreSQL server log was not found; idle statements not counted")
            else:
                print(f"{kind}: statements per idle minute from B ({len(pids)} connections, the listener's among them): "
                      f"{count * 60 / idle:.1f} (goal: <= 2)")
        else:
            ctx.close()
        floor_stop.write_text("")
        for proc in (b, floor):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'"))
                conn.execute(text(f"DROP DATABASE IF EXISTS {dbname}"))
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--host-b", "--listener"):
        role, home, url = sys.argv[1], sys.argv[2], sys.argv[3] or None
        asyncio.run(host_b(home, url) if role == "--host-b" else listener(home, url))
    else:
        parser = argparse.ArgumentParser()
        parser.add_argument("--changes", type=int, default=100)
        parser.add_argument("--idle", type=float, default=60.0)
        parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
        args = parser.parse_args()
        for kind in (("sqlite", "postgresql") if args.store == "both" else (args.store,)):
            asyncio.run(measure(kind, args.changes, args.idle))
