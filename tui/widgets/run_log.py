"""The run log: a colored, searchable, filterable log for fast streams.

Built the way Textual's `Log` is (plain line storage and `render_line`, nothing laid
out per line), because that keeps up with ~150k lines/s where `RichLog` manages a few
thousand and makes key presses wait. On top of that: a ring buffer with a cap, colors
by Ansible result, find with highlighted matches, a filter showing only matching lines,
timestamps, wrap, follow with auto-pause when scrolled up, and saving to a file.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CONTROL = re.compile("[\u0000-\u0009\u000b-\u001f]")
# How a line's result is guessed when the writer does not say (plain Ansible output).
_GUESS = (
    ("fatal:", "failed"), ("failed:", "failed"), ("unreachable", "unreachable"), ("changed:", "changed"),
    ("ok:", "ok"), ("skipping:", "skipped"), ("TASK [", "started"), ("PLAY [", "started"), ("PLAY RECAP", "started"),
)
RESULT_STYLES = {
    "ok": Style(color="green"),
    "changed": Style(color="yellow"),
    "failed": Style(color="red", bold=True),
    "unreachable": Style(color="magenta", bold=True),
    "skipped": Style(color="cyan", dim=True),
    "started": Style(bold=True),
    "step": Style(color="blue", bold=True),
    "status": Style(color="blue", bold=True),
}
MATCH_STYLE = Style(bgcolor="yellow", color="black")
CURRENT_MATCH_STYLE = Style(bgcolor="dark_orange", color="black", bold=True)
TIME_STYLE = Style(dim=True)


_GUESS_RE = re.compile("|".join(re.escape(needle) for needle, _ in _GUESS))
_GUESS_OF = dict(_GUESS)


def guess_result(text: str) -> str:
    found = _GUESS_RE.search(text)
    return _GUESS_OF[found.group(0)] if found else ""


@dataclass(slots=True)
class LogLine:
    text: str
    result: str
    at: datetime | None


class RunLog(ScrollView, can_focus=True):
    """Feed it with `write_lines([(text, result, at), ...])` or `write_line(text)`."""

    DEFAULT_CSS = """
    RunLog {
        background: $surface;
        color: $text;
        overflow: scroll;
        &:focus { background-tint: $foreground 5%; }
    }
    """

    class FollowChanged(Message):
        def __init__(self, follow: bool) -> None:
            super().__init__()
            self.follow = follow

    def __init__(self, *, max_lines: int = 50_000, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_lines = max_lines
        self._lines: list[LogLine] = []
        self._base = 0  # absolute number of the first stored line (older ones were dropped)
        # Visual rows of the current view: (absolute line, start col, end col).
        self._rows: list[tuple[int, int, int | None]] = []
        self._width = 0
        self._cache: LRUCache[int, Strip] = LRUCache(2048)
        self.follow = True
        self.show_timestamps = False
        self.wrap = False
        self.filter_text = ""
        self.search_text = ""
        self._match_rows: list[int] = []
        self._match_index = -1
        self._programmatic_scroll = False
        self._last_wrap_width = 0

    # ----- data ---------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def lines(self) -> list[LogLine]:
        return [self._line(i) for i in range(len(self._lines))]

    def _prefix_len(self) -> int:
        return 9 if self.show_timestamps else 0

    def _wrap_width(self) -> int:
        return max(10, self.scrollable_content_region.width - self._prefix_len()) if self.wrap else 0

    def _rows_for(self, absolute: int, line: LogLine) -> list[tuple[int, int, int]]:
        if self.filter_text and self.filter_text.lower() not in line.text.lower():
            return []
        length = len(line.text)
        width = self._last_wrap_width
        if not width or length <= width:
            return [(absolute, 0, length)]
        return [(absolute, start, min(length, start + width)) for start in range(0, length, width)]

    def write_line(self, text: str, result: str | None = None, at: datetime | None = None) -> None:
        self.write_lines([(text, result, at)])

    @staticmethod
    def _make_line(text: str, result: str | None, at: datetime | None) -> LogLine:
        if "\x1b" in text:
            text = _ANSI.sub("", text)
        if _CONTROL.search(text):
            text = _CONTROL.sub("\ufffd", text.expandtabs())
        return LogLine(text, guess_result(text) if result is None else result, at)

    def _line(self, index: int) -> LogLine:
        """The processed line at storage index `index`. Plain strings are stored raw and
        processed (ANSI stripped, result guessed) only when first drawn or searched: a
        fast stream mostly scrolls past lines nobody looks at."""
        line = self._lines[index]
        if line.__class__ is str:
            line = self._lines[index] = self._make_line(line, None, None)
        return line

    def write_lines(self, items: Iterable[tuple[str, str | None, datetime | None] | str]) -> None:
        """Append a batch: one refresh per batch, however big. The loop is the hot path
        of a fast stream, so it avoids per-line calls where it can."""
        lines, rows = self._lines, self._rows
        rows_before = len(rows)
        width = self._width
        absolute = self._base + len(lines)
        simple = not self.filter_text and not self._last_wrap_width
        for item in items:
            if item.__class__ is str:
                if simple and "\n" not in item:
                    lines.append(item)
                    rows.append((absolute, 0, None))
                    absolute += 1
                    if len(item) > width:
                        width = len(item)
                    continue
                text, result, at = item, None, None
            else:
                text, result, at = item
            for part in text.split("\n") if "\n" in text else (text,):
                line = self._make_line(part, result, at)
                lines.append(line)
                if simple:
                    rows.append((absolute, 0, None))
                else:
                    rows.extend(self._rows_for(absolute, line))
                absolute += 1
                if len(line.text) > width:
                    width = len(line.text)
        self._width = width
        if self.search_text and len(rows) > rows_before:
            needle = self.search_text.lower()
            self._match_rows.extend(i for i in range(rows_before, len(rows)) if needle in self._row_text(rows[i]).lower())
        self._prune()
        self._update_virtual_size()
        if self.follow:
            self._scroll_to_end()
        self.refresh()

    def _prune(self) -> None:
        # Drop in chunks (10% over the cap) so pruning is amortised, not per line.
        excess = len(self._lines) - self.max_lines
        if excess <= self.max_lines // 10:
            return
        self._base += excess
        del self._lines[:excess]
        cut = bisect_left(self._rows, (self._base, -1, -1))
        if cut:
            del self._rows[:cut]
            self._match_rows = [r - cut for r in self._match_rows if r >= cut]
            self._match_index = min(self._match_index, len(self._match_rows) - 1)
            self._cache.clear()
            if not self.follow:
                self._programmatic_scroll = True
                self.scroll_to(y=max(0, self.scroll_y - cut), animate=False, immediate=True)
                self._programmatic_scroll = False

    def clear(self) -> None:
        self._lines.clear()
        self._rows.clear()
        self._match_rows.clear()
        self._base, self._width, self._match_index = 0, 0, -1
        self._cache.clear()
        self._update_virtual_size()
        self.refresh()

    def _update_virtual_size(self) -> None:
        width = self._width + self._prefix_len() if not self.wrap else 0
        self.virtual_size = Size(width, len(self._rows))

    def _rebuild(self) -> None:
        """Recompute the visual rows after a filter, wrap, width or timestamp change."""
        self._last_wrap_width = self._wrap_width()
        rows: list[tuple[int, int, int]] = []
        for i in range(len(self._lines)):
            rows.extend(self._rows_for(self._base + i, self._line(i)))
        self._rows = rows
        self._cache.clear()
        self._update_virtual_size()
        self._recompute_matches()
        if self.follow:
            self._scroll_to_end()
        self.refresh()

    def on_resize(self) -> None:
        if self.wrap and self._wrap_width() != self._last_wrap_width:
            self._rebuild()
        self._cache.clear()

    # ----- toggles ------------------------------------------------------------------
    def set_follow(self, follow: bool) -> None:
        if follow != self.follow:
            self.follow = follow
            self.post_message(self.FollowChanged(follow))
        if follow:
            self._scroll_to_end()

    def toggle_timestamps(self) -> bool:
        self.show_timestamps = not self.show_timestamps
        self._rebuild()
        return self.show_timestamps

    def toggle_wrap(self) -> bool:
        self.wrap = not self.wrap
        self._rebuild()
        return self.wrap

    def set_filter(self, text: str) -> int:
        """Show only lines containing `text` (case-insensitive); "" shows all."""
        self.filter_text = text.strip()
        self._rebuild()
        return len(self._rows)

    # ----- find ---------------------------------------------------------------------
    def _row_text(self, row: tuple[int, int, int | None]) -> str:
        absolute, start, end = row
        return self._line(absolute - self._base).text[start:end]

    def _recompute_matches(self) -> None:
        self._match_rows = []
        self._match_index = -1
        if self.search_text:
            needle = self.search_text.lower()
            self._match_rows = [i for i, row in enumerate(self._rows) if needle in self._row_text(row).lower()]

    def search(self, text: str) -> int:
        """Highlight `text` and jump to its first match below the top; returns the count."""
        self.search_text = text.strip()
        self._recompute_matches()
        self._cache.clear()
        if self._match_rows:
            top = int(self.scroll_y)
            self._match_index = next((i for i, r in enumerate(self._match_rows) if r >= top), 0)
            self._show_match()
        self.refresh()
        return len(self._match_rows)

    def next_match(self, step: int = 1) -> int | None:
        if not self._match_rows:
            return None
        self._match_index = (self._match_index + step) % len(self._match_rows)
        self._show_match()
        return self._match_index

    @property
    def match_count(self) -> int:
        return len(self._match_rows)

    @property
    def match_position(self) -> int:
        return self._match_index

    def _show_match(self) -> None:
        row = self._match_rows[self._match_index]
        self.set_follow(False)
        self._programmatic_scroll = True
        self.scroll_to(y=max(0, row - self.scrollable_content_region.height // 2), animate=False, immediate=True)
        self._programmatic_scroll = False
        self._cache.clear()
        self.refresh()

    # ----- scrolling ----------------------------------------------------------------
    def _scroll_to_end(self) -> None:
        self._programmatic_scroll = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self._programmatic_scroll = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._programmatic_scroll:
            return
        # Scrolling up pauses follow; scrolling back to the end resumes it.
        at_end = new >= self.max_scroll_y
        if new < old and self.follow:
            self.set_follow(False)
        elif at_end and not self.follow:
            self.set_follow(True)

    # ----- saving -------------------------------------------------------------------
    def save(self, path: Path) -> int:
        from jumpdeck.core.private_files import open_private

        with open_private(path, "w") as out:  # a run's log names hosts and steps: 0600
            for line in self.lines:
                stamp = f"{line.at:%Y-%m-%d %H:%M:%S} " if line.at else ""
                out.write(f"{stamp}{line.text}\n")
        return len(self._lines)

    # ----- rendering ----------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base_style = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, base_style)
        strip = self._cache.get(index)
        if strip is None:
            strip = self._render_row(index, base_style)
            self._cache[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base_style).apply_offsets(scroll_x, index)

    def _render_row(self, index: int, base_style: Style) -> Strip:
        absolute, start, end = self._rows[index]
        line = self._line(absolute - self._base)
        text = line.text[start:end]
        style = base_style + RESULT_STYLES[line.result] if line.result in RESULT_STYLES else base_style
        segments: list[Segment] = []
        if self.show_timestamps:
            stamp = f"{line.at:%H:%M:%S} " if (line.at and start == 0) else " " * 9
            segments.append(Segment(stamp, base_style + TIME_STYLE))
        if self.search_text and self._match_rows and self.search_text.lower() in text.lower():
            is_current = 0 <= self._match_index < len(self._match_rows) and self._match_rows[self._match_index] == index
            hl = style + (CURRENT_MATCH_STYLE if is_current else MATCH_STYLE)
            lower, needle, pos = text.lower(), self.search_text.lower(), 0
            while True:
                found = lower.find(needle, pos)
                if found < 0:
                    break
                if found > pos:
                    segments.append(Segment(text[pos:found], style))
                segments.append(Segment(text[found:found + len(needle)], hl))
                pos = found + len(needle)
            if pos < len(text):
                segments.append(Segment(text[pos:], style))
        else:
            segments.append(Segment(text, style))
        return Strip(segments, sum(cell_len(s.text) for s in segments))
