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
    _range_options(ls)
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(run=lambda a: run_with_context(a, _ls))

    exp = verbs.add_parser("export", help="write every matching entry to a file, CSV or JSON (0600)",
                           description="Every entry the filters match, newest first. The file is written whole "
                                       "(to a temporary name, then moved into place) or not at all.")
    exp.add_argument("--actor")
    exp.add_argument("--action")
    exp.add_argument("--target", help="target type, e.g. SERVER, USER, SETTINGS")
    exp.add_argument("--text", help="free text over target and detail")
    _range_options(exp)
    exp.add_argument("--format", choices=("csv", "json"), help="default: from the file's extension, else csv")
    exp.add_argument("-o", "--output", required=True, help="the file to write")
    exp.set_defaults(run=lambda a: run_with_context(a, _export))


def _when(text: str):  # noqa: ANN202
    """A local date or date and time (2026-12-01, 2026-12-01T08:00) as the UTC the log keeps."""
    from datetime import datetime, timezone

    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a date such as 2026-12-01 or 2026-12-01T08:00") from None
    if local.tzinfo is None:
        local = local.astimezone()  # this host's zone
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _range_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_when, help="from this local date or time on (2026-12-01, 2026-12-01T08:00)")
    parser.add_argument("--until", type=_when, help="before this local date or time")


def _filters(args):  # noqa: ANN001, ANN202
    from jumpdeck.core.activity import ActivityFilter

    return ActivityFilter(args.actor, args.action, args.target, args.text, since=args.since, until=args.until)


async def _export(args, ctx) -> int:
    import csv
    import json
    import os
    from pathlib import Path

    from jumpdeck.core.private_files import open_private

    fmt = args.format or ("json" if args.output.lower().endswith(".json") else "csv")
    target = Path(args.output)
    scratch = target.with_name(f".{target.name}.partial")
    count = 0
    fields = ["id", "at", "actor", "origin", "action", "target_type", "target_id", "detail"]
    try:
        with open_private(scratch, "w") as out:
            writer = csv.DictWriter(out, fields) if fmt == "csv" else None
            if writer:
                writer.writeheader()
            else:
                out.write("[")
            async for entries in ctx.activity.every_entry(ctx.actor, _filters(args)):
                for e in entries:
                    row = {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "origin": e.origin,
                           "action": e.action, "target_type": e.target_type, "target_id": e.target_id,
                           "detail": e.detail}
                    if writer:
                        writer.writerow(row)
                    else:
                        out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
                    count += 1
            if not writer:
                out.write("\n]\n")
        os.replace(scratch, target)
    except OSError as exc:
        scratch.unlink(missing_ok=True)
        from jumpdeck.core.errors import JumpdeckError

        raise JumpdeckError(f"The export could not be written to {target}: {exc.strerror}.",
                            remedy="Choose a file in a folder you can write to.") from None
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    print(f"Exported {count:,} entr{'y' if count == 1 else 'ies'} to {target} ({fmt}).")
    return 0


async def _ls(args, ctx) -> int:
    page = await ctx.activity.page(ctx.actor, _filters(args), limit=max(1, min(args.limit, 10000)))
    if args.json:
        for e in page.entries:
            print(dumps(e.__dict__))
    else:
        print_table(["at", "actor", "origin", "action", "target", "detail"],
                    [[e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.origin, e.action,
                      f"{e.target_type}:{e.target_id}", e.detail[:80]] for e in page.entries],
                    empty="No activity matches.")
    return 0
