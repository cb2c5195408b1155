"""The fast stream's loop leans on private details of pyte 0.8 (core/ssh/terminal_screen.py,
`pyte_feed_loop_fits`). These tests fail when an upgraded pyte changes them, and show that
a pyte without them gets pyte's own feed, not a broken terminal."""

from __future__ import annotations

import pytest
from pyte.streams import Stream

from jumpdeck.core.ssh import terminal_screen
from jumpdeck.core.ssh.terminal_screen import Emulator, FastStream, TerminalStream, pyte_feed_loop_fits

SAMPLE = b"plain \x1b[1;31mred\x1b[0m \xc3\xa9\r\nnext\x1b[2;3Hx\x1b]0;t\x07"


@pytest.fixture(autouse=True)
def fresh_check():
    pyte_feed_loop_fits.cache_clear()
    yield
    pyte_feed_loop_fits.cache_clear()


def test_pyte_has_the_private_details_the_fast_loop_reads():
    stream = TerminalStream(terminal_screen.TerminalScreen(10, 3))
    assert stream._taking_plain_text is True  # a fresh parser takes plain text
    assert stream._text_pattern.match("ab\x1bc").group() == "ab"
    # One character at a time; the parser says when it is back in plain text.
    assert [bool(stream._send_to_parser(c)) for c in "\x1b[1m"] == [False, False, False, True]
    assert stream.utf8_decoder.decode(b"\xc3") == "" and stream.utf8_decoder.decode(b"\xa9") == "é"
    assert pyte_feed_loop_fits()
    assert type(Emulator().stream) is FastStream


def test_a_pyte_without_them_gets_pytes_own_feed(monkeypatch, caplog):
    # As if a later pyte had renamed `_send_to_parser`: its own feed still works.
    send = Stream._send_to_parser
    pyte_feed = Stream.feed
    monkeypatch.delattr(Stream, "_send_to_parser")

    def feed(self, data):  # noqa: ANN001, ANN202
        self._send_to_parser = send.__get__(self)
        try:
            return pyte_feed(self, data)
        finally:
            del self._send_to_parser

    monkeypatch.setattr(Stream, "feed", feed)
    caplog.set_level("WARNING", logger=terminal_screen.__name__)
    emulator = Emulator(20, 4)
    assert type(emulator.stream) is TerminalStream
    assert "using pyte's own" in caplog.text
    emulator.feed(SAMPLE)
    reference = Emulator(20, 4, fast=False)
    reference.feed(SAMPLE)
    assert emulator.text() == reference.text() == ["plain red é", "next", "", ""]
