"""A keyed table drawn line by line, for tables that refresh often and are long.

Textual's DataTable re-renders every visible cell through Rich whenever any cell
changes (its line cache is dropped as a whole): with 1,000 monitored VMs that is
70-140 ms of one frame here, all of it on the event loop. This table keeps one
rendered Strip per row, built only when that row is drawn after its cells changed,
so a refresh that touches every row costs a few milliseconds of drawing for the rows
on screen. It has only what the Monitor needs: a fixed header, row cursor, zebra
stripes, sideways scrolling, keys, click and `enter`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = Text | str
CELL_GAP = 2  # blank cells between two columns


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


class LazyRow:
    """A row whose cells are built the first time they are needed (drawn, or read with
    `get_row`). The caller knows their widths without building them, and widths are all
    `set_rows` needs: a 1,000-row refresh then builds the cells of the rows on screen,
    not of every row (in the Monitor, building all of them was 150 ms of GIL-holding
    work per refresh, 400 ms while keys were pressed). `build` must give cells exactly
    as wide as `widths` says."""

    __slots__ = ("_build", "_cells", "widths")

    def __init__(self, build: Callable[[], Sequence[Cell]], widths: tuple[int, ...]) -> None:
        self._build: Callable[[], Sequence[Cell]] | None = build
        self._cells: tuple[Cell, ...] | None = None
        self.widths = widths

    @property
    def built(self) -> bool:
        return self._cells is not None

    @property
    def cells(self) -> tuple[Cell, ...]:
        if self._cells is None:
            assert self._build is not None
            self._cells, self._build = tuple(self._build()), None
        return self._cells


def widest(rows) -> tuple[int, ...] | None:  # noqa: ANN001
    """The widest cell per column over lazy rows (None for none): `set_rows(widths=)`."""
    rows = list(rows)
    return tuple(map(max, zip(*(row.widths for row in rows)))) if rows else None


class LineTable(ScrollView, can_focus=True):
    """Rows addressed by key. `set_rows` replaces the order and any changed cells; only
    rows whose cells changed lose their drawn line."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    COMPONENT_CLASSES = {"line-table--header", "line-table--cursor", "line-table--even"}

    DEFAULT_CSS = """
    LineTable { height: 1fr; background: $surface; }
    LineTable > .line-table--header { text-style: bold; background: $panel; color: $foreground; }
    LineTable > .line-table--even { background: $surface-lighten-1; }
    LineTable > .line-table--cursor { background: $accent 30%; }
    LineTable:focus > .line-table--cursor { background: $accent 55%; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    @dataclass
    class RowSelected(Message):
        """`enter` or a double click on a row."""

        table: LineTable
        row_key: str

        @property
        def control(self) -> LineTable:
            return self.table

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.columns = list(columns)  # (key, label)
        self._widths = [cell_len(label) for _, label in self.columns]
        self._order: list[str] = []
        self._cells: dict[str, tuple[Cell, ...] | LazyRow] = {}
        self._strips: dict[str, Strip] = {}  # a row drawn at the current widths, unstyled by cursor/zebra
        self._final: dict[str, tuple[tuple, Strip]] = {}  # (signature, finished line) of rows off the cursor
        self._paint: tuple = ()  # per-paint styles and width, set by render_lines

    # ------------------------------------------------------------------- data
    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def row_keys(self) -> list[str]:
        return list(self._order)

    def get_row_at(self, index: int) -> tuple[Cell, ...]:
        return self.get_row(self._order[index])

    def get_row(self, key: str) -> tuple[Cell, ...]:
        row = self._cells[key]
        return row.cells if isinstance(row, LazyRow) else row

    def column_width(self, key: str) -> int:
        return self._widths[[k for k, _ in self.columns].index(key)]

    def set_rows(self, order: Sequence[str], changed: dict[str, tuple[Cell, ...] | LazyRow], *,
                 widths: Sequence[int] | None = None) -> None:
        """Show rows in `order`; `changed` holds the cells (or `LazyRow`s) of new rows
        and of rows whose cells differ from what is shown. `widths`, when the caller has
        them, are the widest cells of `changed` per column (saves a pass here). The cursor
        stays on its index (callers that want it to follow a row move it)."""
        if not changed and list(order) == self._order:
            return  # the same rows in the same order: nothing to redraw, nothing sent
        cells, strips = self._cells, self._strips
        if len(order) != len(cells) or changed.keys() - cells.keys():
            for key in cells.keys() - set(order):
                del cells[key]
                strips.pop(key, None)
                self._final.pop(key, None)
        sizes: list[Sequence[int]] = [] if widths is None else [widths]
        for key, row in changed.items():
            strips.pop(key, None)
            cells[key] = row
            if isinstance(row, LazyRow):
                if widths is None:
                    sizes.append(row.widths)
            else:
                sizes.append([cell_len(_plain(cell)) for cell in row])
        new_widths = [max(column) for column in zip(self._widths, *sizes)] if sizes else self._widths
        if new_widths != self._widths:  # a wider column moves every later cell: redraw all rows
            self._widths = new_widths
            strips.clear()
        self._order = list(order)
        self._resize_virtual()
        if self._order and self.cursor_row >= len(self._order):
            self.cursor_row = len(self._order) - 1
        self.refresh()

    def clear(self) -> None:
        """Forget rows and column widths (widths only grow otherwise)."""
        self._order, self._cells, self._strips, self._final = [], {}, {}, {}
        self._widths = [cell_len(label) for _, label in self.columns]
        self._resize_virtual()
        self.cursor_row = 0
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def move_cursor(self, row: int, *, scroll: bool = True) -> None:
        self.cursor_row = max(0, min(row, len(self._order) - 1)) if self._order else 0
        if scroll:
            self._scroll_to_cursor()

    # ----------------------------------------------------------------- layout
    def _line_width(self) -> int:
        return sum(self._widths) + CELL_GAP * len(self._widths) + 1

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self._line_width(), len(self._order) + 1)

    def watch_cursor_row(self, old: int, new: int) -> None:
        for index in {old, new}:
            self.refresh_lines(index + 1)  # virtual line: the header is line 0

    def _scroll_to_cursor(self) -> None:
        # Line 0 is the header, drawn on top whatever the scroll; row i is virtual line i+1.
        self.scroll_to_region(Region(int(self.scroll_x), self.cursor_row, 1, 2), animate=False, immediate=True)

    # ---------------------------------------------------------------- actions
    def action_move(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_jump(self, index: int) -> None:
        self.move_cursor(index if index >= 0 else len(self._order) - 1)

    def action_select(self) -> None:
        if 0 <= self.cursor_row < len(self._order):
            self.post_message(self.RowSelected(self, self._order[self.cursor_row]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._order):
            self.move_cursor(index, scroll=False)
            if event.chain >= 2:
                self.action_select()

    # -------------------------------------------------------------- rendering
    def _draw(self, cells: Sequence[Cell], style: Style | None = None) -> Strip:
        console = self.app.console
        segments: list[Segment] = [Segment(" ")]
        gap = Segment(" " * CELL_GAP)
        for cell, width in zip(cells, self._widths):
            line = list((cell if isinstance(cell, Text) else Text(cell)).render(console))
            segments.extend(Segment.adjust_line_length(line, width))
            segments.append(gap)
        strip = Strip(segments, self._line_width())
        return strip.apply_style(style) if style is not None else strip

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles and geometry are the same for every line of one paint: look them up once
        # (`rich_style` walks the CSS ancestry; per line it was half of the drawing time).
        self._paint = (self.rich_style, self.scrollable_content_region.width,
                       self.get_component_rich_style("line-table--header"),
                       self.get_component_rich_style("line-table--cursor"),
                       self.get_component_rich_style("line-table--even"))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        base, width, header_style, cursor_style, even_style = self._paint
        if y == 0:
            header = self._draw([label for _, label in self.columns], header_style)
            return header.crop_extend(scroll_x, scroll_x + width, base).apply_style(base)
        index = scroll_y + y - 1
        if not 0 <= index < len(self._order):
            return Strip.blank(width, base)
        key = self._order[index]
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._draw(self.get_row(key))
            self._final.pop(key, None)
        if index == self.cursor_row:
            return self._styled(strip, base + cursor_style, scroll_x, width, base)
        # A row off the cursor looks the same until it changes, scrolls sideways or moves
        # between an odd and an even line: keep the finished line for the next paint.
        signature = (index % 2, scroll_x, width, base, even_style)
        final = self._final.get(key)
        if final is None or final[0] != signature:
            final = self._final[key] = (signature, self._styled(strip, base + even_style if index % 2 else base,
                                                                scroll_x, width, base))
        return final[1]

    @staticmethod
    def _styled(strip: Strip, style: Style, scroll_x: int, width: int, base: Style) -> Strip:
        # Two strips instead of four (each Strip builds six small caches).
        return Strip(Segment.apply_style(strip, style), strip.cell_length).crop_extend(scroll_x, scroll_x + width, base)
