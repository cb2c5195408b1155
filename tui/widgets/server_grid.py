"""The server grid: cards (or, dense, one line per server), drawn line by line.

A thousand mounted card widgets would cost seconds to lay out; this is one ScrollView
whose `render_line` draws only the lines on screen, from the rows it is given. A
changed server repaints only its own card's lines (`refresh_row`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from jumpdeck.core.servers.values import PASSWORD_UNASKED
from jumpdeck.core.servers.fleet import LiveState, ServerRow

CARD_MIN_WIDTH = 36
CARD_HEIGHT = 5
# A card too narrow for the whole sentence says it shorter.
PASSWORD_UNASKED_SHORT = "no password asked"
GLYPHS = {LiveState.ONLINE: "●", LiveState.OFFLINE: "●", LiveState.CHECKING: "◌", LiveState.UNKNOWN: "○"}


def short_version(version: str | None) -> str:
    """The part of a version banner worth a card's width."""
    if not version:
        return ""
    text = " ".join(version.split())
    for cut in (" on x86", " on aarch", " on ", " (", ", compiled"):
        if cut in text and text.index(cut) > 8:
            text = text[: text.index(cut)]
    return text


def status_text(row: ServerRow) -> str:
    result = row.result
    if row.state is LiveState.CHECKING:
        return "checking…"
    if row.state is LiveState.UNKNOWN or result is None:
        return "not checked yet"
    if result.online:
        return f"online · {result.latency_ms:.0f} ms · {short_version(result.version)}"
    kind = result.error_kind.value if result.error_kind else "error"
    return f"offline · {kind}: {result.message}"


def password_note(row: ServerRow) -> str:
    """Said of an online server that let the login in without asking for a password."""
    result = row.result
    if row.state is LiveState.ONLINE and result is not None and result.password_unasked:
        return PASSWORD_UNASKED
    return ""


def corps_text(row: ServerRow) -> str:
    info = row.info
    parts = []
    if info.corp_count:
        flags = []
        if info.corp_warnings:
            flags.append(f"⚠{info.corp_warnings}")
        if info.corp_errors:
            flags.append(f"✖{info.corp_errors}")
        parts.append(f"{info.corp_count} corp DB{'s' if info.corp_count != 1 else ''}" + (f" {' '.join(flags)}" if flags else ""))
    if info.tags:
        parts.append(" ".join(f"#{t}" for t in info.tags))
    if not info.is_active:
        parts.append("inactive")
    if not parts and info.description:
        parts.append(info.description.splitlines()[0])
    return " · ".join(parts)


def _fit(text: str, width: int) -> str:
    """Pad or cut to `width` cells; a cut ends in "…" so a clipped word does not read as whole."""
    if width <= 0:
        return ""
    if cell_len(text.rstrip()) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


# A card's frame: corners top-left, top-right, bottom-left, bottom-right, then the lines.
LIGHT = ("╭", "╮", "╰", "╯", "─", "│")
HEAVY = ("┏", "┓", "┗", "┛", "━", "┃")


@dataclass
class _Layout:
    columns: int
    card_width: int


class ServerGrid(ScrollView, can_focus=True):
    """Cards of servers. Arrow keys move the cursor; the screen owns the other keys."""

    BINDINGS = [
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    COMPONENT_CLASSES = {
        "server-grid--border",
        "server-grid--cursor",
        "server-grid--name",
        "server-grid--muted",
        "server-grid--online",
        "server-grid--offline",
        "server-grid--checking",
        "server-grid--unknown",
        "server-grid--header",
        "server-grid--cursor-row",
    }

    DEFAULT_CSS = """
    ServerGrid { height: 1fr; background: $background; }
    ServerGrid > .server-grid--border { color: $panel-lighten-2; }
    ServerGrid > .server-grid--cursor { color: $accent; text-style: bold; }
    ServerGrid > .server-grid--name { text-style: bold; }
    ServerGrid > .server-grid--muted { color: $text-muted; }
    ServerGrid > .server-grid--online { color: $success; }
    ServerGrid > .server-grid--offline { color: $error; }
    ServerGrid > .server-grid--checking { color: $warning; }
    ServerGrid > .server-grid--unknown { color: $text-muted; }
    ServerGrid > .server-grid--header { text-style: bold; background: $panel; }
    ServerGrid > .server-grid--cursor-row { background: $accent 25%; }
    ServerGrid:focus > .server-grid--cursor-row { background: $accent 40%; }
    """

    dense: reactive[bool] = reactive(False)
    """One line per server (the table view) instead of cards."""

    cursor: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another server (or the list changed under it)."""

        grid: ServerGrid
        row: ServerRow | None

        @property
        def control(self) -> ServerGrid:
            return self.grid

    @dataclass
    class Chosen(Message):
        """A card was clicked twice, or enter was pressed in the grid."""

        grid: ServerGrid
        row: ServerRow

        @property
        def control(self) -> ServerGrid:
            return self.grid

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.rows: list[ServerRow] = []
        self._index: dict[int, int] = {}
        self._layout = _Layout(1, CARD_MIN_WIDTH)

    # ------------------------------------------------------------------ data
    def set_rows(self, rows: list[ServerRow], *, keep_id: int | None = None) -> None:
        """Show these rows (already filtered and sorted); the cursor stays on `keep_id`
        when it is still there."""
        self.rows = rows
        self._index = {row.info.id: i for i, row in enumerate(rows)}
        self._relayout()
        target = self._index.get(keep_id, min(self.cursor, max(0, len(rows) - 1))) if rows else 0
        self.cursor = target
        self.refresh()

    @property
    def current(self) -> ServerRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def select_id(self, server_id: int) -> None:
        if server_id in self._index:
            self.cursor = self._index[server_id]

    def refresh_row(self, server_id: int) -> None:
        """Repaint one server's card (or line) only."""
        index = self._index.get(server_id)
        if index is None:
            return
        top, height = self._row_span(index)
        self.refresh_lines(top, height)

    # ---------------------------------------------------------------- layout
    def _relayout(self) -> None:
        width = max(1, self.scrollable_content_region.width or self.size.width or 80)
        if self.dense:
            self._layout = _Layout(1, width)
            self.virtual_size = Size(width, len(self.rows) + 1)
        else:
            columns = max(1, width // CARD_MIN_WIDTH)
            self._layout = _Layout(columns, width // columns)
            lines = -(-len(self.rows) // columns) * CARD_HEIGHT
            self.virtual_size = Size(width, lines)

    def _row_span(self, index: int) -> tuple[int, int]:
        """Virtual line where a server's card starts, and its height."""
        if self.dense:
            return index + 1, 1
        return (index // self._layout.columns) * CARD_HEIGHT, CARD_HEIGHT

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()
        self._scroll_to_cursor()

    def watch_dense(self) -> None:
        self._relayout()
        self._scroll_to_cursor()
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        if self.rows:
            clamped = max(0, min(new, len(self.rows) - 1))
            if clamped != new:
                self.cursor = clamped
                return
        for index in {old, new}:
            if 0 <= index < len(self.rows):
                self.refresh_lines(*self._row_span(index))
        self._scroll_to_cursor()
        self.post_message(self.Highlighted(self, self.current))

    def _scroll_to_cursor(self) -> None:
        if not self.rows:
            return
        top, height = self._row_span(self.cursor)
        if self.dense:  # the header line stays on top
            top, height = top - 1, height + 1
        self.scroll_to_region(Region(0, top, 1, height), animate=False, immediate=True)

    # --------------------------------------------------------------- actions
    def action_move(self, dx: int, dy: int) -> None:
        if not self.rows:
            return
        step = 1 if self.dense else self._layout.columns
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + dx + dy * step))

    def action_page(self, direction: int) -> None:
        per_page = max(1, self.size.height - 1) if self.dense else max(1, self.size.height // CARD_HEIGHT) * self._layout.columns
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + direction * per_page))

    def action_jump(self, index: int) -> None:
        if self.rows:
            self.cursor = index if index >= 0 else len(self.rows) - 1

    def _index_at(self, x: int, y: int) -> int | None:
        if self.dense:
            index = y - 1
        else:
            column = x // self._layout.card_width
            if column >= self._layout.columns:
                return None
            index = (y // CARD_HEIGHT) * self._layout.columns + column
        return index if 0 <= index < len(self.rows) else None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self._index_at(offset.x + int(self.scroll_x), offset.y + int(self.scroll_y))
        if index is None:
            return
        self.cursor = index
        if event.chain >= 2:
            self.post_message(self.Chosen(self, self.rows[index]))

    # ------------------------------------------------------------- rendering
    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"server-grid--{name}")

    def _state_style(self, row: ServerRow) -> Style:
        return self._style(row.state.value)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if self.dense:
            if y == 0:
                strip = Strip(self._dense_header(self._layout.card_width))
                return strip.crop(scroll_x, scroll_x + width).apply_style(base)
            index = scroll_y + y - 1
            if not 0 <= index < len(self.rows):
                return Strip.blank(width, base)
            strip = Strip(self._dense_line(self.rows[index], self._layout.card_width, index == self.cursor))
            return strip.crop(scroll_x, scroll_x + width).apply_style(base)
        line = scroll_y + y
        card_row, line_in_card = divmod(line, CARD_HEIGHT)
        segments: list[Segment] = []
        for column in range(self._layout.columns):
            index = card_row * self._layout.columns + column
            if index >= len(self.rows):
                segments.append(Segment(" " * self._layout.card_width))
                continue
            segments.extend(self._card_line(self.rows[index], line_in_card, self._layout.card_width, index == self.cursor))
        rest = width - self._layout.columns * self._layout.card_width
        if rest > 0:
            segments.append(Segment(" " * rest))
        return Strip(segments).crop(scroll_x, scroll_x + width).apply_style(base)

    def _card_line(self, row: ServerRow, line: int, width: int, selected: bool) -> list[Segment]:
        border = self._style("cursor") if selected else self._style("border")
        # The selected card is drawn in heavy lines too: in 16 colours its accent frame is
        # the same red as an offline dot, and in monochrome there is no colour at all.
        tl, tr, bl, br, h, v = HEAVY if selected else LIGHT
        inner = width - 2
        info = row.info
        if line == 0:
            label = info.db_type.label
            name_room = max(1, inner - 5 - cell_len(label) - 3)
            name = _fit(info.name, min(cell_len(info.name), name_room))
            fill = max(0, inner - 3 - 2 - cell_len(name) - 1 - cell_len(label) - 2)
            return [
                Segment(f"{tl}{h} ", border), Segment(GLYPHS[row.state] + " ", self._state_style(row)),
                Segment(name, self._style("name")), Segment(" " + h * fill + " ", border),
                Segment(label, self._style("muted")), Segment(f" {h}{tr}", border),
            ]
        if line == CARD_HEIGHT - 1:
            return [Segment(bl + h * inner + br, border)]
        if line == 1:
            address = f"{info.host}:{info.port}" + (f" · {info.default_db}" if info.default_db else "")
            body = [Segment(_fit(" " + address, inner), self._style("muted"))]
        elif line == 2:
            body = [Segment(_fit(" " + status_text(row), inner), self._state_style(row))]
        else:
            note = password_note(row)
            if note and cell_len(" " + note) > inner:
                note = PASSWORD_UNASKED_SHORT
            body = [Segment(_fit(" " + " · ".join(p for p in (note, corps_text(row)) if p), inner),
                            self._style("muted"))]
        return [Segment(v, border), *body, Segment(v, border)]

    def _dense_columns(self, width: int) -> tuple[int, int, int]:
        name_w = min(28, max([4] + [cell_len(r.info.name) for r in self.rows]))
        address_w = min(28, max([7] + [cell_len(f"{r.info.host}:{r.info.port}") for r in self.rows]))
        return name_w, address_w, max(0, width - (2 + name_w + 1 + 10 + 1 + address_w + 1 + 8 + 1 + 7 + 1))

    def _dense_header(self, width: int) -> list[Segment]:
        name_w, address_w, rest = self._dense_columns(width)
        text = (f"  {'NAME':<{name_w}} {'TYPE':<10} {'ADDRESS':<{address_w}} {'STATUS':<8} {'LATENCY':>7} "
                f"{'DETAIL':<{rest}}")
        return [Segment(_fit(text, width), self._style("header"))]

    def _dense_line(self, row: ServerRow, width: int, selected: bool) -> list[Segment]:
        name_w, address_w, rest = self._dense_columns(width)
        info, result = row.info, row.result
        latency = f"{result.latency_ms:.0f} ms" if result is not None and result.online else ""
        if row.state is LiveState.ONLINE and result is not None:
            detail = " · ".join(p for p in (short_version(result.version), password_note(row)) if p)
        elif row.state is LiveState.OFFLINE and result is not None:
            detail = f"{result.error_kind.value if result.error_kind else 'error'}: {result.message}"
        else:
            detail = corps_text(row)
        state_label = {LiveState.CHECKING: "checking", LiveState.UNKNOWN: "unknown"}.get(row.state, row.state.value)
        segments = [
            Segment(GLYPHS[row.state] + " ", self._state_style(row)),
            Segment(_fit(info.name, name_w) + " ", self._style("name")),
            Segment(_fit(info.db_type.label, 10) + " " + _fit(f"{info.host}:{info.port}", address_w) + " ",
                    self._style("muted")),
            Segment(_fit(state_label, 8) + " ", self._state_style(row)),
            Segment(f"{latency:>7} ", self._style("muted")),
            Segment(_fit(detail, rest), self._style("muted")),
        ]
        used = sum(cell_len(s.text) for s in segments)
        if used < width:
            segments.append(Segment(" " * (width - used)))
        if selected:
            highlight = self._style("cursor-row")
            segments = [Segment(s.text, (s.style or Style()) + highlight) for s in segments]
        return segments
