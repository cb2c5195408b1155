"""A terminal widget: pyte's grid drawn as Textual lines, keys sent to a PTY.

The widget does not know SSH. It draws a `TerminalScreen`, turns keys and pastes into
bytes for its `sink` (anything with `write(bytes)` and `resize(cols, rows)`, such as
`core.ssh.TerminalSession`) and tells the sink its size. Output comes in through
`await feed(data)`, which parses in bounded slices and yields between them, and redraws
at most once a frame: a flood of output never stalls the UI.
"""

from __future__ import annotations

import asyncio
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
PARSE_SLICE = 8192  # bytes parsed before yielding to the event loop (~10 ms of pyte)
FRAME = 1 / 30  # redraws are coalesced to this interval while output arrives

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
        self._drawn_cursor: tuple[int, int] | None = None

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
        """Parse remote output in slices, yielding between them so keys stay responsive."""
        for start in range(0, len(data), PARSE_SLICE):
            if start:
                await asyncio.sleep(0)
            self.feed_now(data[start:start + PARSE_SLICE])

    def feed_now(self, data: bytes) -> None:
        """Parse `data` at once (small writes, tests)."""
        screen = self.emulator.screen
        before = len(screen.history)
        self.emulator.feed(data)
        if self.history_offset:  # keep the lines the operator is reading where they are
            grown = len(screen.history) - before
            self.history_offset = min(len(screen.history), self.history_offset + grown)
        replies = screen.take_replies()
        if replies:
            self._send(replies.encode())
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if not self._refresh_pending and self.is_mounted:
            self._refresh_pending = True
            self.set_timer(FRAME, self._flush)

    def _flush(self) -> None:
        self._refresh_pending = False
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
    def _style(self, char, cursor: bool) -> Style:
        key = (char.fg, char.bg, char.bold, char.italics, char.underscore, char.strikethrough,
               char.reverse != cursor)
        style = self._styles.get(key)
        if style is None:
            style = Style(color=_color(char.fg), bgcolor=_color(char.bg), bold=char.bold or None,
                          italic=char.italics or None, underline=char.underscore or None,
                          strike=char.strikethrough or None, reverse=key[-1] or None)
            self._styles[key] = style
        return style

    def _line(self, row, columns: int, cursor_x: int | None) -> Strip:
        segments: list[Segment] = []
        text: list[str] = []
        current = None
        for x in range(columns):
            char = row[x]
            if not char.data:  # the second cell of a wide character
                continue
            style = self._style(char, x == cursor_x)
            if style is not current:
                if text:
                    segments.append(Segment("".join(text), current))
                text, current = [], style
            text.append(char.data)
        if text:
            segments.append(Segment("".join(text), current))
        return Strip(segments)

    def render_line(self, y: int) -> Strip:
        screen = self.emulator.screen
        width = self.size.width
        base = self.rich_style
        offset = self.history_offset
        if y < offset:
            history = screen.history
            index = len(history) - offset + y
            if 0 <= index < len(history):
                return self._line(history[index], screen.columns, None).adjust_cell_length(width).apply_style(base)
            return Strip.blank(width, base)
        row = y - offset
        if row >= screen.lines:
            return Strip.blank(width, base)
        show_cursor = (offset == 0 and self.has_focus and not screen.cursor.hidden and row == screen.cursor.y)
        if show_cursor:
            return self._line(screen.buffer[row], screen.columns, screen.cursor.x).adjust_cell_length(width).apply_style(base)
        strip = self._strips.get(row)
        if strip is None:
            strip = self._line(screen.buffer[row], screen.columns, None).adjust_cell_length(width).apply_style(base)
            self._strips[row] = strip
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
        if event.key == RELEASE_KEY:
            return  # bubbles to the binding
        event.stop()
        event.prevent_default()
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
        self.post_message(self.Released(self))

    # --- reading (copy, tests) --------------------------------------------
    def text_lines(self) -> list[str]:
        return self.emulator.text()
