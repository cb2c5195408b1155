"""`jumpdeck backup|restore|watcher|integrity|checkpoint|archive|health`: the production
files' care from cron and systemd (seed 003). Exit codes: 0 ok, 1 failure/degraded, 2 usage."""

from __future__ import annotations

import argparse
import sys

from jumpdeck.tui.cli import run_with_context
from jumpdeck.tui.cli.inputs import seconds, whole_number
from jumpdeck.tui.cli.output import dumps, print_table


def register(sub: argparse._SubParsersAction) -> None:
    backup = sub.add_parser("backup", help="verified backups of the live/archive DBs and the store, with retention",
                            description="Back up (all kinds when none is named), verify with quick_check, then "
                            "apply retention. --cleanup only applies retention; --list shows the backups.")
    backup.add_argument("--live", action="store_true", help="the live production DB")
    backup.add_argument("--archive", action="store_true", help="every archive_YYYY.db")
    backup.add_argument("--store", action="store_true", help="jumpdeck's own SQLite store")
    backup.add_argument("--cleanup", action="store_true", help="only delete backups beyond the retention counts")
    backup.add_argument("--list", action="store_true", help="list backups with size, age and verified state")
    backup.add_argument("--json", action="store_true", help="JSON output for scripts")
    backup.set_defaults(run=lambda a: run_with_context(a, _backup))

    restore = sub.add_parser("restore", help="restore a production DB from a backup (admin)",
                             description="Replace the live or archive DB with a backup after an integrity_check; "
                             "the current file is kept as <name>.broken-<timestamp>.")
    restore.add_argument("backup_file", metavar="BACKUP_FILE", help="a file name in database/backups/ or a path")
    restore.add_argument("--yes", action="store_true", help="do not ask to type the file name")
    restore.set_defaults(run=lambda a: run_with_context(a, _restore))

    watcher = sub.add_parser("watcher", help="heal missing indexes, ANALYZE every 24 h, checkpoint a large WAL",
                             description="One cycle by default (for cron); --daemon repeats every --interval seconds.")
    watcher.add_argument("--daemon", action="store_true", help="keep running (systemd); stops on SIGTERM")
    watcher.add_argument("--interval", type=seconds(1, 86400), default=None, metavar="S", help="seconds between cycles (default: setting watcher_interval)")
    watcher.add_argument("--force-analyze", action="store_true", help="run ANALYZE now even if it ran in the last 24 h")
    watcher.add_argument("--json", action="store_true")
    watcher.set_defaults(run=lambda a: run_with_context(a, _watcher))

    integrity = sub.add_parser("integrity", help="PRAGMA integrity_check on every production file")
    integrity.add_argument("--quick", action="store_true", help="quick_check instead (much faster, less thorough)")
    integrity.set_defaults(run=lambda a: run_with_context(a, _integrity))

    checkpoint = sub.add_parser("checkpoint", help="WAL checkpoint (TRUNCATE) on every production file")
    checkpoint.set_defaults(run=lambda a: run_with_context(a, _checkpoint))

    archive = sub.add_parser("archive", help="the year-end archive rollover (admin)")
    archive.set_defaults(run=lambda a: (archive.print_help(), 2)[1])
    verbs = archive.add_subparsers(dest="verb", metavar="VERB")
    roll = verbs.add_parser("rollover", help="move rows before YEAR into archive_YYYY.db; the live DB keeps YEAR on",
                            description="Final backup, archive build, live trim, indexes, integrity and row-count "
                            "reconciliation, cutoff year in settings. Run again to finish an interrupted one.")
    roll.add_argument("--year", type=whole_number(1970, 9999, "a year"), required=True, help="the new year the live DB keeps (e.g. 2027)")
    roll.add_argument("--dry-run", action="store_true", help="show the plan with counts; change nothing")
    roll.set_defaults(run=lambda a: run_with_context(a, _rollover))

    health = sub.add_parser("health", help="ok or degraded, with reasons (exit 0 ok, 1 degraded)")
    health.add_argument("--json", action="store_true")
    health.set_defaults(run=lambda a: run_with_context(a, _health))


def _progress(text: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{text}\033[K", end="", file=sys.stderr, flush=True)


def _end_progress() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)


async def _backup(args, ctx) -> int:
    import time

    from jumpdeck.core.maintenance import backup

    if args.list:
        items = backup.list_backups(ctx.config)
        now = time.time()
        if args.json:
            print(dumps([{"name": b.name, "kind": b.kind, "year": b.year, "taken_at": b.taken_at, "size": b.size,
                          "age_seconds": round(b.age_seconds(now)), "verified": b.verified} for b in items]))
        else:
            print_table(["name", "kind", "size", "age", "verified"],
                        [[b.name, b.label, backup.human_size(b.size), backup.human_age(b.age_seconds(now)),
                          "yes" if b.verified else "no"] for b in items])
        return 0
    kinds = {k for k in backup.KINDS if getattr(args, k)} or None
    failed = False
    out = []
    async for event in backup.run_backup(ctx, kinds, cleanup_only=args.cleanup):
        if isinstance(event, backup.BackupProgress):
            _progress(f"{event.label}: {event.fraction:4.0%}")
            continue
        _end_progress()
        failed |= isinstance(event, backup.BackupError)
        if args.json:
            if isinstance(event, backup.BackupDone):
                out.append({"event": "done", "label": event.label, "name": event.backup.name, "size": event.backup.size,
                            "copy_seconds": round(event.copy_seconds, 3), "check_seconds": round(event.check_seconds, 3)})
            else:
                out.append({"event": type(event).__name__, "label": event.label, "text": backup.describe(event)})
        else:
            line = backup.describe(event)
            if line:
                print(line, file=sys.stderr if isinstance(event, backup.BackupError) else sys.stdout)
    if args.json:
        print(dumps(out))
    return 1 if failed else 0


async def _restore(args, ctx) -> int:
    from jumpdeck.core.maintenance import restore

    backup_path = restore.resolve_backup(ctx.config, args.backup_file)
    target = restore.target_for(ctx.config, backup_path)
    if not args.yes and sys.stdin.isatty():
        typed = input(f"This replaces {target} with {backup_path.name}. Type the backup's file name to confirm: ")
        if typed.strip() != backup_path.name:
            print("jumpdeck: not confirmed; nothing was changed.", file=sys.stderr)
            return 1
    result = await restore.restore(ctx, str(backup_path))
    kept = f"; the previous file is kept as {result.broken.name}" if result.broken else ""
    print(f"Restored {result.target.name} from {backup_path.name} (integrity_check ok, {result.seconds:.2f} s){kept}.")
    if result.warning():
        print(f"jumpdeck: warning: {result.warning()}", file=sys.stderr)
    return 0


async def _watcher(args, ctx) -> int:
    import asyncio
    import signal

    from jumpdeck.core.maintenance import watcher

    def show(report: watcher.WatcherReport) -> None:
        if args.json:
            print(dumps({"changed": report.changed, "healed": report.healed, "analyzed": report.analyzed,
                         "checkpointed": report.checkpointed, "problems": report.problems,
                         "seconds": round(report.seconds, 4)}), flush=True)
        else:
            for line in report.lines:
                print(line, flush=True)
            if not report.lines:
                print(f"Nothing changed ({report.seconds * 1000:.0f} ms).", flush=True)

    if not args.daemon:
        report = await watcher.run_once(ctx, force_analyze=args.force_analyze)
        show(report)
        return 1 if report.problems else 0
    interval = args.interval or (await ctx.settings.get()).get("watcher_interval")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"DB watcher started (every {interval:g} s); SIGTERM or Ctrl-C stops it.", flush=True)
    async for report in watcher.run_daemon(ctx, interval, stop=stop, force_analyze=args.force_analyze):
        show(report)
    print("DB watcher stopped.", flush=True)
    return 0


async def _integrity(args, ctx) -> int:
    from jumpdeck.core.maintenance import checks

    bad = 0
    seen = 0
    async for event in checks.integrity(ctx, quick=args.quick):
        if isinstance(event, checks.FileStarted):
            _progress(f"[{event.index + 1}/{event.total}] checking {event.path.name} ...")
            continue
        _end_progress()
        seen += 1
        rows = f", {event.rows:,} rows" if event.rows is not None else ""
        print(f"{event.path.name}: {event.verdict}{rows} ({event.seconds:.2f} s)")
        bad += not event.ok
    if not seen:
        print("No production DB files to check.")
    return 1 if bad else 0


async def _checkpoint(args, ctx) -> int:
    from jumpdeck.core.maintenance import checks
    from jumpdeck.core.maintenance.backup import human_size

    results = await checks.checkpoint_all(ctx)
    for r in results:
        if r.error:
            print(f"jumpdeck: {r.path.name}: no checkpoint, the file is {r.error}.", file=sys.stderr)
            continue
        print(f"{r.path.name}: WAL checkpoint complete ({human_size(r.wal_before)} WAL before)"
              + (" but readers kept part of it" if r.busy else ""))
    if not results:
        print("No production DB files.")
    return 1 if any(r.busy or r.error for r in results) else 0


async def _rollover(args, ctx) -> int:
    from jumpdeck.core.maintenance import rollover

    if args.dry_run:
        plan = await rollover.dry_run(ctx, args.year)
        for line in plan.lines():
            print(line)
        print("Dry run: nothing was changed.")
        return 0
    async for event in rollover.rollover(ctx, args.year):
        if isinstance(event, rollover.RolloverStep):
            if event.status != "running":
                print(f"[{event.status}] {rollover.CHECKLIST.get(event.name, event.name)}" + (f": {event.detail}" if event.detail else ""))
        else:
            print(f"Rollover to {args.year} complete: {event.total_before:,} rows before, {event.total_after:,} after.")
            for name, n in sorted(event.files.items()):
                print(f"  {name}: {n:,} rows")
    return 0


async def _health(args, ctx) -> int:
    from jumpdeck.core.maintenance.health import check_health

    health = await check_health(ctx)
    if args.json:
        print(dumps(health.as_dict()))
    else:
        print(f"status: {health.status}")
        for reason in health.reasons:
            print(f"  - {reason}")
        print(f"store: {health.database}; live DB: {health.db_size_mb if health.db_size_mb is not None else '-'} MB; "
              f"archive: {health.archive_db}; disk free: {health.disk_free_gb} GB")
        from jumpdeck.core.maintenance.health import hours_ago

        print(f"last live backup: {hours_ago(health.last_backup_age_hours)}; "
              f"watcher: {hours_ago(health.watcher_last_run_age_hours)}")
        print(f"charts rollup: {health.rollup.sentence()}")
    return 0 if health.ok else 1
