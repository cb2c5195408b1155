"""`jumpdeck notify`: notification targets, rules, timings and maintenance windows.

Targets are apprise URLs and hold tokens: `add-target -` reads one from standard input,
so it never lands in the shell's history or `ps`; every listing shows the redacted form.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta, timezone

from jumpdeck.core.notify.events import EventKind
from jumpdeck.tui.cli import EXIT_FAIL, EXIT_OK, run_with_context
from jumpdeck.tui.cli.inputs import whole_number
from jumpdeck.tui.cli.output import dumps, print_table

KINDS = [kind.value for kind in EventKind]
# A window longer than a year is a rule turned off: `notify rule KIND --off` says so.
MAX_WINDOW = timedelta(days=366)
TIMINGS = ["quiet_seconds", "repeat_seconds", "timeout_seconds"]


def register(sub: argparse._SubParsersAction) -> None:
    notify = sub.add_parser("notify", help="notification targets, rules and maintenance windows (changing: admin)",
                            description="Where jumpdeck sends news of failures (apprise URLs), which events, how "
                            "often, and the maintenance windows that mute them. Targets are shown redacted.")
    notify.set_defaults(run=lambda a: (notify.print_help(), 2)[1])
    verbs = notify.add_subparsers(dest="verb", metavar="VERB")

    ls = verbs.add_parser("ls", help="targets (redacted), rules, timings and windows")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=lambda a: run_with_context(a, _ls))

    test = verbs.add_parser("test", help="send a test message to every target, or to one; exit 1 if any failed")
    test.add_argument("target", nargs="?", type=whole_number(1, 10**9, "a target number"), metavar="TARGET")
    test.set_defaults(run=lambda a: run_with_context(a, _test))

    add = verbs.add_parser("add-target", help="add an apprise URL; give - to read it from standard input",
                           description="Add a notification target. Give - and pipe the URL in "
                           "(`jumpdeck notify add-target - < url.txt`): a URL on the command line stays in the "
                           "shell's history and is visible in `ps`.")
    add.add_argument("url", metavar="URL|-")
    add.set_defaults(run=lambda a: run_with_context(a, _add_target))

    rm = verbs.add_parser("rm-target", help="remove target N (numbers from `notify ls`)")
    rm.add_argument("target", type=whole_number(1, 10**9, "a target number"), metavar="N")
    rm.set_defaults(run=lambda a: run_with_context(a, _rm_target))

    rule = verbs.add_parser("rule", help="turn an event kind on or off; --after N for server_down")
    rule.add_argument("kind", choices=KINDS)
    onoff = rule.add_mutually_exclusive_group()
    onoff.add_argument("--on", dest="enabled", action="store_const", const=True)
    onoff.add_argument("--off", dest="enabled", action="store_const", const=False)
    rule.add_argument("--after", type=whole_number(1, 1000, "a number of checks"),
                      help="server_down: failed checks in a row before it is sent")
    rule.set_defaults(run=lambda a: run_with_context(a, _rule))

    timing = verbs.add_parser("set", help="quiet_seconds, repeat_seconds or timeout_seconds")
    timing.add_argument("name", choices=TIMINGS)
    timing.add_argument("value", type=whole_number(0, 30 * 86400, "a number of seconds"))
    timing.set_defaults(run=lambda a: run_with_context(a, _set_timing))

    window = verbs.add_parser("window", help="maintenance windows that mute a server's or a tag's alerts")
    window.set_defaults(run=lambda a: (window.print_help(), 2)[1])
    wverbs = window.add_subparsers(dest="wverb", metavar="VERB")
    wadd = wverbs.add_parser("add", help="mute --server NAME or --tag TAG from --start for --for (times in UTC)")
    which = wadd.add_mutually_exclusive_group(required=True)
    which.add_argument("--server")
    which.add_argument("--tag")
    wadd.add_argument("--start", type=_utc_time, help="'YYYY-MM-DD HH:MM' in UTC (default: now)")
    span = wadd.add_mutually_exclusive_group(required=True)
    span.add_argument("--for", dest="duration", type=_duration, help="how long: 90m, 2h, 1d")
    span.add_argument("--end", type=_utc_time, help="'YYYY-MM-DD HH:MM' in UTC")
    wadd.add_argument("--reason", default="")
    wadd.set_defaults(run=lambda a: run_with_context(a, _window_add))
    wrm = wverbs.add_parser("rm", help="remove window N")
    wrm.add_argument("window", type=whole_number(1, 10**9, "a window number"), metavar="N")
    wrm.set_defaults(run=lambda a: run_with_context(a, _window_rm))


def _utc_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a time like 2026-12-24 22:00") from None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None)


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d{1,6})\s*([mhd])\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a duration like 90m, 2h or 1d")
    amount, unit = int(match[1]), match[2]
    span = timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount) if unit == "h" else timedelta(days=amount)
    if not timedelta(0) < span <= MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"give a duration from 1m to {MAX_WINDOW.days}d, not {text[:40]}")
    return span


def _service(ctx):  # noqa: ANN001, ANN202
    from jumpdeck.core.notify.config import NotifyConfigService

    return NotifyConfigService(ctx.store, ctx.secrets)


async def _ls(args, ctx) -> int:
    from jumpdeck.core.identity import Operation, require
    from jumpdeck.core.notify.events import KIND_HELP

    require(ctx.actor, Operation.VIEW)
    config = await _service(ctx).get()
    rules = {kind.value: {"enabled": config.rule(kind).enabled, "after_failures": config.rule(kind).after_failures,
                          "meaning": KIND_HELP[kind]} for kind in KIND_HELP}
    if args.json:
        print(dumps({"targets": [t.public() for t in config.targets], "rules": rules,
                     "quiet_seconds": config.quiet_seconds, "repeat_seconds": config.repeat_seconds,
                     "timeout_seconds": config.timeout_seconds, "windows": [w.public() for w in config.windows]}))
        return EXIT_OK
    print("Targets:")
    print_table(["n", "service", "target"], [[t.id, t.service, t.shown] for t in config.targets],
                empty="(none: `jumpdeck notify add-target -` adds one)")
    print("\nRules:")
    print_table(["event", "on", "after", "meaning"],
                [[k, "yes" if r["enabled"] else "no", r["after_failures"] if k == "server_down" else "", r["meaning"]]
                 for k, r in rules.items()])
    print(f"\nquiet_seconds {config.quiet_seconds}  repeat_seconds {config.repeat_seconds}  "
          f"timeout_seconds {config.timeout_seconds:g}")
    print("\nMaintenance windows (UTC):")
    print_table(["n", "server", "tag", "start", "end", "reason"],
                [[w.id, w.server or "", w.tag or "", f"{w.starts:%Y-%m-%d %H:%M}", f"{w.ends:%Y-%m-%d %H:%M}", w.reason]
                 for w in config.windows])
    return EXIT_OK


async def _test(args, ctx) -> int:
    from jumpdeck.core.errors import PermissionDenied
    from jumpdeck.core.identity import Operation, can
    from jumpdeck.core.notify.notifier import Notifier

    # A test sends to every target, so it is the admin's, like changing them.
    if not can(ctx.actor, Operation.EDIT_SETTINGS):
        raise PermissionDenied("Only an admin can send test notifications.")
    results = await Notifier(ctx.store, ctx.secrets, ctx.actor).test(args.target)
    if not results:
        print("No notification targets are set: `jumpdeck notify add-target -` adds one.")
        return EXIT_FAIL
    for r in results:
        print(f"target {r.target_id} {r.shown}: " + ("sent" if r.ok else f"FAILED: {r.reason}"))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAIL


async def _add_target(args, ctx) -> int:
    from jumpdeck.tui.cli.inputs import read_stdin_line

    url = read_stdin_line("notification URL") if args.url == "-" else args.url
    target = await _service(ctx).add_target(ctx.actor, url)
    print(f"Added target {target.id}: {target.service} {target.shown}")
    return EXIT_OK


async def _rm_target(args, ctx) -> int:
    return await _removed(ctx, "remove_target", args.target, "target")


async def _removed(ctx, method: str, item_id: int, noun: str) -> int:  # noqa: ANN001
    await getattr(_service(ctx), method)(ctx.actor, item_id)
    print(f"Removed {noun} {item_id}.")
    return EXIT_OK


async def _rule(args, ctx) -> int:
    from jumpdeck.core.errors import ValidationError

    if args.after is not None and args.kind != "server_down":
        raise ValidationError("--after applies to server_down only.", field="after")
    rule = await _service(ctx).set_rule(ctx.actor, EventKind(args.kind), enabled=args.enabled, after_failures=args.after)
    extra = f", after {rule.after_failures} failed checks" if args.kind == "server_down" else ""
    print(f"{args.kind}: {'on' if rule.enabled else 'off'}{extra}")
    return EXIT_OK


async def _set_timing(args, ctx) -> int:
    config = await _service(ctx).set_timing(ctx.actor, args.name, args.value)
    print(f"{args.name} = {getattr(config, args.name):g}")
    return EXIT_OK


async def _window_add(args, ctx) -> int:
    from jumpdeck.core.store.models import utcnow

    start = args.start or utcnow().replace(second=0, microsecond=0)
    try:
        end = args.end if args.end is not None else start + args.duration
    except OverflowError:  # --start 9999-12-31 --for 2d
        from jumpdeck.core.errors import ValidationError

        raise ValidationError("The window would end after the year 9999.", field="end") from None
    window = await _service(ctx).add_window(ctx.actor, starts=start, ends=end, server=args.server, tag=args.tag,
                                            reason=args.reason)
    who = f"server {window.server}" if window.server else f"tag {window.tag}"
    print(f"Window {window.id}: {who} muted {window.starts:%Y-%m-%d %H:%M} to {window.ends:%Y-%m-%d %H:%M} UTC.")
    return EXIT_OK


async def _window_rm(args, ctx) -> int:
    return await _removed(ctx, "remove_window", args.window, "window")
