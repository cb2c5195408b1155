"""`jumpdeck serve-ssh`: be the SSH endpoint; each authorized operator gets their own jumpdeck."""

from __future__ import annotations

import argparse
import math
import sys

from jumpdeck.tui.cli import run_with_context

ROLES = ("admin", "operator", "viewer")


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"'{text}' is not HOST:PORT (e.g. 127.0.0.1:2222)")
    return host.strip("[]"), int(port)


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:  # nan passes `< 0`
        raise argparse.ArgumentTypeError(f"'{text}' is not 0 or more seconds")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number (0 or more)")
    return int(text)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve-ssh", help="serve jumpdeck over SSH: each authorized key gets its own session",
        description="Listen for SSH connections; each client key maps to a jumpdeck user (users add --key, "
                    "users add-key) and gets its own jumpdeck in a PTY, acting as that user. Public keys only; "
                    "commands, sftp and forwarding are refused.")
    p.add_argument("--listen", type=_listen, default=("127.0.0.1", 2222), metavar="HOST:PORT",
                   help="address to listen on (default 127.0.0.1:2222)")
    p.add_argument("--host-key", metavar="PATH", help="host private key (default: ssh_host_ed25519_key in the data dir, made on first start)")
    p.add_argument("--authorized-keys", metavar="PATH",
                   help="import an OpenSSH authorized_keys file first; each key's comment names its user (admin)")
    p.add_argument("--import-role", choices=ROLES, default="viewer", help="role of users the import creates (default viewer)")
    p.add_argument("--max-sessions", type=_positive, default=50, metavar="N", help="sessions at once, all users (default 50)")
    p.add_argument("--max-per-user", type=_positive, default=5, metavar="N", help="sessions at once per user (default 5)")
    p.add_argument("--idle-timeout", type=_non_negative, default=1800, metavar="S",
                   help="close a session after S seconds without input from the operator; output does not count "
                        "(default 1800; 0 = never)")
    p.add_argument("--max-unauthenticated", type=_positive, default=20, metavar="N",
                   help="connections not logged in yet, all addresses together; more are closed at once "
                        "(as sshd's MaxStartups; default 20)")
    p.add_argument("--login-grace", type=_non_negative, default=60, metavar="S",
                   help="close a connection not logged in after S seconds (as sshd's LoginGraceTime; default 60; 0 = never)")
    p.add_argument("--login-failures", type=_count, default=5, metavar="N",
                   help="failed logins from one address before it is refused for a while (default 5; 0 = never refuse)")
    p.add_argument("--penalty", type=_non_negative, default=15, metavar="S",
                   help="how long an address is refused the first time; each further time doubles it (default 15)")
    p.add_argument("--penalty-max", type=_non_negative, default=600, metavar="S",
                   help="the longest an address is refused (default 600)")
    p.add_argument("--no-prefork", action="store_true",
                   help="start each session as a fresh process instead of forking a warm one (slower; for debugging)")
    p.set_defaults(run=lambda a: run_with_context(a, _serve))

    sessions = sub.add_parser("sessions", help="live serve-ssh sessions on this data dir: list, end one (admin)",
                              description="The sessions of the serve-ssh server running on this data dir.")
    sessions.set_defaults(run=lambda a: (sessions.print_help(), 2)[1])
    verbs = sessions.add_subparsers(dest="verb", metavar="VERB")
    ls = verbs.add_parser("ls", help="list sessions: user, address, since, idle, key")
    ls.add_argument("--json", action="store_true", help="one JSON array for scripts")
    ls.set_defaults(run=lambda a: run_with_context(a, _sessions_ls))
    end = verbs.add_parser("end", help="end one session (the operator reads that an admin ended it)")
    end.add_argument("id", type=_positive)
    end.set_defaults(run=lambda a: run_with_context(a, _sessions_end))


async def _serve(args, ctx) -> int:
    import asyncio
    import signal
    from pathlib import Path

    from jumpdeck.core.identity import Role
    from jumpdeck.core.serve.limits import LoginLimits
    from jumpdeck.core.serve.sessions import SessionLimits

    if args.authorized_keys:
        from jumpdeck.core.serve.authorized_keys import import_authorized_keys

        results = await import_authorized_keys(ctx.users, ctx.actor, Path(args.authorized_keys), role=Role(args.import_role))
        for r in results:
            print(f"authorized_keys line {r.line_no}: {r.user or '-'} {r.fingerprint or ''} {r.outcome}".replace("  ", " "))

    from jumpdeck.core.serve.server import ServeOptions, ServeServer, child_command

    host, port = args.listen
    options = ServeOptions(
        host=host, port=port,
        host_key=Path(args.host_key).expanduser() if args.host_key else None,
        limits=SessionLimits(max_sessions=args.max_sessions, max_per_user=args.max_per_user, idle_timeout=args.idle_timeout),
        login=LoginLimits(max_unauthenticated=args.max_unauthenticated, login_grace=args.login_grace,
                          failures_allowed=args.login_failures, penalty=args.penalty,
                          penalty_max=max(args.penalty, args.penalty_max)),
        child_argv=child_command(ctx.config.home, demo=ctx.config.demo),
        prefork=not args.no_prefork,
    )
    server = ServeServer(ctx, options)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"jumpdeck serve-ssh listening on {host}:{server.port} (host key {server.host_key_fingerprint}); "
          f"connect with: ssh -t -p {server.port} USER@{host}", flush=True)

    async def announce_prefork() -> None:
        if options.prefork and await server.wait_prefork():
            print("jumpdeck serve-ssh: session starter ready (sessions fork from a warm process).", flush=True)

    announcer = asyncio.create_task(announce_prefork())
    try:
        await stop.wait()
    finally:
        announcer.cancel()
        print("jumpdeck serve-ssh: stopping, closing sessions.", file=sys.stderr, flush=True)
        await server.close()
    return 0


async def _sessions_ls(args, ctx) -> int:
    from jumpdeck.core.serve.control import list_sessions
    from jumpdeck.tui.cli.output import dumps, print_table

    sessions = await list_sessions(ctx.config, ctx.actor)
    if sessions is None:
        print("jumpdeck: no serve-ssh server is running on this data dir.", file=sys.stderr)
        return 1
    if args.json:
        print(dumps([s.to_json() for s in sessions]))
    else:
        print_table(["id", "user", "address", "since", "idle", "key"],
                    [[s.id, s.user, s.address, f"{s.since.astimezone():%Y-%m-%d %H:%M:%S}", f"{s.idle_seconds:.0f} s",
                      s.fingerprint] for s in sessions])
    return 0


async def _sessions_end(args, ctx) -> int:
    from jumpdeck.core.serve.control import end_session

    ended = await end_session(ctx.config, ctx.actor, args.id)
    print(f"Ended session {ended.id} of {ended.user} from {ended.address}.")
    return 0
