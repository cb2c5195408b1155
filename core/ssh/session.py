"""A remote shell on a PTY: write keys, resize, read output as an async iterator.

Output is buffered up to a high-water mark; above it the channel stops reading, so a
remote flood waits in TCP windows instead of growing jumpdeck's memory while the
emulator catches up.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import Any, AsyncIterator

from jumpdeck.core.ssh.terminal_locale import pty_modes, remote_locale

HIGH_WATER = 1 << 20  # bytes buffered before the channel is paused
LOW_WATER = 256 << 10  # resumed once the consumer drained to this


class _Buffer:
    """The asyncssh session object's state, kept out of asyncssh's class for testability."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.ready = asyncio.Event()
        self.closed = asyncio.Event()
        self.paused = False
        self.chan: Any = None

    def feed(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        self.ready.set()
        if self.size > HIGH_WATER and self.chan is not None and not self.paused:
            self.paused = True
            self.chan.pause_reading()

    def take(self, limit: int) -> bytes:
        out = []
        taken = 0
        while self.chunks and taken < limit:
            chunk = self.chunks.popleft()
            if taken + len(chunk) > limit:
                cut = limit - taken
                self.chunks.appendleft(chunk[cut:])
                chunk = chunk[:cut]
            out.append(chunk)
            taken += len(chunk)
        self.size -= taken
        if not self.chunks:
            self.ready.clear()
        if self.paused and self.size <= LOW_WATER and self.chan is not None:
            self.paused = False
            self.chan.resume_reading()
        return b"".join(out)


def _session_class():
    import asyncssh

    class _PtySession(asyncssh.SSHClientSession):
        def __init__(self, buffer: _Buffer) -> None:
            self.buffer = buffer

        def connection_made(self, chan) -> None:
            self.buffer.chan = chan

        def data_received(self, data: bytes, datatype) -> None:
            self.buffer.feed(data)

        def connection_lost(self, exc) -> None:
            self.buffer.closed.set()
            self.buffer.ready.set()

    return _PtySession


class TerminalSession:
    """One interactive shell. Create with `SshConnection.open_terminal`."""

    def __init__(self, chan, buffer: _Buffer, cols: int, rows: int) -> None:
        self._chan = chan
        self._buffer = buffer
        self.cols, self.rows = cols, rows

    @property
    def is_open(self) -> bool:
        return not self._buffer.closed.is_set()

    @property
    def pending(self) -> int:
        """Output bytes received and not yet taken by `output()`."""
        return self._buffer.size

    @property
    def exit_status(self) -> int | None:
        """The remote exit code once the shell ended; None while open or if killed by a signal."""
        status = self._chan.get_exit_status()
        return None if status is None or status < 0 else status

    @property
    def exit_signal(self) -> str | None:
        signal = self._chan.get_exit_signal()
        return signal[0] if signal else None

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8", errors="replace")
        if self.is_open and data:
            self._chan.write(data)

    def resize(self, cols: int, rows: int) -> None:
        if (cols, rows) == (self.cols, self.rows) or not self.is_open:
            return
        self.cols, self.rows = cols, rows
        self._chan.change_terminal_size(cols, rows)

    async def output(self, limit: int = 64 << 10) -> AsyncIterator[bytes]:
        """Chunks of at most `limit` bytes until the remote side closes."""
        buffer = self._buffer
        while True:
            await buffer.ready.wait()
            if buffer.chunks:
                yield buffer.take(limit)
            elif buffer.closed.is_set():
                return

    def close(self) -> None:
        self._chan.close()

    async def wait_closed(self) -> int | None:
        await self._buffer.closed.wait()
        await self._chan.wait_closed()
        return self.exit_status


async def open_terminal(conn, cols: int, rows: int, *, term: str = "xterm-256color",
                        env: dict[str, str] | None = None, command: str | None = None) -> TerminalSession:
    """`env` goes with the session on top of the UTF-8 locale (core/ssh/terminal_locale.py)."""
    buffer = _Buffer()
    cls = _session_class()
    chan, _session = await conn.create_session(
        lambda: cls(buffer), command, term_type=term, term_size=(cols, rows), term_modes=pty_modes(),
        encoding=None, env={**remote_locale(os.environ), **(env or {})},
    )
    return TerminalSession(chan, buffer, cols, rows)
