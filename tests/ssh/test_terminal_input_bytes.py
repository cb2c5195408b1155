"""What a terminal sends, through Textual's own input parser and back to bytes for the PTY.

The bytes jumpdeck's terminal receives from the operator's terminal become Textual key and
paste events; the widget turns those back into bytes for the remote side. Whatever text
went in must come out whole and in order, one key per read or many at once.
"""

from __future__ import annotations

import time

import pytest
from textual import constants, events
from textual._xterm_parser import XTermParser

from jumpdeck.core.ssh.terminal_locale import FALLBACK_CTYPE, PTY_IUTF8, pty_modes, remote_locale
from jumpdeck.tui.widgets.terminal_keys import key_to_bytes, paste_to_bytes

TEXTS = {
    "hangul": "echo 서버 관리",
    "hangul jamo and compatibility jamo": "한 ㄱㄴㄷ ㅏㅑ",
    "cjk": "日本語 中文 繁體",
    "emoji with joiners and selectors": "👨‍👩‍👧 ❤️ 👍🏽 🇰🇷",
    "combining marks": "e\u0301 a\u0308 n\u0303 \u1100\u1161\u11ab",
    "format characters": "\u200c\u200e\u00ad\u2066x\u2069",
    "private use and astral": "\uf8ff \U000f0000 \U0001d54f",
    "fullwidth and halfwidth forms": "ＡＢＣ ｱｲｳ",
}


def _events(data: str, *, one_at_a_time: bool) -> list:
    """The events Textual's parser makes of `data`, fed in one read or one character per read."""
    parser = XTermParser()
    chunks = list(data) if one_at_a_time else [data]
    return [event for chunk in chunks for event in parser.feed(chunk)]


def _to_remote(parsed: list, *, bracketed: bool = True) -> bytes:
    out = []
    for event in parsed:
        if isinstance(event, events.Key):
            data = key_to_bytes(event.key, event.character)
            assert data is not None, f"{event.key!r} ({event.character!r}) sent nothing"
            out.append(data)
        elif isinstance(event, events.Paste):
            out.append(paste_to_bytes(event.text, bracketed=bracketed))
    return b"".join(out)


@pytest.mark.parametrize("one_at_a_time", [True, False], ids=["key by key", "burst"])
@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_typed_text_reaches_the_pty_whole(text, one_at_a_time):
    assert _to_remote(_events(text, one_at_a_time=one_at_a_time)) == text.encode()


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_pasted_text_stays_one_bracketed_paste(text):
    pasted = f"\x1b[200~{text}\n{text}\x1b[201~"
    assert _to_remote(_events(pasted, one_at_a_time=False)) == f"\x1b[200~{text}\r{text}\x1b[201~".encode()


def test_every_control_character_but_escape_round_trips():
    for code in [*range(0x00, 0x1b), *range(0x1c, 0x20), 0x7f]:
        char = chr(code)
        assert _to_remote(_events(char, one_at_a_time=True)) == char.encode(), hex(code)


def test_every_hangul_syllable_round_trips():
    syllables = "".join(map(chr, range(0xAC00, 0xD7A4)))
    assert _to_remote(_events(syllables, one_at_a_time=False)) == syllables.encode()


# What xterm sends for keys with modifiers, as the operator's terminal sends them to
# jumpdeck: the widget must hand the remote side the same bytes.
MODIFIED = [
    "\x1b[1;2A", "\x1b[1;5D", "\x1b[1;3C", "\x1b[1;6B", "\x1b[1;2H", "\x1b[1;5F",
    "\x1b[3;5~", "\x1b[5;3~", "\x1b[2;2~",
    "\x1bOP", "\x1bOS", "\x1b[15~", "\x1b[24~", "\x1b[1;2P", "\x1b[15;5~", "\x1b[Z",
]


@pytest.mark.parametrize("sequence", MODIFIED, ids=repr)
def test_keys_with_modifiers_reach_the_pty_as_xterm_sends_them(sequence):
    assert _to_remote(_events(sequence, one_at_a_time=False)) == sequence.encode()


@pytest.mark.parametrize("key, character, expected", [
    ("alt+x", "x", b"\x1bx"),
    ("alt+서", "서", "\x1b서".encode()),
    ("ctrl+alt+a", "\x01", b"\x1b\x01"),
    ("alt+shift+x", "X", b"\x1bX"),
])
def test_alt_prefixes_escape(key, character, expected):
    assert key_to_bytes(key, character) == expected


def test_the_remote_locale_is_the_operators_when_it_is_utf8():
    environ = {"LANG": "ko_KR.UTF-8", "LC_TIME": "en_GB.UTF-8", "HOME": "/root", "PATH": "/bin"}
    assert remote_locale(environ) == {"LANG": "ko_KR.UTF-8", "LC_TIME": "en_GB.UTF-8"}


@pytest.mark.parametrize("environ, expected", [
    ({}, {"LC_CTYPE": FALLBACK_CTYPE}),
    ({"LANG": "C"}, {"LANG": "C", "LC_CTYPE": FALLBACK_CTYPE}),
    ({"LANG": "ko_KR.eucKR"}, {"LANG": "ko_KR.eucKR", "LC_CTYPE": FALLBACK_CTYPE}),
    ({"LC_ALL": "POSIX"}, {"LANG": "POSIX", "LC_CTYPE": FALLBACK_CTYPE}),
    ({"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}, {"LANG": "ko_KR.UTF-8"}),
    ({"LANG": "de_DE.UTF-8", "LC_CTYPE": "C"}, {"LANG": "de_DE.UTF-8", "LC_CTYPE": FALLBACK_CTYPE}),
    ({"LC_ALL": "en_US.utf8"}, {"LC_ALL": "en_US.utf8"}),
])
def test_the_remote_character_type_is_always_utf8(environ, expected):
    assert remote_locale(environ) == expected


def test_only_locale_names_in_locale_categories_are_sent():
    environ = {"LANG": "C.UTF-8", "LC_TOKEN": "s3cret", "LC_TERMINAL": "iTerm2",
               "LC_MESSAGES": "x; rm -rf /", "LC_PAPER": "$(id)"}
    assert remote_locale(environ) == {"LANG": "C.UTF-8"}


def test_the_pty_erases_whole_characters():
    assert pty_modes() == {PTY_IUTF8: 1}


# Textual's input parser rewrites these before any widget sees them, and the key events
# it makes no longer tell them apart from other keys (README, "What input reaches the
# remote side"). Strict: when Textual keeps them, this fails and the README is due.
REWRITTEN_BY_TEXTUAL = {
    "alt+b (Textual: ctrl+left)": "\x1bb",
    "alt+1 (Textual: ¡, macOS's option+1)": "\x1b1",
    "alt+. (Textual: a plain .)": "\x1b.",
    "alt+space": "\x1b ",
    "alt+enter": "\x1b\r",
    "alt+backspace (Textual: ctrl+w)": "\x1b\x7f",
    "shift+f3 (Textual: a cursor position report)": "\x1b[1;2R",
}


@pytest.mark.xfail(strict=True, reason="Textual's parser rewrites the key")
@pytest.mark.parametrize("sequence", REWRITTEN_BY_TEXTUAL.values(), ids=REWRITTEN_BY_TEXTUAL.keys())
def test_keys_textual_rewrites(sequence):
    parser = XTermParser()
    parsed = list(parser.feed(sequence))
    time.sleep(constants.ESCAPE_DELAY * 2)  # as a terminal leaves it: nothing follows
    parsed += parser.tick()
    assert parsed and _to_remote(parsed) == sequence.encode()
