"""`jumpdeck settings get|set`: the system settings row."""

from __future__ import annotations

import argparse

from jumpdeck.tui.cli import run_with_context
from jumpdeck.tui.cli.output import dumps, print_table


def register(sub: argparse._SubParsersAction) -> None:
    settings = sub.add_parser("settings", help="show or change system settings (changing: admin)",
                              description="Show settings, or change them (admin). Every change is audited.")
    settings.set_defaults(run=lambda a: (settings.print_help(), 2)[1])
    verbs = settings.add_subparsers(dest="verb", metavar="VERB")
    get = verbs.add_parser("get", help="show all settings, or one")
    get.add_argument("key", nargs="?")
    get.add_argument("--json", action="store_true")
    get.set_defaults(run=lambda a: run_with_context(a, _get))
    set_ = verbs.add_parser("set", help="change one or more settings: KEY VALUE [KEY VALUE ...]")
    set_.add_argument("pairs", nargs="+", metavar="KEY VALUE")
    set_.set_defaults(run=lambda a: run_with_context(a, _set))


async def _get(args, ctx) -> int:
    from jumpdeck.core.settings import SETTING_SPECS, _spec

    settings = await ctx.settings.get()
    keys = [_spec(args.key).key] if args.key else list(SETTING_SPECS)
    if args.json:
        print(dumps({k: settings.get(k) for k in keys}))
    elif args.key:
        value = settings.get(args.key)
        print("" if value is None else value)
    else:
        print_table(["key", "value", "meaning"],
                    [[k, "" if settings.get(k) is None else settings.get(k), SETTING_SPECS[k].help] for k in keys])
    return 0


async def _set(args, ctx) -> int:
    from jumpdeck.core.errors import ValidationError

    if len(args.pairs) % 2:
        raise ValidationError("settings set takes pairs: KEY VALUE [KEY VALUE ...].", remedy="Quote a value with spaces.")
    changes = dict(zip(args.pairs[::2], args.pairs[1::2]))
    settings = await ctx.settings.set(ctx.actor, changes)
    for key in changes:
        print(f"{key} = {settings.get(key)!r}")
    return 0
