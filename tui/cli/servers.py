"""`jumpdeck servers ...`: the server registry from the command line (admin for changes).

Passwords come from standard input (`--password-stdin`, one line) or, at a terminal,
from a prompt that does not echo; never from an argument, where `ps` and the shell's
history would keep them. An account that logs in without one is registered with
`--no-password`, never with an empty password. `export` never writes a password in clear: `--encrypted` adds
the Fernet token, which only an installation holding the same key can read.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import replace
from pathlib import Path

from jumpdeck.core.words import counted
from jumpdeck.tui.cli import run_with_context
from jumpdeck.tui.cli.inputs import read_stdin_line, read_text_file
from jumpdeck.tui.cli.output import dumps, print_table

DB_TYPES = ("postgresql", "mysql", "mssql", "oracle")
EXPORT_FIELDS = ["name", "db_type", "host", "port", "default_db", "username", "description", "tags", "group",
                 "is_active", "data_path", "log_path", "no_password"]


def register(sub: argparse._SubParsersAction) -> None:
    servers = sub.add_parser("servers", help="list, add, edit, remove, import and export DB servers",
                             description="The registered DB servers. Listing is for everyone; changes are for admins "
                             "and are audited.")
    servers.set_defaults(run=lambda a: (servers.print_help(), 2)[1])
    verbs = servers.add_subparsers(dest="verb", metavar="VERB")

    ls = verbs.add_parser("ls", help="list servers (no connection checks: see `jumpdeck check`)")
    ls.add_argument("--type", choices=DB_TYPES, help="only this DB type")
    ls.add_argument("--json", action="store_true", help="one JSON array for scripts")
    ls.set_defaults(run=lambda a: run_with_context(a, _ls))

    add = verbs.add_parser("add", help="register a server (admin)")
    add.add_argument("--name", required=True)
    add.add_argument("--type", required=True, choices=DB_TYPES, dest="db_type")
    add.add_argument("--host", required=True)
    _spec_options(add)
    add.add_argument("--user", required=True, dest="username")
    add.set_defaults(run=lambda a: run_with_context(a, _add))

    edit = verbs.add_parser("edit", help="change a server (admin); options not given keep their value")
    edit.add_argument("server", metavar="NAME")
    edit.add_argument("--name", help="rename the server")
    edit.add_argument("--type", choices=DB_TYPES, dest="db_type")
    edit.add_argument("--host")
    edit.add_argument("--user", dest="username")
    _spec_options(edit)
    edit.add_argument("--clear-tags", action="store_true", help="remove every tag (then --tag adds)")
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--active", dest="is_active", action="store_const", const=True, help="check it in rounds again")
    state.add_argument("--inactive", dest="is_active", action="store_const", const=False,
                       help="keep it registered but out of rounds")
    edit.set_defaults(run=lambda a: run_with_context(a, _edit))

    rm = verbs.add_parser("rm", help="delete a server (admin; refused while it has corp DBs)")
    rm.add_argument("server", metavar="NAME")
    rm.set_defaults(run=lambda a: run_with_context(a, _rm))

    corps = verbs.add_parser("corps", help="the corp DBs recorded on a server")
    corps.add_argument("server", metavar="NAME")
    corps.add_argument("--json", action="store_true")
    corps.set_defaults(run=lambda a: run_with_context(a, _corps))
    detach = verbs.add_parser("detach-corp", help="forget a corp DB; the database stays on the server (operator)")
    detach.add_argument("server", metavar="NAME")
    detach.add_argument("code", metavar="CODE")
    detach.set_defaults(run=lambda a: run_with_context(a, _detach_corp))
    drop = verbs.add_parser("drop-corp", help="DROP a corp's database on the server and forget it (operator)",
                            description="Drops the database on the server, then removes the corp. --confirm must "
                            "repeat the database's name.")
    drop.add_argument("server", metavar="NAME")
    drop.add_argument("code", metavar="CODE")
    drop.add_argument("--confirm", metavar="DB_NAME", required=True, help="the database's name, typed again")
    drop.set_defaults(run=lambda a: run_with_context(a, _drop_corp))

    imp = verbs.add_parser("import", help="add servers from a CSV or JSON file (admin)",
                           description="Columns/keys as `servers export` writes them, plus `password` (clear) or "
                           "`password_token` (from `export --encrypted`). Existing names are skipped unless --update.")
    imp.add_argument("file", help="a .csv or .json file, or - for standard input")
    imp.add_argument("--format", choices=("csv", "json"), help="default: from the file's extension")
    imp.add_argument("--update", action="store_true", help="update servers whose name exists instead of skipping")
    imp.set_defaults(run=lambda a: run_with_context(a, _import))

    exp = verbs.add_parser("export", help="write every server as JSON or CSV (no password in clear)")
    exp.add_argument("--format", choices=("json", "csv"), default="json")
    exp.add_argument("--output", "-o", help="a file (default: standard output)")
    exp.add_argument("--encrypted", action="store_true",
                     help="include each password as its Fernet token (readable only with this installation's key)")
    exp.set_defaults(run=lambda a: run_with_context(a, _export))


def _spec_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", help="default: the DB type's (1433, 5432, 3306, 1521)")
    parser.add_argument("--db", dest="default_db",
                        help="default DB (Oracle: the service name, required; default: the type's)")
    password = parser.add_mutually_exclusive_group()
    password.add_argument("--password-stdin", action="store_true",
                          help="read the password from standard input (one line)")
    password.add_argument("--no-password", action="store_true",
                          help="the account logs in without a password (PostgreSQL trust, an empty MariaDB password)")
    parser.add_argument("--tag", action="append", dest="tags", metavar="TAG", help="a tag (repeatable)")
    parser.add_argument("--group", help="a group, e.g. prod or staging")
    parser.add_argument("--description")


def _read_password(args: argparse.Namespace, *, required: bool):  # noqa: ANN202
    from jumpdeck.core.errors import ValidationError
    from jumpdeck.core.secrets import Secret

    if args.password_stdin:
        return Secret(read_stdin_line("password"))
    if args.no_password:
        return Secret("")
    if required and sys.stdin.isatty():
        import getpass

        return Secret(getpass.getpass("Password: "))
    if required:
        raise ValidationError("A password is required for a new server.", field="password",
                              remedy="Pipe it in with --password-stdin, or pass --no-password for an account "
                                     "that logs in without one.")
    return Secret("")


def _registry(ctx):  # noqa: ANN001, ANN202
    from jumpdeck.core.servers.registry import ServerRegistry

    return ServerRegistry(ctx.store, ctx.secrets)


def _info_dict(info) -> dict:  # noqa: ANN001
    return {"id": info.id, "name": info.name, "db_type": info.db_type.value, "host": info.host, "port": info.port,
            "default_db": info.default_db, "username": info.username, "description": info.description,
            "tags": list(info.tags), "group": info.group, "is_active": info.is_active,
            "data_path": info.data_path, "log_path": info.log_path, "no_password": info.no_password,
            "corps": info.corp_count,
            "corp_warnings": info.corp_warnings, "corp_errors": info.corp_errors,
            "created_at": info.created_at, "updated_at": info.updated_at}


async def _ls(args, ctx) -> int:
    servers = await _registry(ctx).list(ctx.actor)
    if args.type:
        servers = [s for s in servers if s.db_type.value == args.type]
    if args.json:
        print(dumps([_info_dict(s) for s in servers]))
        return 0
    print_table(
        ["name", "type", "address", "db", "user", "tags", "corps", "active"],
        [[s.name, s.db_type.value, f"{s.host}:{s.port}", s.default_db or "-", s.username, ",".join(s.tags) or "-",
          f"{s.corp_count}" + (f" ({s.corp_warnings}w {s.corp_errors}e)" if s.corp_warnings or s.corp_errors else ""),
          "yes" if s.is_active else "no"] for s in servers],
        empty="No servers are registered. Add one with `jumpdeck servers add`.",
    )
    return 0


async def _add(args, ctx) -> int:
    from jumpdeck.core.servers.registry import ServerSpec

    spec = ServerSpec(name=args.name, db_type=args.db_type, host=args.host, username=args.username,
                      password=_read_password(args, required=True), port=args.port, default_db=args.default_db,
                      description=args.description or "", tags=tuple(args.tags or ()), group=args.group or "",
                      no_password=args.no_password)
    info = await _registry(ctx).create(ctx.actor, spec)
    print(f"Added {info.name} ({info.db_type.label} {info.host}:{info.port}, default DB "
          f"{info.default_db or '(none)'}). Check it with: jumpdeck check '{info.name}'")
    return 0


async def _edit(args, ctx) -> int:
    from jumpdeck.core.servers.registry import TYPE_DEFAULTS, DbType, spec_from_info

    registry = _registry(ctx)
    info = await registry.get_by_name(ctx.actor, args.server)
    password = _read_password(args, required=False)
    # --no-password switches the server to none; a new password switches it back.
    spec = spec_from_info(info, password=password, no_password=args.no_password or (info.no_password and not password))
    changes = {key: getattr(args, key) for key in ("name", "db_type", "host", "username", "port", "default_db",
                                                   "description", "group", "is_active")
               if getattr(args, key) is not None}
    if args.db_type and args.db_type != info.db_type.value:
        # A new type brings its own defaults where the old ones were still in place (seed §4.2).
        old, new = TYPE_DEFAULTS[info.db_type], TYPE_DEFAULTS[DbType(args.db_type)]
        if args.port is None and info.port == old.port:
            changes["port"] = new.port
        if args.default_db is None and info.default_db == old.default_db:
            changes["default_db"] = new.default_db or None
    tags = () if args.clear_tags else info.tags
    if args.tags:
        tags = tuple(tags) + tuple(args.tags)
    spec = replace(spec, tags=tags, **changes)
    updated = await registry.update(ctx.actor, info.id, spec)
    print(f"Updated {updated.name} ({updated.db_type.label} {updated.host}:{updated.port})"
          f"{'; password changed' if spec.password else ''}"
          f"{'; no password' if args.no_password and not info.no_password else ''}.")
    return 0


async def _rm(args, ctx) -> int:
    registry = _registry(ctx)
    info = await registry.get_by_name(ctx.actor, args.server)
    await registry.delete(ctx.actor, info.id)
    print(f"Deleted {info.name} ({info.db_type.label} {info.host}:{info.port}).")
    return 0


def _dashboard(ctx):  # noqa: ANN001, ANN202
    from jumpdeck.core.servers.checks import CheckEngine
    from jumpdeck.core.servers.dashboard import DashboardService

    return DashboardService(_registry(ctx), CheckEngine(timeout=ctx.config.check_timeout))


async def _corps(args, ctx) -> int:
    info = await _registry(ctx).get_by_name(ctx.actor, args.server)
    corps = await _dashboard(ctx).corps(ctx.actor, info.id)
    if args.json:
        print(dumps([{"code": c.code, "name": c.name, "db_name": c.db_name, "status": c.status} for c in corps]))
    else:
        print_table(["code", "name", "database", "status"], [[c.code, c.name, c.db_name, c.status] for c in corps])
    return 0


async def _detach_corp(args, ctx) -> int:
    info = await _registry(ctx).get_by_name(ctx.actor, args.server)
    corp = await _dashboard(ctx).remove_corp(ctx.actor, info.id, args.code)
    print(f"Detached corp {corp.code} from {info.name}; the database {corp.db_name} is still on the server.")
    return 0


async def _drop_corp(args, ctx) -> int:
    from jumpdeck.core.errors import ValidationError

    info = await _registry(ctx).get_by_name(ctx.actor, args.server)
    service = _dashboard(ctx)
    corp = next((c for c in await service.corps(ctx.actor, info.id) if c.code.casefold() == args.code.casefold()), None)
    if corp is not None and args.confirm != corp.db_name:
        raise ValidationError(f"--confirm must repeat the database's name, {corp.db_name}, to drop it.", field="confirm")
    corp = await service.remove_corp(ctx.actor, info.id, args.code, drop=True)
    print(f"Dropped the database {corp.db_name} on {info.name} and removed corp {corp.code}.")
    return 0


def _rows_from(args: argparse.Namespace) -> list[dict]:
    from jumpdeck.core.errors import ValidationError

    fmt = args.format or ("csv" if args.file.lower().endswith(".csv") else "json")
    text = read_text_file(args.file, what="The server file", field="file")
    if fmt == "csv":
        try:
            return [dict(row) for row in csv.DictReader(io.StringIO(text))]
        except csv.Error as exc:  # a NUL byte, a field over the csv module's size limit
            raise ValidationError(f"{args.file} is not a readable CSV file ({exc}).", field="file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{args.file} is not valid JSON (line {exc.lineno}: {exc.msg}).", field="file") from None
    except RecursionError:
        raise ValidationError(f"{args.file} nests its JSON too deeply to be a list of servers.", field="file") from None
    if isinstance(data, dict):
        data = data.get("servers", [data])
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValidationError(f"{args.file} must hold a list of server objects.", field="file")
    return data


def _spec_from_row(row: dict, ctx):  # noqa: ANN001, ANN202
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerSpec

    def cell(key: str):  # noqa: ANN202
        value = row.get(key)
        return None if value == "" and key in ("port", "default_db", "data_path", "log_path") else value

    if row.get("password_token"):
        password = ctx.secrets.decrypt(str(row["password_token"]))
    else:
        password = Secret(str(row.get("password") or ""))
    active, no_password = row.get("is_active", True), row.get("no_password") or False
    if isinstance(active, str):
        active = active.strip().lower() not in ("0", "false", "no", "off")
    if isinstance(no_password, str):  # a CSV cell; a JSON value stays as it is, for the registry to judge
        no_password = no_password.strip().lower() in ("1", "true", "yes", "on")
    return ServerSpec(name=row.get("name"), db_type=row.get("db_type") or row.get("type"), host=row.get("host"),
                      username=row.get("username") or row.get("user"), password=password, port=cell("port"),
                      default_db=cell("default_db"), description=row.get("description") or "",
                      tags=row.get("tags") or (), group=row.get("group") or "", is_active=active,
                      data_path=cell("data_path"), log_path=cell("log_path"), no_password=no_password)


async def _import(args, ctx) -> int:
    from jumpdeck.core.errors import JumpdeckError
    from jumpdeck.core.servers.registry import name_key

    registry = _registry(ctx)
    existing = {name_key(s.name): s for s in await registry.list(ctx.actor)}
    created = updated = skipped = 0
    failures = []
    for number, row in enumerate(_rows_from(args), start=1):
        label = f"row {number}" + (f" ({row.get('name')})" if row.get("name") else "")
        try:
            spec = _spec_from_row(row, ctx)
            current = existing.get(name_key(str(spec.name or "")))
            if current is None:
                info = await registry.create(ctx.actor, spec)
                existing[name_key(info.name)] = info
                created += 1
            elif args.update:
                await registry.update(ctx.actor, current.id, spec)
                updated += 1
            else:
                skipped += 1
        except JumpdeckError as error:
            failures.append(f"{label}: {error}")
    print(f"Imported: {created} added, {updated} updated, {skipped} skipped (name exists; --update replaces), "
          f"{len(failures)} refused.")
    for line in failures:
        print(f"  {line}", file=sys.stderr)
    return 1 if failures else 0


async def _export(args, ctx) -> int:
    from jumpdeck.core.errors import ValidationError
    from jumpdeck.core.private_files import write_private_text

    registry = _registry(ctx)
    servers = await registry.list(ctx.actor)
    tokens = {}
    if args.encrypted:
        tokens = await registry.password_tokens(ctx.actor)
    rows = []
    for info in servers:
        row = {key: value for key, value in _info_dict(info).items() if key in EXPORT_FIELDS}
        if args.encrypted:
            row["password_token"] = tokens.get(info.id, "")
        rows.append(row)
    if args.format == "json":
        text = dumps({"servers": rows}) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS + (["password_token"] if args.encrypted else []))
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "tags": ",".join(row["tags"]), "is_active": "yes" if row["is_active"] else "no",
                             "no_password": "yes" if row["no_password"] else "no"})
        text = buffer.getvalue()
    if args.output:
        try:
            # The fleet's names and addresses, and with --encrypted its password tokens: 0600.
            write_private_text(Path(args.output).expanduser(), text)
        except OSError as exc:
            raise ValidationError(f"Cannot write {args.output}: {exc.strerror}.", field="output") from None
        print(f"Exported {counted(len(rows), 'server')} to {args.output}"
              f"{' with encrypted passwords' if args.encrypted else ' without passwords'}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0

