"""`jumpdeck users ...`: user management for admins."""

from __future__ import annotations

import argparse
from jumpdeck.core.words import counted
from jumpdeck.tui.cli import run_with_context
from jumpdeck.tui.cli.output import dumps, print_table

ROLES = ("admin", "operator", "viewer")


def register(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="list and manage users, roles and SSH keys (admin)",
                           description="List users; admins add, activate, disable them, set roles and SSH keys.")
    users.set_defaults(run=lambda a: (users.print_help(), 2)[1])
    verbs = users.add_subparsers(dest="verb", metavar="VERB")

    ls = verbs.add_parser("ls", help="list users with role, status and key fingerprints")
    ls.add_argument("--json", action="store_true", help="one JSON array for scripts")
    ls.set_defaults(run=lambda a: run_with_context(a, _ls))

    add = verbs.add_parser("add", help="add an active user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--key", action="append", default=[], metavar="PUBKEY_FILE", help="an SSH public key file (repeatable)")
    add.set_defaults(run=lambda a: run_with_context(a, _add))

    add_key = verbs.add_parser("add-key", help="add an SSH public key to a user (for serve-ssh)")
    add_key.add_argument("name")
    add_key.add_argument("pubkey_file")
    add_key.set_defaults(run=lambda a: run_with_context(a, _add_key))
    rm_key = verbs.add_parser("rm-key", help="remove one of a user's SSH keys by its fingerprint (users ls shows them)")
    rm_key.add_argument("name")
    rm_key.add_argument("fingerprint", help="SHA256:... as `users ls` prints it")
    rm_key.set_defaults(run=lambda a: run_with_context(a, _rm_key))

    for verb, text in (("activate", "approve a pending user, or re-enable a disabled one"), ("disable", "disable a user")):
        p = verbs.add_parser(verb, help=text)
        p.add_argument("name")
        p.set_defaults(run=lambda a, verb=verb: run_with_context(a, _status), status_verb=verb)

    set_role = verbs.add_parser("set-role", help="change a user's role")
    set_role.add_argument("name")
    set_role.add_argument("role", choices=ROLES)
    set_role.set_defaults(run=lambda a: run_with_context(a, _set_role))


def _read_keys(paths: list[str]):
    from jumpdeck.core.users import read_public_key_file

    return [read_public_key_file(path) for path in paths]


async def _ls(args, ctx) -> int:
    users = await ctx.users.list(ctx.actor)
    if args.json:
        print(dumps([{"name": u.name, "role": u.role, "status": u.status, "created_at": u.created_at,
                      "keys": [{"fingerprint": k.fingerprint, "comment": k.comment} for k in u.keys]} for u in users]))
    else:
        print_table(["name", "role", "status", "keys"],
                    [[u.name, u.role.value, u.status.value, ", ".join(k.fingerprint for k in u.keys) or "-"] for u in users])
    return 0


async def _add(args, ctx) -> int:
    from jumpdeck.core.identity import Role

    user = await ctx.users.add(ctx.actor, args.name, Role(args.role), _read_keys(args.key))
    print(f"Added {user.name} as an active {user.role.value} with {len(user.keys)} key(s).")
    return 0


async def _add_key(args, ctx) -> int:
    key = _read_keys([args.pubkey_file])[0]
    user = await ctx.users.add_key(ctx.actor, args.name, key)
    print(f"Added key {key.fingerprint} to {user.name} ({counted(len(user.keys), 'key')} now).")
    return 0


async def _rm_key(args, ctx) -> int:
    user = await ctx.users.remove_key(ctx.actor, args.name, args.fingerprint.strip())
    print(f"Removed key {args.fingerprint.strip()} from {user.name} ({counted(len(user.keys), 'key')} left).")
    return 0


async def _status(args, ctx) -> int:
    change = ctx.users.activate if args.status_verb == "activate" else ctx.users.disable
    user = await change(ctx.actor, args.name)
    print(f"{user.name} is now {user.status.value} ({user.role.value}).")
    return 0


async def _set_role(args, ctx) -> int:
    from jumpdeck.core.identity import Role

    user = await ctx.users.set_role(ctx.actor, args.name, Role(args.role))
    print(f"{user.name} is now {user.role.value} ({user.status.value}).")
    return 0
