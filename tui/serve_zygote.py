"""serve-ssh's session starter: a process that has already imported jumpdeck (Textual,
the shell, the Servers screen) and forks one child per session.

A fresh interpreter spends most of its start-up importing; forking a warm one makes the
first frame over ssh faster than starting `jumpdeck` by hand, and the children share the
imported pages copy-on-write. It lives in `tui/` because it imports Textual (core may not).

Protocol on the SOCK_SEQPACKET socket inherited as the fd named in argv[1]:
  server -> zygote: JSON {"id", "args", "env", "cwd"} with the PTY slave fd attached
  zygote -> server: JSON {"id", "pid"} or {"id", "error"}; later, once that child has
                    ended, {"exit": pid, "status": its wait status}
The children are the zygote's, so only it can learn how one ended: it reaps them and
reports each status, which the server hands to the SSH channel (`ssh` exits with it).
The zygote stays single-threaded (fork-safe); it exits when the server's end of the
socket closes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys

# What a session needs to reach its first screen: the shell, the Servers screen (every
# session starts there), the store and the services opened with it, Textual's terminal
# driver. A module preloaded here is in every child's RSS whether it uses it or not
# (fork copies the page tables of the zygote's heap), so the other screens and their
# libraries stay out: a child imports them when its operator first opens one.
PRELOAD = (
    "jumpdeck.tui.cli", "jumpdeck.tui.launch", "jumpdeck.tui.app", "jumpdeck.tui.screens.boot", "jumpdeck.tui.screens.servers",
    "textual.drivers.linux_driver", "jumpdeck.tui.quiet_driver", "textual.layouts.horizontal",
    "textual.scrollbar",
    "jumpdeck.core.context", "jumpdeck.core.demo", "jumpdeck.core.activity", "jumpdeck.core.users", "jumpdeck.core.settings", "jumpdeck.core.secrets",
    "jumpdeck.core.servers.checks", "jumpdeck.core.servers.registry", "jumpdeck.core.servers.fleet_checks", "jumpdeck.core.serve.check_relay",
    "jumpdeck.core.store.engine", "jumpdeck.core.serve.session_boot", "jumpdeck.core.serve.face_context",
    "jumpdeck.core.serve.session_client",
)
# Not here, on purpose: SQLAlchemy, cryptography and the DB drivers. A session's first
# screen comes from the serve-ssh server and so do its rounds of checks (a session's side
# of both is core/serve/session_client.py): a session opens its store, decrypts and connects
# only when its operator goes further (another screen, a form, a dashboard); then that
# child imports what it needs.
MAX_MESSAGE = 1 << 20


def preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    from jumpdeck.tui.cli import build_parser

    build_parser()  # imports every command module, as each child's main() does


def _trim_heap() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        pass


def _report_exits(sock: socket.socket) -> None:
    """Reap every child that has ended and tell the server its wait status."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        sock.send(json.dumps({"exit": pid, "status": status}).encode())


def _child(sock: socket.socket, slave: int, request: dict, wakeup: tuple[int, int]) -> None:
    """In the forked child: become the session's jumpdeck. Never returns."""
    code = 1
    try:
        sock.close()
        signal.set_wakeup_fd(-1)
        for fd in wakeup:
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.login_tty(slave)  # session leader, PTY as controlling tty, stdio on it
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request.get("cwd") or "/")
        import random

        random.seed()  # do not share the zygote's random state between sessions
        from jumpdeck.tui.cli import main

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
    # SIGCHLD only wakes the loop (through the wakeup pipe); children are reaped in the
    # loop, after the reply naming them has gone out, so the server always hears of a
    # pid before it hears that the pid ended.
    wakeup = os.pipe()
    for fd in wakeup:
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wakeup[1])
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops us by closing the socket
    try:
        while True:
            readable, _, _ = select.select([sock, wakeup[0]], [], [])
            if wakeup[0] in readable:
                _drain(wakeup[0])
                _report_exits(sock)
            if sock in readable and not _start_one(sock, wakeup):
                return
    except (BrokenPipeError, ConnectionResetError):
        return  # the server is gone


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _start_one(sock: socket.socket, wakeup: tuple[int, int]) -> bool:
    """Answer one request; False once the server has closed its end."""
    data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 1)
    if not data:
        return False
    request = json.loads(data)
    if not fds:
        sock.send(json.dumps({"id": request.get("id"), "error": "no PTY received"}).encode())
        return True
    slave = fds[0]
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(slave)
        sock.send(json.dumps({"id": request["id"], "error": exc.strerror}).encode())
        return True
    if pid == 0:
        _child(sock, slave, request, wakeup)
    os.close(slave)
    sock.send(json.dumps({"id": request["id"], "pid": pid}).encode())
    return True


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    preload()
    # Move everything imported so far out of the collector's reach: a collection in
    # a child would otherwise write to (and so copy) every shared page it visits.
    import gc

    gc.collect()
    gc.freeze()
    # Hand the heap's free pages back before the first fork: a child's RSS starts as
    # the starter's, freed-but-kept pages included (about 4 MB after the imports).
    _trim_heap()
    sock.send(b'{"ready": true}')
    serve(sock)


if __name__ == "__main__":
    main()
