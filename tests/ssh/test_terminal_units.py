"""Emulator and key translation without a server."""

from __future__ import annotations

from jumpdeck.core.ssh.terminal_screen import Emulator
from jumpdeck.tui.widgets.terminal_keys import key_to_bytes, paste_to_bytes


def test_scrollback_is_capped():
    emu = Emulator(20, 5, scrollback=100)
    emu.feed(b"".join(b"line%d\r\n" % i for i in range(1000)))
    assert len(emu.screen.history) == 100
    assert emu.text()[0] == "line996"


def test_alternate_screen_restores_main_screen_and_cursor():
    emu = Emulator(20, 5)
    emu.feed(b"main text\r\nprompt$ ")
    emu.feed(b"\x1b[?1049h\x1b[H\x1b[2Jfull screen app\x1b[5;1H")
    assert emu.screen.in_alt_screen and emu.text()[0] == "full screen app"
    emu.feed(b"\x1b[?1049l")
    assert emu.text()[:2] == ["main text", "prompt$"]
    assert (emu.screen.cursor.x, emu.screen.cursor.y) == (8, 1)
    # Lines scrolled inside the alternate screen never reach the scrollback.
    emu.feed(b"\x1b[?1049h" + b"x\r\n" * 50 + b"\x1b[?1049l")
    assert len(emu.screen.history) == 0


def test_status_queries_are_answered():
    emu = Emulator(20, 5)
    emu.feed(b"\x1b[2;3H\x1b[6n")
    assert emu.screen.take_replies() == "\x1b[2;3R"


def test_shrinking_keeps_the_cursor_line():
    emu = Emulator(20, 10)
    emu.feed(b"".join(b"l%d\r\n" % i for i in range(9)) + b"$ ")
    emu.resize(20, 4)
    assert emu.text()[-1] == "$" and emu.screen.cursor.y == 3
    assert [line[0].data + line[1].data for line in list(emu.screen.history)[-2:]] == ["l4", "l5"]


def test_keys():
    assert key_to_bytes("up") == b"\x1b[A"
    assert key_to_bytes("up", app_cursor=True) == b"\x1bOA"
    assert key_to_bytes("ctrl+left") == b"\x1b[1;5D"
    assert key_to_bytes("f1") == b"\x1bOP" and key_to_bytes("f12") == b"\x1b[24~"
    assert key_to_bytes("pagedown") == b"\x1b[6~" and key_to_bytes("home") == b"\x1b[H"
    assert key_to_bytes("ctrl+c", "\x03") == b"\x03" and key_to_bytes("ctrl+d") == b"\x04"
    assert key_to_bytes("alt+b", "b") == b"\x1bb"
    assert key_to_bytes("enter", "\r") == b"\r" and key_to_bytes("backspace") == b"\x7f"
    assert key_to_bytes("ä", "ä") == "ä".encode()


def test_paste():
    assert paste_to_bytes("a\nb", bracketed=False) == b"a\rb"
    assert paste_to_bytes("x\x1b[201~y", bracketed=True) == b"\x1b[200~xy\x1b[201~"


def test_xterm_key_modifier_sequences_are_not_renditions():
    """vim sends `CSI ? 4 m` (a query) and `CSI > 4;2 m` (modifyOtherKeys) at start."""
    for fast in (True, False):
        emu = Emulator(20, 5, fast=fast)
        emu.feed(b"\x1b[?4m" + b"A")  # pyte alone raised TypeError here
        assert emu.screen.buffer[0][0].data == "A" and not emu.screen.buffer[0][0].underscore
    emu = Emulator(20, 5)
    emu.feed(b"\x1b[>4;2mB\x1b[4mC")
    assert not emu.screen.buffer[0][0].underscore  # a key setting, not underline
    assert emu.screen.buffer[0][1].underscore  # real SGR 4 after it still works


def test_a_sequence_the_emulator_cannot_handle_does_not_raise(monkeypatch):
    emu = Emulator(20, 5)

    def broken(*args, **kwargs):
        raise TypeError("boom")

    monkeypatch.setattr(emu.screen, "erase_in_display", broken)
    emu.stream._csi_calls["J"] = broken
    emu.feed(b"before\x1b[2Jafter")  # must not raise
    emu.feed(b"\r\nnext line")
    assert emu.text()[1] == "next line"


async def test_output_waits_briefly_after_input_elsewhere_but_not_for_its_own_keys():
    import asyncio
    import time
    from types import SimpleNamespace

    from textual.app import App
    from textual.widgets import Input

    from jumpdeck.tui.widgets import terminal as terminal_module
    from jumpdeck.tui.widgets.terminal import Terminal

    class TwoApp(App):
        def __init__(self) -> None:
            super().__init__()
            self.collector = SimpleNamespace(last_input=0.0)

        def compose(self):
            yield Input(id="elsewhere")
            yield Terminal()

    app = TwoApp()
    async with app.run_test(size=(60, 12)) as pilot:
        term = app.query_one(Terminal)
        app.query_one("#elsewhere", Input).focus()
        await pilot.pause()
        # The operator just pressed a key outside the terminal: its output waits.
        app.collector.last_input = time.monotonic()
        feeding = asyncio.create_task(term.feed(b"held back\r\n"))
        await asyncio.sleep(terminal_module.KEYS_FIRST / 3)
        assert "held back" not in "\n".join(term.text_lines())
        await asyncio.wait_for(feeding, 2)
        assert "held back" in "\n".join(term.text_lines())
        # Focused, the terminal never waits (typed keys echo at once).
        term.focus()
        await pilot.pause()
        app.collector.last_input = time.monotonic()
        await asyncio.wait_for(term.feed(b"echoed\r\n"), terminal_module.KEYS_FIRST / 3)
        assert "echoed" in "\n".join(term.text_lines())


def test_repeat_and_scroll_sequences_that_ncurses_sends():
    for fast in (True, False):
        emu = Emulator(10, 4, fast=fast)
        emu.feed(b"ab\x1b[3bc\r\n-\x1b[4b")  # REP: repeat the last character
        assert emu.text()[:2] == ["abbbbc", "-----"]
        emu = Emulator(6, 4, fast=fast)
        emu.feed(b"1\r\n2\r\n3\r\n4\x1b[2;3H\x1b[T")  # SD: down one, cursor stays
        assert emu.text() == ["", "1", "2", "3"] and (emu.screen.cursor.x, emu.screen.cursor.y) == (2, 1)
        emu.feed(b"\x1b[2S")  # SU: up two
        assert emu.text() == ["2", "3", "", ""]
        emu.feed(b"\x1b[2;3r\x1b[1;1H\x1b[S")  # inside margins only
        assert emu.text() == ["2", "", "", ""]
        emu.feed(b"\x1b[>1T\x1b[?1;2S")  # xterm's title mode and graphics query: not scrolls
        assert emu.text() == ["2", "", "", ""]
