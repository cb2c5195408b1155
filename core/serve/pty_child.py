"""One jumpdeck child in its own PTY.

The child is made session leader with the PTY slave as its controlling terminal
(`os.login_tty`), so the kernel delivers SIGWINCH to it when the server sets the
window size with TIOCSWINSZ, and SIGHUP when the master side closes. The parent keeps
only the master fd, non-blocking, read from the event loop."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import signal
import struct
import termios
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from jumpdeck.core.serve.prefork import Prefork

log = logging.getLogger("jumpdeck.serve")
READ_CHUNK = 65536
# A prefork child's status comes from its starter, which reaps it: wait this long for the
# report after the child has gone before calling the status unknown.
EXIT_REPORT_WAIT = 5.0
UNKNOWN_STATUS = 255


def set_window_size(fd: int, cols: int, rows: int, px_width: int = 0, px_height: int = 0) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(rows, 1), max(cols, 1), px_width, px_height))


class PtyChild:
    """A process on a PTY. `on_output(bytes)` gets its output; `on_exit(status)` once."""

    def __init__(self, cols: int, rows: int, on_output: Callable[[bytes], None], on_exit: Callable[[int], None]) -> None:
        """Open the PTY; `start_exec` or `start_prefork` then puts a process on it."""
        self._loop = asyncio.get_running_loop()
        self._on_output = on_output
        self._on_exit = on_exit
        self._pending_input = bytearray()
        self._reading = False
        self._pidfd = -1
        self._reported: asyncio.Future[int] | None = None  # a prefork child's wait status
        self.pid = 0
        self.status: int | None = None
        self.master, self._slave = os.openpty()
        set_window_size(self._slave, cols, rows)
        os.set_blocking(self.master, False)

    def start_exec(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        """fork + exec a fresh interpreter (the fallback when there is no prefork)."""
        pid = os.fork()
        if pid == 0:  # the child: nothing but exec, the parent may have threads
            try:
                os.close(self.master)
                os.login_tty(self._slave)
                os.chdir(cwd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self._attach(pid)

    async def start_prefork(self, prefork: Prefork, args: list[str], env: dict[str, str], cwd: str) -> None:
        """Have the warm session starter fork the child onto our PTY."""
        # On failure the slave stays open, so the caller can fall back to start_exec.
        pid, self._reported = await prefork.spawn(args, env, cwd, self._slave)
        self._attach(pid)

    def _attach(self, pid: int) -> None:
        self._close_slave()  # only the child holds the slave now: its exit gives EIO
        self.pid = pid
        self.resume_output()
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # a prefork child that has already ended and been reaped
            self._gone()
            return
        self._loop.add_reader(self._pidfd, self._reap)

    def _close_slave(self) -> None:
        if self._slave >= 0:
            os.close(self._slave)
            self._slave = -1

    # -------------------------------------------------------------- output side
    def pause_output(self) -> None:
        """The SSH channel is full: stop reading, so the PTY's buffer pushes back."""
        if self._reading and self.master >= 0:
            self._loop.remove_reader(self.master)
            self._reading = False

    def resume_output(self) -> None:
        if not self._reading and self.master >= 0:
            self._loop.add_reader(self.master, self._read)
            self._reading = True

    def _read(self) -> None:
        try:
            data = os.read(self.master, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: every slave fd is closed, the child is gone
            if exc.errno != errno.EIO:
                raise
            data = b""
        if data:
            self._on_output(data)
        else:
            self.pause_output()

    # --------------------------------------------------------------- input side
    def write(self, data: bytes) -> None:
        if self.master < 0:
            return
        self._pending_input += data
        self._flush_input()

    def _flush_input(self) -> None:
        while self._pending_input and self.master >= 0:
            try:
                written = os.write(self.master, self._pending_input)
            except BlockingIOError:
                self._loop.add_writer(self.master, self._flush_input)
                return
            except OSError:
                self._pending_input.clear()
                break
            del self._pending_input[:written]
        if self.master >= 0:
            self._loop.remove_writer(self.master)

    def resize(self, cols: int, rows: int, px_width: int = 0, px_height: int = 0) -> None:
        if self.master >= 0:
            set_window_size(self.master, cols, rows, px_width, px_height)

    # ---------------------------------------------------------------- lifecycle
    def _reap(self) -> None:
        if self._reported is not None:
            self._gone()
            return
        try:
            done, raw = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped by someone else: how it ended is unknown
            raw = None
        else:
            if done == 0:  # woken early: not exited yet
                return
        self._finish(raw)

    def _gone(self) -> None:
        """A prefork child has ended: its starter reaps it and reports the wait status."""
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
        report = self._reported
        assert report is not None
        if report.done():
            self._finish(_wait_status(report))
            return
        timer = self._loop.call_later(EXIT_REPORT_WAIT, report.cancel)

        def reported(future: asyncio.Future[int]) -> None:
            timer.cancel()
            self._finish(_wait_status(future))

        report.add_done_callback(reported)

    def _finish(self, raw: int | None) -> None:
        """The child has ended with wait status `raw` (None: unknown)."""
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        # Drain what the child wrote last (its terminal restore sequences) before closing.
        while self.master >= 0:
            try:
                data = os.read(self.master, READ_CHUNK)
            except OSError:
                break
            if not data:
                break
            self._on_output(data)
        self._close_master()
        if raw is None:
            log.warning("the exit status of session process %s is unknown", self.pid)
            self.status = UNKNOWN_STATUS
        else:
            self.status = os.waitstatus_to_exitcode(raw)
        self._on_exit(self.status)

    def _close_master(self) -> None:
        if self.master >= 0:
            self.pause_output()
            self._loop.remove_writer(self.master)
            os.close(self.master)
            self.master = -1

    @property
    def alive(self) -> bool:
        return self._pidfd >= 0

    async def terminate(self, grace: float = 3.0) -> None:
        """Hang up like a closed terminal would; SIGKILL if it does not leave in time."""
        self._close_slave()
        if not self.alive:
            self._close_master()
            return
        try:
            os.killpg(self.pid, signal.SIGHUP)
        except ProcessLookupError:
            pass
        self._close_master()
        for _ in range(int(grace / 0.05)):
            if not self.alive:
                return
            await asyncio.sleep(0.05)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_status(report: asyncio.Future[int]) -> int | None:
    if report.cancelled() or report.exception() is not None:
        return None
    return report.result()
