"""The server's side of the session starter (`tui/serve_zygote.py`): start it, hand it
a PTY slave per session, get the child's pid back and, when the child ends, its wait
status (the children are the starter's, so the server cannot wait for them itself).

The zygote imports Textual, which core may not; core only runs it as a process. If it
fails to start or dies, the server falls back to fork + exec per session."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import socket
import subprocess
import sys

from jumpdeck.core.errors import JumpdeckError

log = logging.getLogger("jumpdeck.serve")
START_TIMEOUT = 60.0
SPAWN_TIMEOUT = 15.0


class Prefork:
    def __init__(self, env: dict[str, str], cwd: str) -> None:
        self._env = env
        self._cwd = cwd
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen | None = None
        self._waiting: dict[int, asyncio.Future] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}  # pid -> its wait status, once reported
        self._ids = itertools.count(1)
        self._reader: asyncio.Task | None = None
        self.alive = False

    async def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # -OO: no docstrings in the starter, so none in any session (SQLAlchemy's
            # alone are megabytes); nothing jumpdeck loads reads them at run time.
            self._process = subprocess.Popen(
                [sys.executable, "-OO", "-m", "jumpdeck.tui.serve_zygote", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], env=self._env, cwd=self._cwd, stdin=subprocess.DEVNULL,
                start_new_session=True)
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours
        loop = asyncio.get_running_loop()
        try:
            ready = await asyncio.wait_for(loop.sock_recv(ours, 65536), START_TIMEOUT)
        except asyncio.TimeoutError:
            ready = b""
        if not ready or not json.loads(ready).get("ready"):
            await self.close()
            raise JumpdeckError("The serve-ssh session starter did not start.")
        self.alive = True
        self._reader = asyncio.create_task(self._read_replies())

    async def _read_replies(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await loop.sock_recv(self._sock, 65536)
                if not data:
                    break
                reply = json.loads(data)
                if "exit" in reply:
                    exited = self._exits.pop(int(reply["exit"]), None)
                    if exited is not None and not exited.done():
                        exited.set_result(int(reply["status"]))
                    continue
                if "pid" in reply:  # before anyone awaits it: the exit report may come next
                    reply["exited"] = self._exits[int(reply["pid"])] = loop.create_future()
                future = self._waiting.pop(reply.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(reply)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self.alive = False
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(JumpdeckError("The serve-ssh session starter stopped."))
            for exited in self._exits.values():
                exited.cancel()  # how those children end, nobody can tell us now
            self._waiting.clear()
            self._exits.clear()
            log.warning("the serve-ssh session starter stopped; sessions start by fork + exec now")

    async def spawn(self, args: list[str], env: dict[str, str], cwd: str,
                    slave_fd: int) -> tuple[int, asyncio.Future[int]]:
        """Start a session child on `slave_fd`: its pid, and a future of its wait status
        (set when it ends; cancelled if the starter stops first)."""
        if not self.alive or self._sock is None:
            raise JumpdeckError("The serve-ssh session starter is not running.")
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        message = json.dumps({"id": request_id, "args": args, "env": env, "cwd": cwd}).encode()
        socket.send_fds(self._sock, [message], [slave_fd])
        reply = await asyncio.wait_for(future, SPAWN_TIMEOUT)
        if "pid" not in reply:
            raise JumpdeckError(f"The session starter could not start a session: {reply.get('error')}.")
        return int(reply["pid"]), reply["exited"]

    async def close(self) -> None:
        self.alive = False
        if self._reader is not None:
            self._reader.cancel()
        if self._sock is not None:
            self._sock.close()  # the zygote leaves when its socket closes
            self._sock = None
        if self._process is not None:
            try:
                await asyncio.wait_for(asyncio.to_thread(self._process.wait), 5)
            except asyncio.TimeoutError:
                self._process.kill()
            self._process = None
