"""Thin links: an idle screen sends next to nothing. jumpdeck --demo on a real PTY at
120x40; on each screen, once its first frame is drawn, the bytes it writes while nobody
types must stay within 2 KB a minute (they are 0 today: nothing changes, nothing is
redrawn). The Monitor screen used to rewrite its "Prometheus is not configured" lines
and its table on every retry: 24 KB a minute."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WINDOW = 6.0  # seconds watched per screen
LIMIT_PER_MINUTE = 2048
# The app opens on Servers: visit it last, so each key draws a new screen.
SCREENS = {"2": "Provision", "3": "Monitor", "4": "SSH", "5": "Charts", "6": "Maintenance",
           "7": "Activity", "8": "Users", "1": "Servers"}


def _read(fd: int, seconds: float, *, until_quiet: float | None = None) -> bytes:
    """What the app writes for `seconds`, or until it has been quiet for `until_quiet`."""
    chunks: list[bytes] = []
    end = time.monotonic() + seconds
    last = time.monotonic()
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            chunks.append(data)
            last = time.monotonic()
        elif until_quiet is not None and time.monotonic() - last >= until_quiet:
            break
    return b"".join(chunks)


def test_every_idle_screen_sends_at_most_2_kb_a_minute(tmp_path) -> None:
    import subprocess

    env = {**os.environ, "JUMPDECK_HOME": str(tmp_path / "h"), "JUMPDECK_CONFIG": "/dev/null"}
    # The Monitor screen retries every monitor_refresh seconds (15): make its retries
    # fall inside the window watched.
    subprocess.run([sys.executable, "-m", "jumpdeck.tui.cli", "--demo", "settings", "set", "monitor_refresh", "2"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    pid, fd = pty.fork()
    if pid == 0:  # the child: jumpdeck on the PTY's other end
        os.chdir(ROOT)
        os.environ.update({"JUMPDECK_HOME": str(tmp_path / "h"), "JUMPDECK_CONFIG": "/dev/null",
                           "TERM": "xterm-256color"})
        os.execv(sys.executable, [sys.executable, "-m", "jumpdeck.tui.cli", "--demo"])
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        first = _read(fd, 30, until_quiet=2.0)
        assert b"Palette" in first, first[-500:]
        sent: dict[str, int] = {}
        for key, title in SCREENS.items():
            os.write(fd, key.encode())
            drawn = _read(fd, 15, until_quiet=1.5)
            assert title.encode() in drawn, (title, drawn[-300:])
            sent[title] = len(_read(fd, WINDOW))
        per_minute = {title: round(n * 60 / WINDOW) for title, n in sent.items()}
        assert all(rate <= LIMIT_PER_MINUTE for rate in per_minute.values()), per_minute
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
