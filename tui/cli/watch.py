"""`jumpdeck watch|watch-pin|history|incidents|uptime`: the fleet watch and what it kept.

`jumpdeck watch` runs until SIGTERM or Ctrl-C (a systemd unit on each jump host; see the
README's "Fleet watch"), printing a line per incident opened or closed. The others read
the store: exit 0, or 2 on a usage error (an unknown server name, a bad --since).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta, timezone

from jumpdeck.tui.cli import EXIT_OK, EXIT_USAGE, run_with_context
from jumpdeck.tui.cli.inputs import seconds
from jumpdeck.tui.cli.output import dumps, print_table

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW = timedelta(days=400)


def window(text: str) -> timedelta:
    """An argparse type for --since: a number and s, m, h or d (`90m`, `24h`, `30d`)."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([smhd])\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a duration such as 90m, 24h or 30d")
    value = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if not timedelta(0) < value <= MAX_WINDOW:
        raise argparse.ArgumentTypeError("the window must be above 0 and at most 400d (what the watch keeps)")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    watch = sub.add_parser("watch", help="check the fleet on schedule and record history (one per jump host)",
                           description="Check every active server on its interval, sharing the fleet with the "
                           "other jump hosts on the store; record latest results, incidents and aggregates. "
                           "Runs until SIGTERM or Ctrl-C, then releases its servers.")
    watch.add_argument("--site", help="this watch's site: it also checks servers pinned to it (default: host name)")
    watch.add_argument("--interval", type=seconds(1, 86400), metavar="S",
                       help="seconds between two checks of a server (default: setting watch_interval, 60)")
    watch.add_argument("--json", action="store_true", help="one JSON object per incident opened or closed")
    watch.set_defaults(run=lambda a: run_with_context(a, _watch))

    pin = sub.add_parser("watch-pin", help="let only the watch of one site check a server (admin)",
                         description="Pin a server to a site: only a `jumpdeck watch --site SITE` checks it. "
                         "--any unpins it.")
    pin.add_argument("name", metavar="NAME")
    where = pin.add_mutually_exclusive_group(required=True)
    where.add_argument("site", nargs="?", metavar="SITE")
    where.add_argument("--any", action="store_true", help="any watch may check it again")
    pin.set_defaults(run=lambda a: run_with_context(a, _pin))

    history = sub.add_parser("history", help="a server's up/down counts and latency over a window",
                             description="Per-minute buckets for up to 24h, per-hour up to 30d, per-day beyond, "
                             "and the incidents in the window.")
    history.add_argument("name", metavar="NAME")
    history.add_argument("--since", type=window, default=timedelta(hours=24), metavar="WINDOW",
                         help="how far back: 90m, 24h, 30d (default 24h)")
    history.add_argument("--json", action="store_true", help="one JSON object per bucket and per incident, per line")
    history.set_defaults(run=lambda a: run_with_context(a, _history))

    incidents = sub.add_parser("incidents", help="servers down, open ones first",
                               description="Incidents the watch opened (a server down after N failed checks).")
    incidents.add_argument("--open", action="store_true", help="only incidents still open")
    incidents.add_argument("--json", action="store_true", help="one JSON object per incident, per line")
    incidents.set_defaults(run=lambda a: run_with_context(a, _incidents))

    uptime = sub.add_parser("uptime", help="uptime of every server over 24 h and 30 d",
                            description="Uptime from the watch's hourly and daily aggregates.")
    uptime.add_argument("--group", help="only servers of this group")
    uptime.add_argument("--json", action="store_true", help="one JSON object per server, per line")
    uptime.set_defaults(run=lambda a: run_with_context(a, _uptime))


async def _server_id(ctx, name: str) -> int | None:  # noqa: ANN001
    from jumpdeck.core.errors import NotFound
    from jumpdeck.core.servers.registry import ServerRegistry

    try:
        return (await ServerRegistry(ctx.store, ctx.secrets).get_by_name(ctx.actor, name)).id
    except NotFound as error:
        print(f"jumpdeck: {error}", file=sys.stderr)
        return None


def _json_lines(items) -> int:  # noqa: ANN001 - records with as_json()
    for item in items:
        print(dumps(item.as_json()))
    return EXIT_OK


def _at(value) -> str:  # noqa: ANN001
    return "" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


async def _watch(args, ctx) -> int:
    import asyncio
    import signal
    from dataclasses import asdict

    from jumpdeck.core.servers.checks import CheckEngine
    from jumpdeck.core.servers.registry import ServerRegistry
    from jumpdeck.core.watch.events import IncidentOpened, describe
    from jumpdeck.core.watch.service import WatchOptions, WatchService

    options = WatchOptions.from_settings(await ctx.settings.get(), interval=args.interval)
    engine = CheckEngine(concurrency=ctx.config.check_concurrency, timeout=ctx.config.check_timeout)
    service = WatchService(ctx.store, ServerRegistry(ctx.store, ctx.secrets), engine, ctx.actor, options,
                           site=args.site)

    def show(event) -> None:  # noqa: ANN001
        if args.json:
            kind = "incident_opened" if isinstance(event, IncidentOpened) else "incident_closed"
            print(dumps({"event": kind, **asdict(event)}), flush=True)
        else:
            print(describe(event), flush=True)

    service.subscribe(show)
    from jumpdeck.core.notify.notifier import Notifier
    from jumpdeck.core.watch.alerts import IncidentAlerts

    # Incidents are notified (server down / up) to the targets of `jumpdeck notify`.
    alerts = IncidentAlerts(Notifier(ctx.store, ctx.secrets, ctx.actor), ServerRegistry(ctx.store, ctx.secrets),
                            ctx.actor, failures=options.failures_to_open)
    service.subscribe(alerts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if not args.json:
        print(f"Watch {service.me.label} started (site {service.me.site}, every {options.interval:g} s, incident "
              f"after {options.failures_to_open} failures); SIGTERM or Ctrl-C stops it.", flush=True)
    try:
        await service.run(stop)
    finally:
        await alerts.close()
        engine.close()
    if not args.json:
        print(f"Watch stopped: {service.checked} results written, its servers released.", flush=True)
    return EXIT_OK


async def _pin(args, ctx) -> int:
    from jumpdeck.core.watch.pins import pin_server

    server_id = await _server_id(ctx, args.name)
    if server_id is None:
        return EXIT_USAGE
    site = None if args.any else args.site
    await pin_server(ctx.store, ctx.actor, server_id, site)
    print(f"{args.name} is checked by the watch of site {site}." if site else f"{args.name} is checked by any watch.")
    return EXIT_OK


async def _history(args, ctx) -> int:
    from jumpdeck.core.watch.history import WatchHistory

    server_id = await _server_id(ctx, args.name)
    if server_id is None:
        return EXIT_USAGE
    reader = WatchHistory(ctx.store)
    buckets = await reader.history(ctx.actor, server_id, args.since)
    since = datetime.now(timezone.utc).replace(tzinfo=None) - args.since
    incidents = await reader.incidents(ctx.actor, server_id=server_id, since=since)
    if args.json:
        for bucket in buckets:
            print(dumps({"bucket": bucket.as_json()}))
        for incident in incidents:
            print(dumps({"incident": incident.as_json()}))
        return EXIT_OK

    def ms(value) -> str:  # noqa: ANN001
        return "" if value is None else f"{value:.1f}"

    print_table(["start (UTC)", "up", "down", "uptime %", "avg ms", "min ms", "max ms"],
                [(_at(b.start), b.up, b.down, f"{100 * b.up / (b.up + b.down):.1f}", ms(b.latency_avg),
                  ms(b.latency_min), ms(b.latency_max)) for b in buckets],
                empty=f"No checks of {args.name} recorded in that window (is `jumpdeck watch` running?).")
    if incidents:
        print()
        _print_incidents(incidents)
    return EXIT_OK


def _print_incidents(incidents) -> None:  # noqa: ANN001
    print_table(["id", "server", "kind", "started (UTC)", "ended (UTC)", "message"],
                [(i.id, i.name, i.error_kind, _at(i.started_at), _at(i.ended_at) or "open", i.message[:100])
                 for i in incidents], empty="No incidents.")


async def _incidents(args, ctx) -> int:
    from jumpdeck.core.watch.history import WatchHistory

    incidents = await WatchHistory(ctx.store).incidents(ctx.actor, open_only=args.open)
    if args.json:
        return _json_lines(incidents)
    if not incidents:
        print("No open incidents." if args.open else "No incidents.")
        return EXIT_OK
    _print_incidents(incidents)
    return EXIT_OK


async def _uptime(args, ctx) -> int:
    from jumpdeck.core.watch.history import WatchHistory

    rows = await WatchHistory(ctx.store).uptime(ctx.actor, group=args.group)
    if args.json:
        return _json_lines(rows)

    def pct(value) -> str:  # noqa: ANN001
        return "-" if value is None else f"{value:.2f}"

    print_table(["server", "group", "status", "24h %", "30d %", "checks 24h", "checked (UTC)", "down since (UTC)"],
                [(r.name, r.group, r.status or "never checked", pct(r.uptime_24h), pct(r.uptime_30d), r.checks_24h,
                  _at(r.checked_at), _at(r.down_since)) for r in rows],
                empty="No active servers" + (f" in group {args.group}." if args.group else "."))
    return EXIT_OK
