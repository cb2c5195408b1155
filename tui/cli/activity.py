"""`jumpdeck activity ls`: the audit log, newest first."""

from __future__ import annotations

import argparse

from jumpdeck.tui.cli import run_with_context
from jumpdeck.tui.cli.inputs import whole_number
from jumpdeck.tui.cli.output import dumps, print_table


def register(sub: argparse._SubParsersAction) -> None:
    act = sub.add_parser("activity", help="read the activity (audit) log",
                         description="Who did what, when, from where. Newest first.")
    act.set_defaults(run=lambda a: (act.print_help(), 2)[1])
    verbs = act.add_subparsers(dest="verb", metavar="VERB")
    ls = verbs.add_parser("ls", help="list entries, newest first")
    ls.add_argument("--actor")
    ls.add_argument("--action")
    ls.add_argument("--target", help="target type, e.g. SERVER, USER, SETTINGS")
    ls.add_argument("--text", help="free text over target and detail")
    ls.add_argument("--limit", type=whole_number(1, 100000, "a number of entries"), default=50,
                    help="how many entries, newest first (1 to 100000; default 50)")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(run=lambda a: run_with_context(a, _ls))


async def _ls(args, ctx) -> int:
    from jumpdeck.core.activity import ActivityFilter

    page = await ctx.activity.page(
        ctx.actor, ActivityFilter(args.actor, args.action, args.target, args.text), limit=max(1, min(args.limit, 10000))
    )
    if args.json:
        for e in page.entries:
            print(dumps(e.__dict__))
    else:
        print_table(["at", "actor", "origin", "action", "target", "detail"],
                    [[e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.origin, e.action,
                      f"{e.target_type}:{e.target_id}", e.detail[:80]] for e in page.entries],
                    empty="No activity matches.")
    return 0
