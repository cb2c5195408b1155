"""A terminal widget: pyte's grid drawn as Textual lines, keys sent to a PTY.

The widget does not know SSH. It draws a `TerminalScreen`, turns keys and pastes into
bytes for its `sink` (anything with `write(bytes)` and `resize(cols, rows)`, such as
`core.ssh.TerminalSession`) and tells the sink its size. Output comes in through
`await feed(data)`, which parses in bounded slices and lets the rest of the app run
between them, and redraws at most once a frame, only the lines that changed: a flood of
output never stalls the UI.
"""

from __future__ import annotations

import asyncio
import time
from itertools import groupby
from operator import itemgetter
from typing import Protocol

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from jumpdeck.core.ssh.terminal_screen import DEFAULT_SCROLLBACK, Emulator
from jumpdeck.tui.widgets.terminal_keys import key_to_bytes, paste_to_bytes

RELEASE_KEY = "ctrl+right_square_bracket"  # ctrl+], telnet's escape key: rarely needed remotely
PARSE_STEP = 2048  # bytes handed to pyte at a time (well under 1 ms with the fast emulator)
PARSE_BUDGET = 0.004  # seconds of parsing before the rest of the app gets a turn...
BACKGROUND_BUDGET = 0.001  # ...and this long when the operator is busy elsewhere in jumpdeck
YIELD_ROUNDS = 16  # event-loop rounds given away at most per turn while others keep running
# After the operator's input elsewhere in jumpdeck (the tab bar, another screen), output
# parsing and redraws of this terminal wait this long: a key crosses several message
# queues and a full repaint of a flooding terminal (20-27 ms, measured) in front of each
# hop put tab switches at 100-140 ms. Keys typed into the terminal itself never wait.
KEYS_FIRST = 0.1
TYPED_AHEAD_LIMIT = 4096  # bytes kept while the shell opens: a Linux tty's input buffer
BUSY_ROUND = 0.0003  # a round longer than this ran someone else's work: give another
FRAME = 1 / 30  # redraws are coalesced to this interval while output arrives...
FLOOD_FRAME = 1 / 5  # ...and to this one while more output is already waiting (a flood,
# which nobody can read anyway): drawing then costs little of the parsing time

_ANSI = {"black": 0, "red": 1, "green": 2, "brown": 3, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7}
_STYLE_KEY = itemgetter(1, 2, 3, 4, 5, 6, 7)  # a pyte Char's fg, bg, bold, italics, underscore, strike, reverse
_DATA = itemgetter(0)


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...
    def resize(self, cols: int, rows: int) -> None: ...


def _color(name: str) -> Color | None:
    if name == "default":
        return None
    if name.startswith("bright") and name[6:] in _ANSI:
        return Color.from_ansi(_ANSI[name[6:]] + 8)
    if name in _ANSI:
        return Color.from_ansi(_ANSI[name])
    try:
        return Color.from_rgb(int(name[0:2], 16), int(name[2:4], 16), int(name[4:6], 16))
    except ValueError:
        return None


class Terminal(Widget, can_focus=True):
    """Every key but ctrl+] goes to the remote side; ctrl+] hands focus back to jumpdeck."""

    BINDINGS = [
        Binding(RELEASE_KEY, "release", "Leave terminal", id="terminal.release", key_display="ctrl+]"),
    ]

    DEFAULT_CSS = """
    Terminal {
        width: 1fr;
        height: 1fr;
        background: $background;
        color: $foreground;
    }
    """

    class Ready(Message):
        """The widget has its first real size: open the PTY with it."""

        def __init__(self, terminal: "Terminal", cols: int, rows: int) -> None:
            super().__init__()
            self.terminal, self.cols, self.rows = terminal, cols, rows

        @property
        def control(self) -> "Terminal":
            return self.terminal

    class Released(Message):
        """The operator pressed the release key: focus goes back to jumpdeck."""

        def __init__(self, terminal: "Terminal") -> None:
            super().__init__()
            self.terminal = terminal

        @property
        def control(self) -> "Terminal":
            return self.terminal

    def __init__(self, *, scrollback: int = DEFAULT_SCROLLBACK, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.emulator = Emulator(80, 24, scrollback=scrollback)
        self.sink: Sink | None = None
        self.history_offset = 0  # lines scrolled back into history; 0 = live
        self._ready_sent = False
        self._strips: dict[int, Strip] = {}  # by screen row, until pyte marks the row dirty
        self._drawn: dict[int, tuple[dict, Strip]] = {}  # by id of a pyte row: (its cells then, strip)
        self._styles: dict[tuple, Style] = {}
        self._refresh_pending = False
        self._last_flush = 0.0
        self._backlog = False  # more output was waiting when the last slice was parsed
        self._cursor_drawn: tuple[int, int] | None = None
        self._base: Style | None = None
        self._history_seen = 0
        # Keys typed before the first sink is attached (the shell is still being opened),
        # sent once it is, as a terminal keeps what was typed ahead of a slow login.
        # None once attached: after the session ends, keys go nowhere.
        self._early: bytearray | None = bytearray()

    # --- wiring ------------------------------------------------------------
    @property
    def screen_state(self):
        return self.emulator.screen

    def attach(self, sink: Sink) -> None:
        self.sink = sink
        screen = self.emulator.screen
        sink.resize(screen.columns, screen.lines)
        early, self._early = self._early, None
        if early:
            sink.write(bytes(early))

    def detach(self) -> None:
        self.sink = None

    def _send(self, data: bytes) -> None:
        if not data:
            return
        if self.sink is not None:
            self.sink.write(data)
        elif self._early is not None and len(self._early) + len(data) <= TYPED_AHEAD_LIMIT:
            self._early += data

    # --- output ------------------------------------------------------------
    async def feed(self, data: bytes, *, backlog: bool = False) -> None:
        """Parse remote output in time-boxed slices, letting the app run between them.

        `backlog`: more output is already waiting behind `data` (redraws are then rarer)."""
        position, size = 0, len(data)
        clock = time.perf_counter
        feed = self.emulator.feed
        while position < size:
            wait = self._input_elsewhere()
            if wait:
                await asyncio.sleep(min(wait, 0.01))
                continue
            deadline = clock() + (PARSE_BUDGET if self.has_focus else BACKGROUND_BUDGET)
            while position < size and clock() < deadline:
                feed(data[position:position + PARSE_STEP])
                position += PARSE_STEP
            self._backlog = backlog or position < size
            self._parsed()
            if position < size:
                await self._give_way()

    @staticmethod
    async def _give_way() -> None:
        # A key press crosses several message queues, one event-loop round each: while
        # other work keeps running, give it more rounds before parsing on, so a flood
        # delays a key by a few rounds rather than by a parse slice per hop.
        clock = time.perf_counter
        for _ in range(YIELD_ROUNDS):
            start = clock()
            await asyncio.sleep(0)
            if clock() - start < BUSY_ROUND:
                return

    def feed_now(self, data: bytes) -> None:
        """Parse `data` at once (small writes, tests)."""
        self.emulator.feed(data)
        self._parsed()

    def _parsed(self) -> None:
        screen = self.emulator.screen
        if self.history_offset:  # keep the lines the operator is reading where they are
            grown = screen.history_total - self._history_seen
            self.history_offset = min(len(screen.history), self.history_offset + grown)
        self._history_seen = screen.history_total
        replies = screen.take_replies()
        if replies:
            self._send(replies.encode())
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        # Leading edge: a lone key echo is drawn at once; while output keeps coming at
        # most one redraw per FRAME, whatever the number of chunks parsed in between.
        if self._refresh_pending or not self.is_mounted:
            return
        self._refresh_pending = True
        frame = FLOOD_FRAME if self._backlog else FRAME
        delay = max(self._last_flush + frame - time.monotonic(), self._input_elsewhere())
        if delay <= 0:
            self.call_later(self._flush)
        else:
            self.set_timer(delay, self._flush)

    def _input_elsewhere(self) -> float:
        """Seconds this terminal still holds back for the operator's input elsewhere (0: none)."""
        if self.has_focus:
            return 0.0
        last = getattr(getattr(self.app, "collector", None), "last_input", None)
        if last is None:
            return 0.0
        left = last + KEYS_FIRST - time.monotonic()
        return left if left > 0 else 0.0

    def _flush(self) -> None:
        self._refresh_pending = False
        self._last_flush = time.monotonic()
        screen = self.emulator.screen
        rows = screen.dirty
        for row in rows:
            self._strips.pop(row, None)
        cursor = self._cursor_cell()
        if cursor != self._cursor_drawn:
            rows.update(cell[1] for cell in (cursor, self._cursor_drawn) if cell is not None)
            self._cursor_drawn = cursor
        if len(self._drawn) > 4 * screen.lines:  # rows gone from the screen: forget them
            live = {id(row) for row in screen.buffer.values()}
            self._drawn = {key: value for key, value in self._drawn.items() if key in live}
        if self.history_offset or len(rows) >= screen.lines:
            self.refresh()
        elif rows:
            width = self.size.width
            self.refresh(*(Region(0, y, width, 1) for y in rows if y < screen.lines))
        rows.clear()

    def _cursor_cell(self) -> tuple[int, int] | None:
        cursor = self.emulator.screen.cursor
        if self.history_offset or not self.has_focus or cursor.hidden:
            return None
        return cursor.x, cursor.y

    def flush(self) -> None:
        """Draw now what was parsed (tests, and the benchmark's final frame)."""
        self._flush()

    # --- size --------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        cols, rows = self.size.width, self.size.height
        if cols <= 0 or rows <= 0:
            return
        self.emulator.resize(cols, rows)
        self._forget_drawn()
        if self.sink is not None:
            self.sink.resize(cols, rows)
        if not self._ready_sent:
            self._ready_sent = True
            self.post_message(self.Ready(self, cols, rows))
        self.refresh()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    # --- drawing -----------------------------------------------------------
    # Drawing is what a flood pays on every frame, so the hot path is lean: a line is cut
    # into runs of equal style by `groupby` (C, not a Python loop per cell), styles are
    # cached per pyte attribute tuple with the widget's own style folded in, and a drawn
    # line is kept per screen row until pyte marks it dirty, and per pyte row object
    # (with a copy of its cells to check) so lines that only scrolled are not drawn again.

    def _forget_drawn(self) -> None:
        self._strips.clear()
        self._drawn.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None
        self._styles.clear()
        self._forget_drawn()

    @property
    def _base_style(self) -> Style:
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _style(self, attrs: tuple) -> Style:
        """`attrs`: a pyte Char's (fg, bg, bold, italics, underscore, strikethrough, reverse)."""
        style = self._styles.get(attrs)
        if style is None:
            fg, bg, bold, italics, underscore, strike, reverse = attrs
            style = self._base_style + Style(
                color=_color(fg), bgcolor=_color(bg), bold=bold or None, italic=italics or None,
                underline=underscore or None, strike=strike or None, reverse=reverse or None)
            self._styles[attrs] = style
        return style

    def _line(self, row, columns: int, width: int, cursor_x: int | None = None) -> Strip:
        """One pyte row (a dict by column, holes read as its default) as a Strip `width` wide."""
        end = min(max(row) + 1, columns) if row else 0
        cells = list(map(row.__getitem__, range(end)))
        if cursor_x is not None and cursor_x < columns:
            if cursor_x >= end:
                cells.extend(map(row.__getitem__, range(end, cursor_x + 1)))
            char = cells[cursor_x]
            cells[cursor_x] = char._replace(reverse=not char.reverse)
        style = self._style
        segments = [Segment("".join(map(_DATA, run)), style(attrs)) for attrs, run in groupby(cells, _STYLE_KEY)]
        strip = Strip(segments)
        length = strip.cell_length
        if length < width:
            return Strip([*segments, Segment(" " * (width - length), self._base_style)], width)
        return strip.crop(0, width) if length > width else strip

    def _row_line(self, row, columns: int, width: int) -> Strip:
        drawn = self._drawn.get(id(row))
        if drawn is not None and drawn[0] == row:
            return drawn[1]
        strip = self._line(row, columns, width)
        self._drawn[id(row)] = (dict(row), strip)
        return strip

    def render_line(self, y: int) -> Strip:
        screen = self.emulator.screen
        width = self.size.width
        offset = self.history_offset
        if y < offset:
            history = screen.history
            index = len(history) - offset + y
            if 0 <= index < len(history):
                return self._row_line(history[index], screen.columns, width)
            return Strip.blank(width, self._base_style)
        row = y - offset
        if row >= screen.lines:
            return Strip.blank(width, self._base_style)
        if offset == 0 and self.has_focus and not screen.cursor.hidden and row == screen.cursor.y:
            return self._line(screen.buffer[row], screen.columns, width, screen.cursor.x)
        strip = self._strips.get(row)
        if strip is None:
            strip = self._strips[row] = self._row_line(screen.buffer[row], screen.columns, width)
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # --- input -------------------------------------------------------------
    def _scroll_back(self, lines: int) -> None:
        history = len(self.emulator.screen.history)
        offset = max(0, min(history, self.history_offset + lines))
        if offset != self.history_offset:
            self.history_offset = offset
            self.refresh()

    async def _on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if event.key == RELEASE_KEY:  # handled here, not via bubbling: fewer hops during a flood
            self.action_release()
            return
        page = max(1, self.size.height - 1)
        if event.key == "shift+pageup":
            self._scroll_back(page)
            return
        if event.key == "shift+pagedown":
            self._scroll_back(-page)
            return
        data = key_to_bytes(event.key, event.character, app_cursor=self.emulator.screen.app_cursor_keys)
        if data:
            if self.history_offset:
                self.history_offset = 0
                self.refresh()
            self._send(data)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self._send(paste_to_bytes(event.text, bracketed=self.emulator.screen.bracketed_paste))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self._scroll_back(3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self._scroll_back(-3)

    def action_release(self) -> None:
        # Straight to the screen (it bubbles on to the app): one hop, not one per ancestor.
        self.screen.post_message(self.Released(self))

    # --- reading (copy, tests) --------------------------------------------
    def text_lines(self) -> list[str]:
        return self.emulator.text()
