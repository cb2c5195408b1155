"""A terminal widget: pyte's grid drawn as Textual lines, keys sent to a PTY.

The widget does not know SSH. It draws a `TerminalScreen`, turns keys and pastes into
bytes for its `sink` (anything with `write(bytes)` and `resize(cols, rows)`, such as
`core.ssh.TerminalSession`) and tells the sink its size. Output comes in through
`await feed(data)`, which parses in bounded slices and yields between them, and redraws
at most once a frame: a flood of output never stalls the UI.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tui.widgets.terminal_keys import key_to_bytes, paste_to_bytes
from tui.widgets.terminal_screen import DEFAULT_SCROLLBACK, Emulator

RELEASE_KEY = "ctrl+right_square_bracket"  # ctrl+], telnet's escape key: rarely needed remotely
PARSE_STEP = 512  # bytes handed to pyte at a time (~1 ms)
PARSE_BUDGET = 0.004  # seconds of parsing before yielding to the event loop: a key press
# crosses several message hops, each waiting at most this long behind a flood...
BACKGROUND_BUDGET = 0.001  # ...and this long when the operator is busy elsewhere in jumpdeck
FRAME = 1 / 30  # redraws are coalesced to this interval while output arrives
FLOOD_FRAME = 1 / 5  # ... and to this one during a flood, which nobody can read anyway
FLOOD_BYTES = 16384  # parsed between two redraws: above this it is a flood

_DEFAULT_ATTRS = ("default", "default", False, False, False, False, False, False)
_ANSI = {"black": 0, "red": 1, "green": 2, "brown": 3, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7}


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
        self._strips: dict[int, Strip] = {}
        self._styles: dict[tuple, Style] = {}
        self._refresh_pending = False
        self._last_flush = 0.0
        self._since_flush = 0
        self._flooding = False
        self._base: Style | None = None
        self._history_seen = 0

    # --- wiring ------------------------------------------------------------
    @property
    def screen_state(self):
        return self.emulator.screen

    def attach(self, sink: Sink) -> None:
        self.sink = sink
        screen = self.emulator.screen
        sink.resize(screen.columns, screen.lines)

    def detach(self) -> None:
        self.sink = None

    def _send(self, data: bytes) -> None:
        if self.sink is not None and data:
            self.sink.write(data)

    # --- output ------------------------------------------------------------
    async def feed(self, data: bytes) -> None:
        """Parse remote output in time-boxed slices, yielding between them so keys stay responsive."""
        position, size = 0, len(data)
        clock = time.perf_counter
        while position < size:
            deadline = clock() + (PARSE_BUDGET if self.has_focus else BACKGROUND_BUDGET)
            begin = position
            while position < size and clock() < deadline:
                self.emulator.feed(data[position:position + PARSE_STEP])
                position += PARSE_STEP
            self._since_flush += position - begin
            self._parsed()
            if position < size:
                await asyncio.sleep(0)

    def feed_now(self, data: bytes) -> None:
        """Parse `data` at once (small writes, tests)."""
        self.emulator.feed(data)
        self._since_flush += len(data)
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
        # Leading edge: a lone key echo is drawn at once; during a flood at most one
        # redraw per FRAME, whatever the number of chunks parsed in between.
        if self._refresh_pending or not self.is_mounted:
            return
        self._refresh_pending = True
        frame = FLOOD_FRAME if self._flooding else FRAME
        delay = self._last_flush + frame - time.monotonic()
        if delay <= 0:
            self.call_later(self._flush)
        else:
            self.set_timer(delay, self._flush)

    def _flush(self) -> None:
        self._refresh_pending = False
        self._last_flush = time.monotonic()
        self._flooding = self._since_flush > FLOOD_BYTES
        self._since_flush = 0
        screen = self.emulator.screen
        for row in screen.dirty:
            self._strips.pop(row, None)
        screen.dirty.clear()
        self.refresh()

    def flush(self) -> None:
        """Draw now what was parsed (tests, and the benchmark's final frame)."""
        self._flush()

    # --- size --------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        cols, rows = self.size.width, self.size.height
        if cols <= 0 or rows <= 0:
            return
        self.emulator.resize(cols, rows)
        self._strips.clear()
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
    # Drawing cost is what a flood pays on every frame, so the hot path is lean: one
    # Strip per line, styles cached per pyte attribute tuple with the widget's own
    # style already folded in, and only the cells pyte actually stored are visited.

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None
        self._styles.clear()
        self._strips.clear()

    @property
    def _base_style(self) -> Style:
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _style(self, attrs: tuple) -> Style:
        """`attrs` is a pyte Char minus its data: (fg, bg, bold, italics, underscore, strike, reverse, blink)."""
        style = self._styles.get(attrs)
        if style is None:
            fg, bg, bold, italics, underscore, strike, reverse = attrs[:7]
            style = self._base_style + Style(
                color=_color(fg), bgcolor=_color(bg), bold=bold or None, italic=italics or None,
                underline=underscore or None, strike=strike or None, reverse=reverse or None)
            self._styles[attrs] = style
        return style

    def _line(self, row, columns: int, width: int, cursor_x: int | None = None) -> Strip:
        segments: list[Segment] = []
        append = segments.append
        text: list[str] = []
        current = _DEFAULT_ATTRS
        x = 0
        cells = sorted(key for key in row if key < columns)
        if cursor_x is not None and cursor_x < columns and cursor_x not in row:
            cells = sorted({*cells, cursor_x})
        for key in cells:
            if key > x:  # cells pyte never wrote: blanks in the default style
                if current != _DEFAULT_ATTRS:
                    if text:
                        append(Segment("".join(text), self._style(current)))
                        text = []
                    current = _DEFAULT_ATTRS
                text.append(" " * (key - x))
            char = row[key]
            attrs = char[1:]
            if key == cursor_x:
                attrs = attrs[:6] + (not attrs[6],) + attrs[7:]
            if attrs != current:
                if text:
                    append(Segment("".join(text), self._style(current)))
                    text = []
                current = attrs
            if char.data:  # "" is the second cell of a wide character
                text.append(char.data)
            x = key + 1
        if text:
            append(Segment("".join(text), self._style(current)))
        if width > x:
            append(Segment(" " * (width - x), self._base_style))
        return Strip(segments, max(width, x)).crop(0, width) if x > width else Strip(segments, width)

    def render_line(self, y: int) -> Strip:
        screen = self.emulator.screen
        width = self.size.width
        offset = self.history_offset
        if y < offset:
            history = screen.history
            index = len(history) - offset + y
            if 0 <= index < len(history):
                return self._line(history[index], screen.columns, width)
            return Strip.blank(width, self._base_style)
        row = y - offset
        if row >= screen.lines:
            return Strip.blank(width, self._base_style)
        if offset == 0 and self.has_focus and not screen.cursor.hidden and row == screen.cursor.y:
            return self._line(screen.buffer[row], screen.columns, width, screen.cursor.x)
        strip = self._strips.get(row)
        if strip is None:
            strip = self._strips[row] = self._line(screen.buffer[row], screen.columns, width)
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
