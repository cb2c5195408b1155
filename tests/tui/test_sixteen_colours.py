"""A 16-colour terminal (TERM=xterm) gets jumpdeck's ANSI theme: nothing on screen asks
for a 256-colour or true-colour code, and the selected card, framed in heavy lines, is
told apart from an offline server without relying on a colour. Run for real in tmux."""

from __future__ import annotations

import re

from tests.serve.conftest import Tmux, wait_until
from tests.tui.tmux_app import start_demo


def test_a_16_colour_terminal_gets_the_ansi_theme_and_a_heavy_selected_frame(tmp_path) -> None:
    tmux = Tmux()
    try:
        start_demo(tmux, "c", tmp_path, 80, 24, term="xterm")
        wait_until(lambda: "checking" not in tmux.capture("c"), 20)
        plain = tmux.capture("c")
        coloured = tmux.run("capture-pane", "-p", "-e", "-t", "c")
        assert not re.search(r"\x1b\[[0-9;]*[34]8;[25];", coloured), "a 256/true-colour code on a 16-colour terminal"
        cards = [line for line in plain.splitlines() if "─ ●" in line or "━ ●" in line]
        assert cards and cards[0].startswith("┏━ ● "), plain  # the selected card
        assert all(line.count("┏") <= 1 for line in cards) and sum("┏" in line for line in cards) == 1, plain
    finally:
        tmux.kill()
