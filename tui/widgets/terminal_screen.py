"""The emulator behind the terminal widget: a pyte Screen plus what pyte 0.8 lacks.

pyte parses VT100/xterm output into a grid of styled characters. This subclass adds
  * the alternate screen (private modes 1049, 1047 and 47), which full-screen programs
    such as less, vi and top switch to and from;
  * a capped scrollback of lines that scrolled off the top of the main screen;
  * replies to the terminal's status queries (DSR cursor position, DA), which pyte
    produces through `write_process_input` but drops by default;
  * a resize that keeps the cursor's line on screen (pyte drops lines from the top).
No Textual here: the widget draws this grid, the benchmark drives it directly.
"""

from __future__ import annotations

from collections import defaultdict, deque

import pyte
from pyte import modes as mo
from pyte.screens import StaticDefaultDict

ALT_SCREEN_MODES = (1049, 1047, 47)
# pyte stores private modes shifted left by 5; it names neither of these two.
APP_CURSOR_KEYS = 1 << 5  # DECCKM
BRACKETED_PASTE = 2004 << 5
DEFAULT_SCROLLBACK = 5000


class TerminalScreen(pyte.Screen):
    def __init__(self, columns: int, lines: int, *, scrollback: int = DEFAULT_SCROLLBACK) -> None:
        self.history: deque = deque(maxlen=scrollback)
        self.history_total = 0  # lines ever pushed (the deque's length stops at the cap)
        self.in_alt_screen = False
        self._main_buffer = None
        self.replies: list[str] = []
        super().__init__(columns, lines)

    # --- modes ------------------------------------------------------------
    @property
    def app_cursor_keys(self) -> bool:
        return APP_CURSOR_KEYS in self.mode

    @property
    def bracketed_paste(self) -> bool:
        return BRACKETED_PASTE in self.mode

    def _new_buffer(self):
        return defaultdict(lambda: StaticDefaultDict(self.default_char))

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


class Emulator:
    """A TerminalScreen with its byte stream: `feed(bytes)` and read the grid."""

    def __init__(self, columns: int = 80, lines: int = 24, *, scrollback: int = DEFAULT_SCROLLBACK) -> None:
        self.screen = TerminalScreen(columns, lines, scrollback=scrollback)
        self.stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)

    def resize(self, columns: int, lines: int) -> None:
        self.screen.resize(lines, columns)

    def text(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]
