"""A serve-ssh session runs the quiet input driver (tui/quiet_driver.py): idle, it
sleeps; keys and quitting still work (a lone escape: tests/tui/test_quiet_driver.py).
The real OpenSSH client in tmux against a real `jumpdeck serve-ssh`."""

from __future__ import annotations

import os
import time

import pytest

from tests.serve.conftest import wait_until
from tests.serve.test_serve_ssh import sessions

pytestmark = pytest.mark.services


def _switches(pid: int) -> int:
    """Voluntary context switches of every thread: one per wake from a sleep."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
    return total


def test_idle_session_sleeps_and_keys_escape_and_quit_work(serve, tmux):
    tmux.new("q", serve.ssh_line("admin"), 120, 40)
    assert "Palette" in tmux.wait_for("q", "Palette", 30), tmux.capture("q")
    pid = wait_until(lambda: next((s.pid for s in sessions(serve) if s.user == "admin"), None))
    assert pid
    wait_until(lambda: "checking" not in tmux.capture("q"), 20)
    time.sleep(2)  # the first round's threads settle
    before = _switches(pid)
    time.sleep(3)
    woke = _switches(pid) - before
    # Textual's own input thread wakes 10 times a second (30 here).
    assert woke < 10, f"the idle session woke {woke} times in 3 s"

    tmux.send("q", "8")  # a key after the long sleep still comes through
    assert "kim" in tmux.wait_for("q", "kim"), tmux.capture("q")
    tmux.send("q", "q")
    pane = tmux.wait_for("q", "SSH-EXIT=")
    assert "SSH-EXIT=0" in pane, "the session did not quit (its input thread did not stop?)\n" + pane
