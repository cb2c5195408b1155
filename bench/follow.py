"""Benchmark: from a line written by a running playbook to the line drawn in a second
jumpdeck process that follows the run.

This process starts a real Ansible run (template `single`, connection local, everything
under a temp dir); a second process opens a headless Textual app with the run log and
follows the run exactly as the Provision screen does (poll the store for events after
the last id, write each batch, let the frame draw). For each line it records the time
the frame was drawn; the playbook's own event time (ansible-runner's `created`) is the
start. Prints median, p95 and max latency, and the poll interval as the floor.

    .venv/bin/python bench/follow.py [--runs 2]
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
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


async def follower(home: str, run_id: int) -> None:
    """The second process: follow the run into a RunLog and time each drawn batch."""
    from textual.app import App, ComposeResult

    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.provision.events import TERMINAL_STATUSES
    from jumpdeck.core.provision.service import ProvisionService
    from jumpdeck.tui.widgets.run_log import RunLog

    config = load_config(cli={"home": home})
    ctx = await open_context(config, user="admin")
    svc = ProvisionService(ctx.store, config, ctx.settings)
    latencies: list[float] = []

    class FollowApp(App):
        def compose(self) -> ComposeResult:
            yield RunLog(id="log")

    app = FollowApp()
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.query_one(RunLog)
        # Lines written before this process was following are a replay, not latency.
        ready = utcnow()
        last = 0
        while True:
            batch = await svc.events(ctx.actor, run_id, after_id=last)
            if batch:
                last = batch[-1].id
                log.write_lines([(e.text, e.result or None, e.at) for e in batch])
                await pilot.pause()  # the frame with these lines is drawn
                drawn = utcnow()
                latencies += [(drawn - e.at).total_seconds() for e in batch
                              if e.kind in ("line", "task") and e.at and e.at >= ready]
                continue
            info = await svc.get(ctx.actor, run_id)
            if info.status in TERMINAL_STATUSES:
                break
            await asyncio.sleep(0.1)
    ctx.close()
    print(json.dumps(latencies))


def stop_services(root: Path) -> None:
    for pidfile in root.glob("*/*/run/http.pid"):
        try:
            os.kill(int(pidfile.read_text()), 15)
            pidfile.unlink()
        except (ProcessLookupError, ValueError, OSError):
            pass


async def leader(runs: int) -> None:
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.provision.pool import Pool
    from jumpdeck.core.provision.service import ProvisionService

    tmp = Path(tempfile.mkdtemp(prefix="jd-follow-bench-"))
    try:
        config = load_config(cli={"home": str(tmp / "home")})
        ctx = await open_context(config, user="admin")
        await ctx.settings.set(ctx.actor, {"provision_root": str(tmp / "targets"), "provision_http_port": 18790})
        await Pool(ctx.store).add(ctx.actor, "bench-vm", "127.0.0.1")
        svc = ProvisionService(ctx.store, config, ctx.settings)
        all_lat: list[float] = []
        for n in range(runs):
            info = await svc.start(ctx.actor, "single", f"follow-bench-{n}", runner="ansible", target="local")
            out = subprocess.run([sys.executable, __file__, "--follower", str(config.home), str(info.id)],
                                 capture_output=True, text=True, timeout=300, env=dict(os.environ))
            if out.returncode != 0:
                raise SystemExit(out.stderr)
            all_lat += json.loads(out.stdout.strip().splitlines()[-1])
            done = await svc.get(ctx.actor, info.id)
            await svc.teardown(ctx.actor, info.id)
            stop_services(tmp / "targets")
            print(f"run {info.id}: {done.status}, {len(all_lat)} lines timed so far")
        ctx.close()
        all_lat.sort()
        ms = [x * 1000 for x in all_lat]
        print(f"playbook line -> drawn in a second process: median {statistics.median(ms):.0f} ms, "
              f"p95 {ms[int(len(ms) * 0.95) - 1]:.0f} ms, max {ms[-1]:.0f} ms over {len(ms)} lines "
              f"(goal: median <= 250 ms; store poll interval 100 ms)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--follower":
        asyncio.run(follower(sys.argv[2], int(sys.argv[3])))
    else:
        parser = argparse.ArgumentParser()
        parser.add_argument("--runs", type=int, default=2)
        asyncio.run(leader(parser.parse_args().runs))
