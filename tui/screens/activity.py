"""The Activity screen: the audit log, newest first, with filters and keyset paging
(the next page loads as the cursor nears the end, so 100k rows cost the same as 100)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from jumpdeck.core.words import counted
from jumpdeck.core.activity import FILTER_MAX, ActivityEntry, ActivityFilter
from jumpdeck.core.errors import JumpdeckError
from jumpdeck.tui.plain import cells
from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.styles import stylesheet

PAGE = 200
ANY = Select.NULL


class ActivityScreen(JumpdeckScreen):
    TITLE = "Activity"
    CSS_PATH = stylesheet(__package__, "activity.tcss")
    HELP_EXTRA = [("enter", "Show the selected entry in full")]  # handled as the table's row selection
    BINDINGS = [
        Binding("slash", "search", "Search", key_display="/", id="activity.search"),
        Binding("r", "reload", "Reload", id="activity.reload"),
        Binding("c", "clear", "Clear filters", id="activity.clear"),
        Binding("enter", "details", "Details", id="activity.details"),
        Binding("y", "app.copy", "Copy detail", id="activity.copy"),
        Binding("escape", "focus_table", "Back to list", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[ActivityEntry] = []
        self.has_more = False
        self.filters = ActivityFilter()
        self._narrow = False  # under 100 columns: short dates, the origin only in the full entry

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="activity-filters"):
            yield Select([], prompt="any actor", id="f-actor", compact=True)
            yield Select([], prompt="any action", id="f-action", compact=True)
            yield Select([], prompt="any target", id="f-target", compact=True)
            search = Input(placeholder="/ search target or detail", id="f-text", compact=True, max_length=FILTER_MAX)
            search.cursor_blink = self.app.config.cursor_blink
            yield search
        yield DataTable(id="activity-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="activity-status")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("At", key="at", width=16)  # 11 when narrow: MM-DD HH:MM
        table.add_column("Who", key="who", width=16)
        table.add_column("Action", key="action", width=18)
        table.add_column("Target", key="target", width=14)
        table.add_column("Detail", key="detail", width=40)
        table.focus()
        self.load_filter_values()
        self.reload()

    def on_resize(self) -> None:
        # Actions (PROVISION_TEARDOWN) must read whole; at 80 columns Who and Target give
        # way so Detail keeps ~20 columns. The detail column takes whatever is left.
        table = self.query_one(DataTable)
        narrow = table.size.width < 100
        if narrow != self._narrow:
            self._narrow = narrow
            self._redraw_rows()
        for key, wide, tight in (("at", 16, 11), ("who", 16, 9), ("target", 16, 16)):
            column = table.columns.get(key)  # type: ignore[call-overload]
            if column is not None:
                column.width = tight if narrow else wide
        fixed = sum(c.width + 2 * table.cell_padding for c in table.columns.values() if c.key.value != "detail")
        detail = table.columns.get("detail")  # type: ignore[call-overload]
        if detail is not None:
            detail.width = max(12, table.size.width - fixed - 2 * table.cell_padding - 1)
            detail.auto_width = False
            table.refresh()

    def _row(self, entry: ActivityEntry) -> list:
        from jumpdeck.core.identity import is_local_origin

        target = f"{entry.target_type}:{entry.target_id}" if entry.target_id else entry.target_type
        # A local origin says only which host; over SSH the address matters (enter shows both).
        who = entry.actor if is_local_origin(entry.origin) or self._narrow else f"{entry.actor} · {entry.origin}"
        at = entry.at.strftime("%m-%d %H:%M" if self._narrow else "%Y-%m-%d %H:%M")
        return cells([at, who, entry.action, target, entry.detail.replace("\n", " ")])

    def _redraw_rows(self) -> None:
        table = self.query_one(DataTable)
        for entry in self.entries:
            for key, value in zip(("at", "who", "action", "target", "detail"), self._row(entry)):
                table.update_cell(str(entry.id), key, value)

    # ---------------------------------------------------------------- loading
    @work(exclusive=True, group="activity-values")
    async def load_filter_values(self) -> None:
        values = await self.ctx.activity.distinct_values(self.ctx.actor)
        for select_id, key in (("#f-actor", "actor"), ("#f-action", "action"), ("#f-target", "target_type")):
            select = self.query_one(select_id, Select)
            current = select.value
            # Text labels: actors are user names, shown as written.
            select.set_options([(Text(v), v) for v in values[key]])
            if current in values[key]:
                select.value = current

    def reload(self) -> None:
        self.entries = []
        self.query_one(DataTable).clear()
        self.load_page(None)

    @work(exclusive=True, group="activity-page")
    async def load_page(self, before_id: int | None) -> None:
        try:
            page = await self.ctx.activity.page(self.ctx.actor, self.filters, before_id=before_id, limit=PAGE)
        except JumpdeckError as error:  # a filter core refuses: its sentence in the status line
            self.query_one("#activity-status", Static).update(Text(str(error)))
            return
        table = self.query_one(DataTable)
        for entry in page.entries:
            table.add_row(*self._row(entry), key=str(entry.id))
        self.entries.extend(page.entries)
        self.has_more = page.has_more
        self._update_status()

    def _update_status(self) -> None:
        status = self.query_one("#activity-status", Static)
        if not self.entries:
            if self.filters.is_empty():
                status.update("No activity yet. Every change anyone makes (servers, users, settings, runs, backups) is recorded here.")
            else:
                status.update("No activity matches the filters. Press c to clear them.")
            return
        more = " — more load as you scroll" if self.has_more else ""
        status.update(f"{counted(len(self.entries), 'entry', 'entries')} shown, newest first{more}. Enter shows one in full; y copies its detail.")

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_details()

    @on(DataTable.RowHighlighted)
    def _maybe_load_more(self, event: DataTable.RowHighlighted) -> None:
        if self.has_more and event.cursor_row >= len(self.entries) - 20 and self.entries:
            self.has_more = False  # one request at a time
            self.load_page(self.entries[-1].id)

    # ---------------------------------------------------------------- filters
    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        self._apply_filters()

    @on(Input.Submitted, "#f-text")
    def _text_submitted(self) -> None:
        self._apply_filters()
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#f-text")
    def _text_changed(self) -> None:
        self._apply_filters()

    def _apply_filters(self) -> None:
        def value(select_id: str) -> str | None:
            v = self.query_one(select_id, Select).value
            return None if v is ANY else str(v)

        text = self.query_one("#f-text", Input).value.strip() or None
        new = ActivityFilter(value("#f-actor"), value("#f-action"), value("#f-target"), text)
        if new != self.filters:
            self.filters = new
            self.reload()

    # ---------------------------------------------------------------- actions
    def action_search(self) -> None:
        self.query_one("#f-text", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one(DataTable).focus()

    def action_reload(self) -> None:
        self.load_filter_values()
        self.reload()

    def action_clear(self) -> None:
        for select_id in ("#f-actor", "#f-action", "#f-target"):
            self.query_one(select_id, Select).clear()
        self.query_one("#f-text", Input).value = ""
        self.filters = ActivityFilter()
        self.reload()
        self.query_one(DataTable).focus()

    def _selected(self) -> ActivityEntry | None:
        table = self.query_one(DataTable)
        if not self.entries or table.cursor_row < 0 or table.cursor_row >= len(self.entries):
            return None
        return self.entries[table.cursor_row]

    def action_details(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        from jumpdeck.tui.screens.text_dialog import TextDialog

        self.app.push_screen(TextDialog(
            f"Activity #{entry.id}",
            f"At:      {entry.at:%Y-%m-%d %H:%M:%S}\nActor:   {entry.actor}\nOrigin:  {entry.origin}\n"
            f"Action:  {entry.action}\nTarget:  {entry.target_type} {entry.target_id}\n\n{entry.detail}",
            copy_value=entry.detail,
        ))

    def copy_text(self) -> str | None:
        entry = self._selected()
        return entry.detail or f"{entry.action} {entry.target_type} {entry.target_id}" if entry else None
