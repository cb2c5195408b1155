"""Snapshots: the terminal widget with colors, and the SSH screen at both sizes."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from tests.ssh.test_terminal_widget import wait_for
from jumpdeck.tui.widgets.terminal import Terminal

COLOURED = (
    b"\x1b[1mbold\x1b[0m \x1b[4munderline\x1b[0m \x1b[7mreverse\x1b[0m\r\n"
    + b"".join(b"\x1b[%dm %d \x1b[0m" % (30 + i, i) for i in range(8)) + b"\r\n"
    + b"".join(b"\x1b[%dm %d \x1b[0m" % (40 + i, i) for i in range(8)) + b"\r\n"
    + b"".join(b"\x1b[48;5;%dm  " % n for n in range(16, 232, 6)) + b"\x1b[0m\r\n"
    + b"".join(b"\x1b[48;2;%d;0;%dm " % (r, 255 - r) for r in range(0, 256, 8)) + b"\x1b[0m\r\n"
    + b"$ "
)


class ColourApp(App):
    def compose(self) -> ComposeResult:
        yield Terminal()

    def on_mount(self) -> None:
        terminal = self.query_one(Terminal)
        terminal.feed_now(COLOURED)
        terminal.focus()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_terminal_colours_snapshot(snap_compare, size):
    async def settle(pilot):
        pilot.app.query_one(Terminal).flush()
        await pilot.pause()

    assert snap_compare(ColourApp(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_ssh_screen_empty_snapshot(snap_compare, config, size):
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.ssh import SshScreen

    async def ready(pilot):
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SshScreen))
        await pilot.pause()

    assert snap_compare(JumpdeckApp(config, start_mode="ssh"), terminal_size=size, run_before=ready)
