"""serve-ssh's session starter: a process that has already imported jumpdeck (Textual,
SQLAlchemy, the screens) and forks one child per session.

A fresh interpreter spends most of its start-up importing; forking a warm one makes the
first frame over ssh faster than starting `jumpdeck` by hand, and the children share the
imported pages copy-on-write. It lives in `tui/` because it imports Textual (core may not).

Protocol on the SOCK_SEQPACKET socket inherited as the fd named in argv[1]:
  server -> zygote: JSON {"id", "args", "env", "cwd"} with the PTY slave fd attached
  zygote -> server: JSON {"id", "pid"} or {"id", "error"}
The zygote stays single-threaded (fork-safe) and reaps its children; it exits when the
server's end of the socket closes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

# What a session needs to reach its first screen: the shell, the Servers screen (every
# session starts there), the store and the services opened with it, Textual's terminal
# driver. A module preloaded here is in every child's RSS whether it uses it or not
# (fork copies the page tables of the zygote's heap), so the other screens and their
# libraries stay out: a child imports them when its operator first opens one.
PRELOAD = (
    "tui.cli", "tui.launch", "tui.app", "tui.screens.boot", "tui.screens.servers",
    "textual.drivers.linux_driver", "textual.layouts.horizontal", "textual.scrollbar",
    "core.context", "core.demo", "core.activity", "core.users", "core.settings", "core.secrets",
    "core.servers.checks", "core.servers.registry",
    "core.store.engine", "core.store.models", "sqlalchemy.orm", "sqlalchemy.dialects.sqlite", "sqlite3",
    # Every server's password is a Fernet token, opened for the first round of checks.
    "cryptography.fernet",
)
MAX_MESSAGE = 1 << 20


def preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    from tui.cli import build_parser

    build_parser()  # imports every command module, as each child's main() does
    # The first round of checks loads the fleet's drivers in every session. Loaded here,
    # their initialisation runs once and the children only fault in the code they run
    # (measured on the demo fleet: 6-8 MB less RSS per session). A missing driver stays
    # missing: the child reports it as `driver_missing` when it checks.
    from core.servers.drivers import DriverError, load_driver
    from core.servers.registry import DbType

    for db_type in DbType:
        try:
            load_driver(db_type).preload()
        except DriverError:
            pass


def _reap(signum, frame) -> None:  # noqa: ANN001
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _child(sock: socket.socket, slave: int, request: dict) -> None:
    """In the forked child: become the session's jumpdeck. Never returns."""
    code = 1
    try:
        sock.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.login_tty(slave)  # session leader, PTY as controlling tty, stdio on it
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request.get("cwd") or "/")
        import random

        random.seed()  # do not share the zygote's random state between sessions
        from tui.cli import main

        try:
            code = main(list(request["args"]))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - show it on the operator's terminal, then leave
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def serve(sock: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops us by closing the socket
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 1)
        except InterruptedError:
            continue
        if not data:
            return
        request = json.loads(data)
        if not fds:
            sock.send(json.dumps({"id": request.get("id"), "error": "no PTY received"}).encode())
            continue
        slave = fds[0]
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(slave)
            sock.send(json.dumps({"id": request["id"], "error": exc.strerror}).encode())
            continue
        if pid == 0:
            _child(sock, slave, request)
        os.close(slave)
        sock.send(json.dumps({"id": request["id"], "pid": pid}).encode())


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    preload()
    # Move everything imported so far out of the collector's reach: a collection in
    # a child would otherwise write to (and so copy) every shared page it visits.
    import gc

    gc.collect()
    gc.freeze()
    sock.send(b'{"ready": true}')
    serve(sock)


if __name__ == "__main__":
    main()
