"""Keys right after a dialog closes reach the app: on the Servers screen with no server
(the grid hidden, nothing focused), closing `?` or the command palette used to focus
the hidden search box, and `q` was typed into it instead of quitting
(tui/screens/base.py, `on_screen_resume`). The real OpenSSH client in tmux against a
real `jumpdeck serve-ssh`; the store has users and no server."""

from __future__ import annotations

import pytest

from tests.serve.conftest import wait_until

pytestmark = pytest.mark.services

DIALOGS = {
    "help": ("?", "Keys — Servers"),
    "palette": ("C-p", "Search for commands"),
}


@pytest.mark.parametrize("dialog", sorted(DIALOGS))
def test_q_right_after_a_dialog_closes_quits_the_session(serve, tmux, dialog):
    opener, shown = DIALOGS[dialog]
    tmux.new("k", serve.ssh_line("admin"), 120, 40)
    empty = "No servers are registered yet"  # the fleet has come: the grid is hidden
    assert empty in tmux.wait_for("k", empty, 30), tmux.capture("k")
    tmux.send("k", opener)
    assert shown in tmux.wait_for("k", shown), tmux.capture("k")
    tmux.send("k", "Escape")
    assert wait_until(lambda: shown not in tmux.capture("k")), tmux.capture("k")
    tmux.send("k", "q")  # at once: no pause after the dialog is gone
    pane = tmux.wait_for("k", "SSH-EXIT=")
    assert "SSH-EXIT=0" in pane, f"q after closing the {dialog} did not quit the session\n" + pane
