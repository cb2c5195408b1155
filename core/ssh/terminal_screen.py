"""The emulator behind the terminal widget: a pyte Screen plus what pyte 0.8 lacks.

pyte parses VT100/xterm output into a grid of styled characters. This subclass adds
  * the alternate screen (private modes 1049, 1047 and 47), which full-screen programs
    such as less, vi and top switch to and from;
  * a capped scrollback of lines that scrolled off the top of the main screen;
  * replies to the terminal's status queries (DSR cursor position, DA), which pyte
    produces through `write_process_input` but drops by default;
  * a resize that keeps the cursor's line on screen (pyte drops lines from the top).
`FastScreen` and `FastStream` then take the commonest work off pyte's per-character
Python paths (see there); `Emulator(fast=False)` keeps pyte's own, which the tests
compare them against.
No Textual here: the widget draws this grid, the benchmark drives it directly.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import defaultdict, deque

import pyte
from pyte import control as ctrl
from pyte import modes as mo
from pyte.screens import StaticDefaultDict

ALT_SCREEN_MODES = (1049, 1047, 47)
# pyte stores private modes shifted left by 5; it names neither of these two.
APP_CURSOR_KEYS = 1 << 5  # DECCKM
BRACKETED_PASTE = 2004 << 5
DEFAULT_SCROLLBACK = 5000


log = logging.getLogger(__name__)


class TerminalScreen(pyte.Screen):
    def __init__(self, columns: int, lines: int, *, scrollback: int = DEFAULT_SCROLLBACK) -> None:
        self.history: deque = deque(maxlen=scrollback)
        self.history_total = 0  # lines ever pushed (the deque's length stops at the cap)
        self.in_alt_screen = False
        self._main_buffer = None
        self.replies: list[str] = []
        self.last_graphic = ""  # for REP (`CSI n b`)
        super().__init__(columns, lines)

    # --- what pyte 0.8 lacks and ncurses uses with TERM=xterm-256color ------
    # htop over SSH sends REP (repeat the last character) and SD (scroll down); without
    # them its columns lose characters and old rows stay on screen.
    def draw(self, data: str) -> None:
        if data:
            self.last_graphic = data[-1]
        super().draw(data)

    def repeat_last(self, count: int = 1, **kwargs) -> None:
        if self.last_graphic and not kwargs.get("private"):
            self.draw(self.last_graphic * min(max(count, 1), self.columns * self.lines))

    def _scroll_region(self, count: int, insert: bool) -> None:
        top, _bottom = self.margins or (0, self.lines - 1)
        x, y = self.cursor.x, self.cursor.y
        self.cursor.y = top
        count = min(max(count, 1), self.lines)
        (self.insert_lines if insert else self.delete_lines)(count)
        self.cursor.x, self.cursor.y = x, y

    def scroll_up(self, count: int = 1, **kwargs) -> None:
        """SU: the scrolling region's lines move up `count`; blank lines come in below."""
        if not kwargs.get("private"):  # `CSI ? ... S` is xterm's graphics query
            self._scroll_region(count, insert=False)

    def scroll_down(self, count: int = 1, *args: int, **kwargs) -> None:
        """SD: the scrolling region's lines move down `count`; blank lines come in on top."""
        if not kwargs.get("private") and not args:  # 5 parameters: xterm's mouse tracking, not SD
            self._scroll_region(count, insert=True)

    # --- modes ------------------------------------------------------------
    @property
    def app_cursor_keys(self) -> bool:
        return APP_CURSOR_KEYS in self.mode

    @property
    def bracketed_paste(self) -> bool:
        return BRACKETED_PASTE in self.mode

    def _new_buffer(self):
        return defaultdict(lambda: StaticDefaultDict(self.default_char))

    def select_graphic_rendition(self, *attrs: int, **kwargs) -> None:
        # `CSI ? Ps m` is xterm's query of its key-modifier options (vim sends it at
        # start), not a rendition; pyte would pass `private=True` and fail.
        if kwargs.get("private"):
            return
        super().select_graphic_rendition(*attrs)

    def set_mode(self, *modes: int, **kwargs) -> None:
        if kwargs.get("private"):
            alt = [m for m in modes if m in ALT_SCREEN_MODES]
            if alt and not self.in_alt_screen:
                if 1049 in alt:
                    self.save_cursor()
                self._main_buffer = self.buffer
                self.buffer = self._new_buffer()
                self.in_alt_screen = True
                self.dirty.update(range(self.lines))
            modes = tuple(m for m in modes if m not in ALT_SCREEN_MODES)
            if not modes:
                return
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs) -> None:
        if kwargs.get("private"):
            alt = [m for m in modes if m in ALT_SCREEN_MODES]
            if alt and self.in_alt_screen:
                self.buffer = self._main_buffer if self._main_buffer is not None else self._new_buffer()
                for y in [y for y in self.buffer if y >= self.lines]:  # resized while away
                    del self.buffer[y]
                self._main_buffer = None
                self.in_alt_screen = False
                if 1049 in alt:
                    self.restore_cursor()
                self.dirty.update(range(self.lines))
            modes = tuple(m for m in modes if m not in ALT_SCREEN_MODES)
            if not modes:
                return
        super().reset_mode(*modes, **kwargs)

    # --- scrollback -------------------------------------------------------
    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and not self.in_alt_screen:
            # The row object is replaced (not mutated) by pyte's scroll, so keeping it is safe.
            self.history.append(self.buffer[0])
            self.history_total += 1
        super().index()

    def erase_in_display(self, how: int = 0, *args, **kwargs) -> None:
        if how == 3:  # `clear` sends ESC[3J: xterm drops the scrollback too
            self.history.clear()
            how = 2
        super().erase_in_display(how, *args, **kwargs)

    def reset(self) -> None:
        super().reset()
        if self.in_alt_screen:
            self.in_alt_screen = False
            self._main_buffer = None

    # --- replies to queries -------------------------------------------------
    def write_process_input(self, data: str) -> None:
        self.replies.append(data)

    def take_replies(self) -> str:
        out, self.replies = "".join(self.replies), []
        return out

    # --- size -------------------------------------------------------------
    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines = lines or self.lines
        columns = columns or self.columns
        if (lines, columns) == (self.lines, self.columns):
            return
        if lines < self.lines:
            # Keep the cursor's line visible: what falls off the top goes to scrollback.
            overflow = self.cursor.y - (lines - 1)
            if overflow > 0:
                if not self.in_alt_screen:
                    self.history.extend(self.buffer[y] for y in range(overflow))
                    self.history_total += overflow
                rows = {y - overflow: row for y, row in self.buffer.items() if y >= overflow}
                self.buffer.clear()
                self.buffer.update(rows)
                self.cursor.y -= overflow
            for y in [y for y in self.buffer if y >= lines]:
                del self.buffer[y]
        if columns < self.columns:
            for row in self.buffer.values():
                for x in [x for x in row if x >= columns]:
                    del row[x]
        self.lines, self.columns = lines, columns
        self.margins = None
        self.ensure_hbounds()
        self.ensure_vbounds()
        self.dirty.update(range(lines))


class _Chars(dict):
    """Char objects of one set of attributes, by character: made once, then shared."""

    __slots__ = ("attrs",)

    def __init__(self, attrs) -> None:
        super().__init__()
        self.attrs = attrs

    def __missing__(self, data: str):
        char = self[data] = self.attrs._replace(data=data)
        return char


class FastScreen(TerminalScreen):
    """The same screen with pyte's three hottest paths done in bulk.

    * `draw` of printable ASCII (nearly all output) writes whole runs with `dict.update`
      from Char objects shared per style, instead of building one Char per character;
    * `index` (every line of a flood) shifts the rows in one `dict.update`;
    * `select_graphic_rendition` remembers its result per (attributes, parameters, DECSCNM).
    Anything else (wide or combining characters, insert mode, no auto-wrap, another
    charset) goes to pyte's own code, so behaviour stays pyte's.
    """

    _CACHE_LIMIT = 512  # styles remembered; a true-colour gradient must not grow them for ever

    def __init__(self, columns: int, lines: int, *, scrollback: int = DEFAULT_SCROLLBACK) -> None:
        self._chars: dict = {}
        self._sgr: dict = {}
        super().__init__(columns, lines, scrollback=scrollback)

    def draw(self, data: str) -> None:
        if data:
            self.last_graphic = data[-1]
        text = data.translate(self.g1_charset if self.charset else self.g0_charset)
        mode = self.mode
        if not (text.isascii() and text.isprintable()) or mo.IRM in mode or mo.DECAWM not in mode:
            super().draw(data)
            return
        cursor = self.cursor
        attrs = cursor.attrs
        chars = self._chars.get(attrs)
        if chars is None:
            if len(self._chars) >= self._CACHE_LIMIT:
                self._chars.clear()
            chars = self._chars[attrs] = _Chars(attrs)
        columns = self.columns
        while text:
            if cursor.x >= columns:  # pyte wraps before the next character, not after the last
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            x = cursor.x
            part, text = text[:columns - x], text[columns - x:]
            end = x + len(part)
            self.buffer[cursor.y].update(zip(range(x, end), map(chars.__getitem__, part)))
            cursor.x = end
        self.dirty.add(cursor.y)

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y != bottom:
            self.cursor_down()
            return
        buffer = self.buffer
        if top == 0 and not self.in_alt_screen:
            self.history.append(buffer[0])
            self.history_total += 1
        self.dirty.update(range(self.lines))
        # pyte's loop `buffer[y] = buffer[y + 1]`, in order, in C.
        buffer.update(zip(range(top, bottom), map(buffer.__getitem__, range(top + 1, bottom + 1))))
        buffer.pop(bottom, None)

    def select_graphic_rendition(self, *attrs: int, **kwargs) -> None:
        if kwargs.get("private"):  # a query, not a rendition (see TerminalScreen); never cached
            return
        key = (self.cursor.attrs, attrs, mo.DECSCNM in self.mode)  # SGR 0 resets to `default_char`, which depends on it
        result = self._sgr.get(key)
        if result is None or kwargs:
            super().select_graphic_rendition(*attrs, **kwargs)
            if len(self._sgr) >= self._CACHE_LIMIT:
                self._sgr.clear()
            self._sgr[key] = self.cursor.attrs
        else:
            self.cursor.attrs = result


class TerminalStream(pyte.ByteStream):
    """pyte's byte stream with the CSI sequences TerminalScreen adds."""

    csi = {**pyte.ByteStream.csi, "b": "repeat_last", "S": "scroll_up", "T": "scroll_down"}


class FastStream(TerminalStream):
    """pyte's ByteStream with whole CSI sequences and CR/LF dispatched without its parser.

    pyte feeds every byte of an escape sequence through a generator, one `send` each; a
    complete `ESC [ ? digits ; ... final` is matched here at once and dispatched to the
    same screen method with the same arguments. Partial or unusual sequences (a chunk
    that ends inside one, intermediates, OSC, charsets) still go through pyte's parser.

    This loop takes the place of pyte's `Stream.feed`, so it hands state back and forth
    with pyte's parser through private details of pyte 0.8 (see `pyte_feed_loop_fits`);
    pyproject.toml pins pyte below 0.9 for them. It was kept because it was measured:
    `seq 1 200000` 2.87x -> 0.74x of the stock pyte floor (README, SSH terminal).
    """

    _csi_pattern = re.compile(r"\x1b\[([?>]?)([0-9;]*)([@-~])")

    def attach(self, screen) -> None:
        super().attach(screen)
        self._csi_calls = {final: getattr(screen, name) for final, name in self.csi.items()}
        self._basic_calls = {char: getattr(screen, self.basic[char]) for char in (ctrl.CR, ctrl.LF)}

    def feed(self, data: bytes) -> None:
        if self.use_utf8:
            self._feed_text(self.utf8_decoder.decode(data))
        else:
            super().feed(data)

    def _feed_text(self, data: str) -> None:
        screen = self.listener
        if screen is None:
            raise RuntimeError("Listener is not set")
        draw, debug = screen.draw, screen.debug
        send = self._send_to_parser
        match_text, match_csi = self._text_pattern.match, self._csi_pattern.match
        csi_calls, basic_calls = self._csi_calls, self._basic_calls
        plain = self._taking_plain_text
        offset, length = 0, len(data)
        while offset < length:
            if not plain:  # inside a sequence: pyte's parser, one character at a time
                plain = send(data[offset])
                offset += 1
                continue
            match = match_text(data, offset)
            if match:
                offset = match.end()
                draw(match.group())
                continue
            char = data[offset]
            call = basic_calls.get(char)
            if call is not None:
                call()
                offset += 1
                continue
            if char == ctrl.ESC:
                match = match_csi(data, offset)
                if match:
                    offset = match.end()
                    private, params, final = match.groups()
                    if private == ">":
                        # xterm's `CSI > ...` are settings (`CSI > 4;2 m`, modifyOtherKeys,
                        # which vim sends; `CSI > T`, title modes): pyte would read them as
                        # SGR or SD. Ignored when whole in one chunk (a split one still goes
                        # through pyte's parser).
                        if final != "c":
                            continue
                        private = ""  # as pyte: `CSI > c` is answered like `CSI c`
                    args = [min(int(p or 0), 9999) for p in params.split(";")]
                    if private:
                        csi_calls.get(final, debug)(*args, private=True)
                    else:
                        csi_calls.get(final, debug)(*args)
                    continue
            plain = send(char)
            offset += 1
        self._taking_plain_text = plain


_PLAIN_TEXT_CHECK = "ab\x1b[1m"


@functools.cache
def pyte_feed_loop_fits() -> bool:
    """Whether the installed pyte still has what FastStream's loop relies on, with the
    behaviour it relies on: `_taking_plain_text` (True while the parser takes plain
    text), `_text_pattern` (matches a run of plain text), `_send_to_parser(char)` (feeds
    one character, returns the parser's new plain-text state) and ByteStream's
    `utf8_decoder`. If not, the emulator uses pyte's own feed (slower, never broken)."""
    try:
        stream = TerminalStream(TerminalScreen(4, 2))
        run = stream._text_pattern.match(_PLAIN_TEXT_CHECK)
        fits = (stream._taking_plain_text is True and run is not None and run.group() == "ab"
                and [bool(stream._send_to_parser(c)) for c in _PLAIN_TEXT_CHECK[2:]] == [False, False, False, True]
                and stream.utf8_decoder.decode(b"\xc3") == "" and stream.utf8_decoder.decode(b"\xa9") == "\xe9")
    except Exception:  # noqa: BLE001 - any mismatch means: not the pyte this loop was written for
        fits = False
    if not fits:
        from importlib.metadata import version

        log.warning("terminal: pyte %s lacks what the fast parser relies on; using pyte's own", version("pyte"))
    return fits


class Emulator:
    """A TerminalScreen with its byte stream: `feed(bytes)` and read the grid.

    `fast=False` uses pyte's own drawing and parsing (the reference in the tests)."""

    def __init__(self, columns: int = 80, lines: int = 24, *, scrollback: int = DEFAULT_SCROLLBACK,
                 fast: bool = True) -> None:
        self.screen = (FastScreen if fast else TerminalScreen)(columns, lines, scrollback=scrollback)
        self.stream = (FastStream if fast and pyte_feed_loop_fits() else TerminalStream)(self.screen)

    def feed(self, data: bytes) -> None:
        try:
            self.stream.feed(data)
        except Exception:  # noqa: BLE001
            # A sequence the emulator cannot handle must not end the session or the
            # app: pyte has reset its parser; the rest of this chunk is dropped.
            log.debug("terminal: a control sequence could not be handled", exc_info=True)

    def resize(self, columns: int, lines: int) -> None:
        self.screen.resize(lines, columns)

    def text(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]
