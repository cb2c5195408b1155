"""The emulator's fast paths must leave exactly the screen pyte's own code leaves.

Every input is fed twice, into `Emulator()` and `Emulator(fast=False)` (pyte's drawing
and parser), in the same chunks, and the whole state is compared: rows, scrollback,
cursor, attributes, modes, margins and the dirty set.
"""

from __future__ import annotations

import random

import pytest

from jumpdeck.core.ssh.terminal_screen import Emulator

SAMPLES = {
    "seq": b"".join(b"%d\r\n" % i for i in range(1, 3000)),
    "colors": b"".join(b"\x1b[01;34mdir%d\x1b[0m  \x1b[38;5;%dmdata%d.csv\x1b[0m \x1b[1;38;2;10;20;%dmT\x1b[m\r\n"
                       % (i, i % 256, i, i % 256) for i in range(400)),
    "wrap": b"x" * 500 + b"\r\n" + b"abc" * 90 + b"\x1b[?7l" + b"y" * 200 + b"\x1b[?7h" + b"z" * 95,
    "insert_mode": b"hello world\x1b[1;3H\x1b[4hXYZ\x1b[4l!",
    "cursor_moves": b"\x1b[2J\x1b[5;10Hmid\x1b[Htop\x1b[10;1H\x1b[Kline\x1b[3A\x1b[2Cup\x1b[1;20r\x1b[20;1H"
                    + b"scroll\r\n" * 30 + b"\x1b[r\x1b[6n\x1b[c",
    "margins": b"\x1b[5;10r" + b"".join(b"\x1b[10;1Hm%d\n" % i for i in range(40)) + b"\x1b[r",
    "utf8_wide": "한국어 텍스트 ünïcödé e\u0301 ｗｉｄｅ\r\n".encode() * 20,
    "charsets": b"\x1b(0lqqk\x1b(B plain \x0ex\x0f",
    "reverse_screen": b"\x1b[?5hreverse\x1b[0mafter\x1b[31mred\x1b[0m\x1b[?5lback\x1b[0mnormal",
    "alt_screen": b"main\r\n\x1b[?1049h\x1b[H\x1b[2Jfull\x1b[7mscreen\x1b[0m\x1b[?1049lback",
    "odd_sequences": b"\x1b[>c\x1b[?$p\x1b]0;title\x07\x1b]2;t2\x1b\\\x1b[1:2m\x1b[ q\x1b#8\x1b[ 5;5H\x1b7\x1b8",
}


def _state(emulator: Emulator):
    screen = emulator.screen
    rows = {y: dict(row) for y, row in screen.buffer.items() if row}
    history = [dict(row) for row in screen.history]
    cursor = screen.cursor
    return (rows, history, screen.history_total, (cursor.x, cursor.y, cursor.attrs, cursor.hidden),
            set(screen.mode), screen.margins, set(screen.dirty), screen.title, screen.replies,
            screen.in_alt_screen)


def _feed_both(data: bytes, chunk: int, columns: int = 40, lines: int = 12):
    fast, slow = Emulator(columns, lines, scrollback=200), Emulator(columns, lines, scrollback=200, fast=False)
    for start in range(0, len(data), chunk):
        fast.feed(data[start:start + chunk])
        slow.feed(data[start:start + chunk])
    return fast, slow


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_fast_paths_match_pyte(name, chunk):
    fast, slow = _feed_both(SAMPLES[name], chunk)
    assert _state(fast) == _state(slow)


@pytest.mark.parametrize("seed", range(40))
def test_fast_paths_match_pyte_on_random_streams(seed):
    rng = random.Random(seed)
    pieces = [b"word", b" ", b"\r", b"\n", b"\r\n", b"\t", b"\x08", b"\x1b[", b"\x1b", b"m", b";", b"1", b"38;5;200",
              b"\x1b[0m", b"\x1b[1;31m", b"\x1b[7m", b"\x1b[H", b"\x1b[2J", b"\x1b[K", b"\x1b[3;5H", b"\x1b[?25l",
              b"\x1b[?7l", b"\x1b[?7h", b"\x1b[4h", b"\x1b[4l", b"\x1b[2;8r", b"\x1b[r", b"\x1bM", b"\x1bD",
              b"\x1b[L", b"\x1b[M", b"\x1b[P", b"\x1b[@", b"\x1b[X", b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[?5h",
              b"\x1b[?5l", b"\x1b[3b", b"\x1b[2S", b"\x1b[T", "é字".encode(), b"\xff", b"x" * 45, b"\x1b]0;t\x07", b"\x1b(0", b"\x1b(B"]
    data = b"".join(rng.choice(pieces) for _ in range(3000))
    fast, slow = _feed_both(data, rng.choice([1, 3, 64, 1000]))
    assert _state(fast) == _state(slow)
