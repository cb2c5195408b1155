"""The terminal driver's input thread sleeps while idle (tui/quiet_driver.py), and keys,
a lone escape and quitting still work. Run for real: jumpdeck on a tmux PTY."""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

from tests.serve.conftest import Tmux, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _switches(pid: int) -> int:
    """Voluntary context switches of every thread: one per wake from a sleep."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
    return total


def _app_pid(tmux: Tmux, pane: str) -> int:
    shell = int(tmux.run("display-message", "-p", "-t", pane, "#{pane_pid}").strip())
    with open(f"/proc/{shell}/task/{shell}/children") as f:
        children = f.read().split()
    return int(children[0]) if children else shell


def test_idle_app_sleeps_and_keys_escape_and_quit_work(tmp_path):
    tmux = Tmux()
    env = f"JUMPDECK_HOME={shlex.quote(str(tmp_path / 'h'))} JUMPDECK_CONFIG={shlex.quote(str(tmp_path / 'none.toml'))}"
    try:
        tmux.run("new-session", "-d", "-s", "q", "-x", "120", "-y", "40",
                 f"cd {shlex.quote(str(ROOT))} && exec env {env} {shlex.quote(sys.executable)} -m jumpdeck.tui.cli --demo")
        assert tmux.wait_for("q", "Palette", 30), tmux.capture("q")
        pid = _app_pid(tmux, "q")
        wait_until(lambda: "checking" not in tmux.capture("q"), 20)
        time.sleep(2)  # the first round's threads settle
        before = _switches(pid)
        time.sleep(3)
        woke = _switches(pid) - before
        # Textual's own input thread wakes 10 times a second (30 here).
        assert woke < 10, f"the idle app woke {woke} times in 3 s"

        tmux.send("q", "?")
        assert "Keys — Servers" in tmux.wait_for("q", "Keys — Servers"), tmux.capture("q")
        tmux.send("q", "Escape")  # a lone ESC: only the parser's timeout makes it a key
        assert wait_until(lambda: "Keys — Servers" not in tmux.capture("q"), 5), tmux.capture("q")
        tmux.send("q", "q")
        assert wait_until(lambda: "q" not in tmux.run("list-sessions", "-F", "#S", check=False).split(), 10), \
            "the app did not quit (its input thread did not stop?)"
    finally:
        tmux.kill()
