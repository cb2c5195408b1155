"""`jumpdeck check`: connection checks for cron and monitoring.

Results print as they land (a table row, or one JSON object per line with `--json`).
Exit status: 0 when every checked server is online, 1 when any is offline, 2 on a usage
error (an unknown name, a bad option). A server whose password this host cannot decrypt
is offline with kind `secret` (the registry's target says so): a failed check, not an abort.
"""

from __future__ import annotations

import argparse
import sys

from jumpdeck.tui.cli import EXIT_FAIL, EXIT_OK, EXIT_USAGE, run_with_context
from jumpdeck.tui.cli.output import dumps

DB_TYPES = ("postgresql", "mysql", "mssql", "oracle")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("the timeout must be above 0 and at most 600 seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("the concurrency must be from 1 to 1000")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="test connections to servers and print each result as it lands",
                       description="Connect to each server, read its version, and print the result as it lands. "
                       "Exit 0 when all are online, 1 when any is offline, 2 on a usage error.")
    p.add_argument("names", nargs="*", metavar="NAME", help="servers to check (default: every active server)")
    p.add_argument("--type", choices=DB_TYPES, help="only servers of this DB type")
    p.add_argument("--timeout", type=_positive_float, help="seconds per server (default: config check_timeout, 5)")
    p.add_argument("--concurrency", type=_positive_int, help="checks at once (default: config check_concurrency, 64)")
    p.add_argument("--sequential", action="store_true", help="one server at a time (no burst of logins on the fleet)")
    p.add_argument("--json", action="store_true", help="one JSON object per result, per line")
    p.set_defaults(run=lambda a: run_with_context(a, _check))


async def _check(args, ctx) -> int:
    from jumpdeck.core.errors import NotFound
    from jumpdeck.core.servers.checks import CheckEngine, summarize
    from jumpdeck.core.servers.registry import ServerRegistry
    from jumpdeck.core.servers.values import PASSWORD_UNASKED

    registry = ServerRegistry(ctx.store, ctx.secrets)
    ids = None
    if args.names:
        ids = []
        for name in args.names:
            try:
                ids.append((await registry.get_by_name(ctx.actor, name)).id)
            except NotFound as error:
                print(f"jumpdeck: {error}", file=sys.stderr)
                return EXIT_USAGE
    targets = await registry.check_targets(ctx.actor, ids)
    if args.type:
        targets = [t for t in targets if t.credentials.db_type.value == args.type]
    if not targets:
        print("jumpdeck: no server to check" + (f" of type {args.type}" if args.type else "") + ".", file=sys.stderr)
        return EXIT_OK
    timeout = args.timeout or ctx.config.check_timeout
    engine = CheckEngine(concurrency=args.concurrency or ctx.config.check_concurrency, timeout=timeout)
    width = max(len(t.name) for t in targets)
    results = []
    if not args.json:
        print(f"{'STATUS':<8} {'NAME':<{width}}  {'TYPE':<10} {'LATENCY':>8}  DETAIL", flush=True)
    try:
        async for step in engine.check_round(targets, sequential=args.sequential):
            result = step.result
            results.append(result)
            if args.json:
                print(dumps(result.as_json()), flush=True)
                continue
            latency = f"{result.latency_ms:.0f} ms" if result.latency_ms is not None else "-"
            if result.online:
                detail = (result.version or "").splitlines()[0][:100]
                if result.password_unasked:
                    detail += f" · {PASSWORD_UNASKED}"
            else:
                detail = f"{result.error_kind.value}: {result.message} ({result.hint})"
            print(f"{result.status.value:<8} {result.name:<{width}}  {result.db_type.value:<10} {latency:>8}  {detail}",
                  flush=True)
    finally:
        engine.close()
    await _record(ctx, results)
    summary = summarize(results)
    if not args.json:
        print(f"{summary.text()} ({len(results)} checked, timeout {timeout:g} s).")
    return EXIT_OK if summary.offline == 0 else EXIT_FAIL


async def _record(ctx, results) -> None:  # noqa: ANN001
    """Keep what the round found as the servers' latest results and in their history,
    as the watch would; a store that cannot take it costs a warning, never the exit code."""
    from jumpdeck.core.errors import StoreError
    from jumpdeck.core.identity import this_host
    from jumpdeck.core.watch.recorder import record_results

    if ctx.store.read_only or not results:
        return
    try:
        failures = (await ctx.settings.get()).get("watch_failures")
        await record_results(ctx.store, results, checked_by=f"check@{this_host()}", failures_to_open=failures)
    except StoreError as error:
        print(f"jumpdeck: warning: the results were not recorded: {error}", file=sys.stderr)
