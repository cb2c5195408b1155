"""ctrl+l repaints every cell: line noise written straight to the terminal (as `wall`
does) is gone afterwards. Run for real: jumpdeck on a tmux PTY."""

from __future__ import annotations

from tests.serve.conftest import Tmux, wait_until
from tests.tui.tmux_app import start_demo

NOISE = "NOISE-FROM-WALL"


def test_ctrl_l_repaints_over_what_others_wrote_to_the_terminal(tmp_path):
    tmux = Tmux()
    try:
        start_demo(tmux, "r", tmp_path)
        wait_until(lambda: "checking" not in tmux.capture("r"), 20)
        tty = tmux.run("display-message", "-p", "-t", "r", "#{pane_tty}").strip()
        with open(tty, "w") as terminal:  # over the app, as a `wall` message would land
            terminal.write(f"\x1b[5;3H{NOISE}\r\n{NOISE}\x1b[20;60H{NOISE}")
        assert NOISE in tmux.wait_for("r", NOISE, 5)
        tmux.send("r", "C-l")
        assert wait_until(lambda: NOISE not in tmux.capture("r"), 5), tmux.capture("r")
        assert "Palette" in tmux.capture("r")
    finally:
        tmux.kill()
