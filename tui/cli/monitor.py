"""`jumpdeck monitor`: CPU, memory and disk of provisioned resources, for people and cron.

Exit 0 when every resource is ok, 1 when any is warning, critical, without data, unknown, or
Prometheus cannot be read: usable as a Nagios/cron check as it is.
"""

from __future__ import annotations

import argparse
import sys

from jumpdeck.tui.cli import EXIT_FAIL, EXIT_OK, run_with_context
from jumpdeck.tui.cli.output import dumps, print_table


def register(sub: argparse._SubParsersAction) -> None:
    monitor = sub.add_parser(
        "monitor", help="CPU, memory and disk of your provisioned resources from Prometheus",
        description="One line per resource, worst first: VM, IP, run, CPU/memory/root-disk use and state. "
                    "Exit 0 when all are ok, 1 when any is warning/critical/no data or Prometheus is unreachable.")
    monitor.add_argument("--json", action="store_true", help="a JSON array of {vm_name, ip, run_id, cpu_pct, mem_pct, "
                                                              "disk_pct, state, ...} for scripts")
    monitor.add_argument("--all", action="store_true", help="every operator's resources (admin)")
    monitor.set_defaults(run=lambda a: run_with_context(a, _monitor))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


async def _monitor(args, ctx) -> int:
    from jumpdeck.core.monitor.service import Level, MonitorService

    service = MonitorService(ctx)
    try:
        # Without --all everyone, admins too, sees their own: the flag is the explicit "show me the fleet".
        snap = await service.snapshot(everyone=True if args.all else False)
    finally:
        await service.aclose()
    if args.json:
        print(dumps([row.as_dict() for row in snap.rows]))
    elif snap.rows:
        print_table(["vm_name", "ip", "run_id", "service", "role", "cpu%", "mem%", "disk%", "state"],
                    [[r.resource.vm_name, r.resource.ip, "-" if r.resource.run_id is None else r.resource.run_id,
                      r.resource.service or "-", r.resource.role, _pct(r.cpu.value), _pct(r.mem.value),
                      _pct(r.disk.value), r.state.label] for r in snap.rows])
    if snap.problem is not None:
        print(f"jumpdeck: {snap.message}" + (f" {snap.remedy}" if snap.remedy else ""), file=sys.stderr)
    elif not args.json:
        counts = snap.counts()
        parts = [f"{n} {level.label}" for level, n in counts.items() if n]
        summary = ", ".join(parts) if parts else "nothing to watch"
        where = f" from {snap.url}" if snap.url else ""
        print(f"{len(snap.rows)} resource(s): {summary}{where} "
              f"(warning at {snap.thresholds.warning:g} %, critical at {snap.thresholds.critical:g} %).")
        if counts[Level.NO_DATA] and snap.remedy:
            print(f"jumpdeck: {snap.remedy}", file=sys.stderr)
    return EXIT_OK if snap.healthy else EXIT_FAIL
