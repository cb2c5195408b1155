"""Charts: production figures over the live and archive DBs (seed 003's dashboard).

Four charts (monthly bars, daily line, item trend lines, top-items bars), range presets,
an item picker that completes on code and name, the numbers as a table (`t`) and as CSV
(`x`). Queries run in an exclusive worker (a new range cancels the stale one); the
loading indicator appears only when an answer takes longer than a blink, so cached
switches repaint at once and an idle screen sends nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester
from textual.widgets import DataTable, Input, Select, Static
from textual_plotext import PlotextPlot

from jumpdeck.tui.plain import cell as plain_cell
from jumpdeck.tui.widgets.chart_plot import ChartPlot

from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.widgets.production_chart import KINDS, draw
from jumpdeck.tui.styles import stylesheet

if TYPE_CHECKING:
    from jumpdeck.core.production.models import DateRange, Item
    from jumpdeck.core.production.queries import ProductionData

PRESETS = {"this_year": "This year", "last_12": "Last 12 months", "last_year": "Last year", "custom": "Custom"}
LOADING_DELAY_S = 0.12  # answers faster than this (the cache) never show the indicator
DEFAULT_TREND_ITEMS = 3
WIDE_COLUMNS = 160  # from this screen width on, the numbers stand beside the chart
SIDE_TABLE_MAX = 60  # ... when their table is at most this wide (a dozen items' trends is not)


def today() -> date:
    """The screen's notion of today (tests pin it)."""
    return date.today()


def preset_range(preset: str, now: date) -> tuple[date, date]:
    if preset == "last_12":
        start_month = now.month - 11
        start = date(now.year - (start_month <= 0), (start_month - 1) % 12 + 1, 1)
        return start, now
    if preset == "last_year":
        return date(now.year - 1, 1, 1), date(now.year - 1, 12, 31)
    return date(now.year, 1, 1), date(now.year, 12, 31)


class ItemSuggester(Suggester):
    """Completes the last comma-separated entry on an item code or name."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.items: list[Item] = []

    async def get_suggestion(self, value: str) -> str | None:
        head, _, token = value.rpartition(",")
        token = token.lstrip()
        if not token:
            return None
        prefix = value[: len(value) - len(token)]
        for item in self.items:
            if item.code.casefold().startswith(token):
                return prefix + item.code.casefold()
        for item in self.items:
            if item.name.casefold().startswith(token):
                return prefix + item.name.casefold()
        return None


def resolve_items(text: str, items: list[Item]) -> tuple[list[str], list[str]]:
    """(codes, unknown entries) for the picker's text: each entry a code or a name."""
    by_code = {i.code.casefold(): i.code for i in items}
    by_name = {i.name.casefold(): i.code for i in items}
    codes, unknown = [], []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        code = by_code.get(entry.casefold()) or by_name.get(entry.casefold())
        (codes if code else unknown).append(code or entry)
    return codes, unknown


def _cell(value: Any) -> Any:
    from rich.text import Text

    return Text(f"{value:,}", justify="right") if isinstance(value, int) else plain_cell(value)


def _fill(table: DataTable, headers: list[str], rows: list[list[Any]]) -> None:
    table.clear(columns=True)
    table.add_columns(*headers)
    table.add_rows([[_cell(v) for v in row] for row in rows])


def _table_width(headers: list[str], rows: list[list[Any]]) -> int:
    """Cells a DataTable needs for these columns (one cell of padding either side)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(f"{v:,}" if isinstance(v, int) else str(v))) for w, v in zip(widths, row)]
    return sum(w + 2 for w in widths)


class ChartsScreen(JumpdeckScreen):
    TITLE = "Charts"
    CSS_PATH = stylesheet(__package__, "charts.tcss")

    BINDINGS = [
        Binding("m", "kind('monthly')", "Monthly", id="charts.monthly"),
        Binding("d", "kind('daily')", "Daily", id="charts.daily"),
        Binding("i", "kind('trends')", "Items", id="charts.trends"),
        Binding("o", "kind('top')", "Top", id="charts.top"),
        Binding("p", "next_preset", "Range", id="charts.preset"),
        Binding("t", "toggle_table", "Table", id="charts.table"),
        Binding("x", "export", "CSV", id="charts.export"),
        Binding("r", "reload", "Reload", id="charts.reload"),
        Binding("slash", "pick_items", "Pick items", key_display="/", id="charts.pick", show=False),
        Binding("escape", "focus_chart", "Back to chart", show=False, id="charts.escape"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kind = "monthly"
        self.preset = "this_year"
        self.show_table = False
        self.data: ProductionData | None = None
        self.result: list[Any] | None = None
        self.result_range: DateRange | None = None
        self.suggester = ItemSuggester()
        self._loading_timer = None
        self._load_pending = False
        self.loads_done = 0  # finished loads (answers or errors); tests wait on it
        start, end = preset_range(self.preset, today())
        self._start, self._end = start, end

    # ------------------------------------------------------------------ layout
    def compose_body(self) -> ComposeResult:
        blink = getattr(getattr(self.app, "config", None), "cursor_blink", False)
        with Horizontal(id="charts-controls"):
            yield Select([(label, key) for key, label in KINDS.items()], value=self.kind, allow_blank=False,
                         compact=True, id="charts-kind")
            yield Select([(label, key) for key, label in PRESETS.items()], value=self.preset, allow_blank=False,
                         compact=True, id="charts-preset")
            from_input = Input(self._start.isoformat(), placeholder="from", compact=True, id="charts-from", max_length=10)
            to_input = Input(self._end.isoformat(), placeholder="to", compact=True, id="charts-to", max_length=10)
            items = Input(placeholder="items: code or name, comma-separated (/)", compact=True, id="charts-items",
                          suggester=self.suggester)
            for widget in (from_input, to_input, items):
                widget.cursor_blink = blink
                yield widget
        with Vertical(id="charts-body"):
            yield Static(id="charts-title")
            with Horizontal(id="charts-view"):
                yield ChartPlot(id="charts-plot")
                side = DataTable(id="charts-side", zebra_stripes=True, cursor_type="none", show_cursor=False)
                side.can_focus = False
                yield side
            yield DataTable(id="charts-table", zebra_stripes=True, cursor_type="row")
            yield Static(id="charts-message", markup=False)  # may be an error's words

    def on_mount(self) -> None:
        self.query_one("#charts-table").display = False
        self.query_one("#charts-side").display = False
        self.query_one("#charts-message").display = False
        self._sync_items_input()
        self.query_one("#charts-plot").focus()
        self.load()

    def on_unmount(self) -> None:
        if self.data is not None:
            self.data.close()  # the pooled read-only connections

    # ----------------------------------------------------------------- helpers
    @property
    def marker(self) -> str:
        config = getattr(self.app, "config", None)
        return getattr(config, "chart_marker", "braille")

    def _range(self) -> DateRange:
        from jumpdeck.core.production.models import DateRange

        return DateRange(self._start, self._end)

    def _sync_items_input(self) -> None:
        self.query_one("#charts-items").display = self.kind == "trends"

    def _title(self, rng: DateRange) -> str:
        return f"{KINDS[self.kind]}  {rng.start.isoformat()} .. {rng.end.isoformat()}"

    def _show_message(self, text: str, *, error: bool) -> None:
        message = self.query_one("#charts-message", Static)
        message.update(text)
        message.set_class(error, "-error")
        message.display = True
        for part in ("#charts-title", "#charts-view", "#charts-plot", "#charts-table"):
            self.query_one(part).display = False

    def _show_result(self) -> None:
        self.query_one("#charts-message").display = False
        view = self.query_one("#charts-view")
        plot = self.query_one("#charts-plot", PlotextPlot)
        table = self.query_one("#charts-table", DataTable)
        side = self.query_one("#charts-side", DataTable)
        view.display = plot.display = not self.show_table
        table.display = self.show_table
        if self.result is None or self.result_range is None:
            return
        title = self.query_one("#charts-title", Static)
        title.display = True
        title.update(self._title(self.result_range))
        from jumpdeck.core.production.export import table_of

        headers, rows = table_of(self.result)
        if self.show_table:
            side.display = False
            _fill(table, headers, rows)
            return
        beside = self.size.width >= WIDE_COLUMNS and _table_width(headers, rows) <= SIDE_TABLE_MAX
        side.display = beside
        if beside:
            _fill(side, headers, rows)
        # Showing or hiding the side table resizes the plot only after the next layout:
        # draw then, at the size it will have (the plot counts as building meanwhile).
        self.query_one("#charts-plot", ChartPlot).invalidate()
        self.call_after_refresh(self._draw)

    def _draw(self) -> None:
        plot = self.query_one("#charts-plot", ChartPlot)
        # The title is a Static above the plot: Textual draws it in the theme's colors.
        with plot.lock:
            draw(plot.plt, self.kind, self.result, marker=self.marker, width=max(plot.size.width, 40),
                 height=plot.size.height, title="")
        self._drawn_size = plot.size
        plot.invalidate()
        self._build_chart()

    @work(exclusive=True, group="charts-build", exit_on_error=False)
    async def _build_chart(self) -> None:
        content = (self.kind, self.marker, self.result_range, tuple(self.result or ()))
        await self.query_one("#charts-plot", ChartPlot).build(content)

    @property
    def chart_building(self) -> bool:
        """The figure for the latest answer is still being built (tests and the bench wait)."""
        plot = self.query_one("#charts-plot", ChartPlot)
        return plot.display and not plot.settled

    _drawn_size = None

    def _redraw_if_resized(self) -> None:
        plot = self.query_one("#charts-plot", PlotextPlot)
        if self.result and not self.show_table and plot.display and plot.size != self._drawn_size:
            self._draw()

    def _set_loading(self, on: bool) -> None:
        # The flag, not only stopping the timer, decides: a timer that already fired may
        # still have its callback queued, and must not raise the indicator after the answer.
        self._load_pending = on
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        body = self.query_one("#charts-body")
        if on:
            self._loading_timer = self.set_timer(LOADING_DELAY_S, self._show_loading)
        else:
            body.loading = False

    def _show_loading(self) -> None:
        if self._load_pending:
            self.query_one("#charts-body").loading = True

    # ------------------------------------------------------------------ loading
    @work(exclusive=True, group="charts", exit_on_error=False)
    async def load(self) -> None:
        from jumpdeck.core.errors import JumpdeckError

        self._set_loading(True)
        try:
            if self.data is None:
                from jumpdeck.core.production.queries import ProductionData

                self.data = await ProductionData.from_context(self.ctx)
            rng = self._range()
            self.suggester.items = await self.data.items()
            result = await self._query(rng)
        except JumpdeckError as error:
            self.result = None
            self._show_message(f"{error.title}\n\n{error}", error=True)
            return
        finally:
            self._set_loading(False)
            self.loads_done += 1
        self.result, self.result_range = result, rng
        if not result:
            self._show_message("No production figures in this range.", error=False)
        else:
            self._show_result()
        self._refresh_rollup_once()

    async def _query(self, rng: DateRange) -> list[Any]:
        from jumpdeck.core.errors import ValidationError

        assert self.data is not None
        if self.kind == "monthly":
            return await self.data.monthly_totals(rng)
        if self.kind == "daily":
            return await self.data.daily_totals(rng)
        if self.kind == "top":
            return await self.data.top_items(rng, 10)
        text = self.query_one("#charts-items", Input).value
        codes, unknown = resolve_items(text, self.suggester.items)
        if unknown:
            raise ValidationError(f"No item matches {', '.join(repr(u) for u in unknown)}.", field="items",
                                  remedy="Type a code or a name; the picker completes both (press right to accept).")
        if not codes:
            codes = [t.item.code for t in await self.data.top_items(rng, DEFAULT_TREND_ITEMS)]
        return await self.data.item_trends(codes, rng)

    _rollup_started = False

    def _refresh_rollup_once(self) -> None:
        """Bring the monthly rollup up to date in the background once per screen
        (the DB watcher keeps it fresh; this covers a data dir without one)."""
        if self._rollup_started:
            return
        self._rollup_started = True
        self._refresh_rollup()

    @work(thread=True, group="charts-rollup", exit_on_error=False)
    def _refresh_rollup(self) -> None:
        from jumpdeck.core.production.rollup import refresh_rollups

        refresh_rollups(self.ctx.config)

    # ------------------------------------------------------------------ actions
    def action_kind(self, kind: str) -> None:
        self.query_one("#charts-kind", Select).value = kind

    @on(Select.Changed, "#charts-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if event.value == self.kind:
            return
        self.kind = str(event.value)
        self._sync_items_input()
        self.load()

    def action_next_preset(self) -> None:
        keys = [k for k in PRESETS if k != "custom"]
        following = keys[(keys.index(self.preset) + 1) % len(keys)] if self.preset in keys else keys[0]
        self.query_one("#charts-preset", Select).value = following

    @on(Select.Changed, "#charts-preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        self.preset = str(event.value)
        if self.preset == "custom":
            self.query_one("#charts-from", Input).focus()
            return
        self._start, self._end = preset_range(self.preset, today())
        with self.prevent(Input.Changed):
            self.query_one("#charts-from", Input).value = self._start.isoformat()
            self.query_one("#charts-to", Input).value = self._end.isoformat()
        self.load()

    @on(Input.Submitted, "#charts-from, #charts-to")
    def _custom_range(self) -> None:
        from jumpdeck.core.errors import ValidationError
        from jumpdeck.core.production.models import DateRange, parse_date

        try:
            start = parse_date(self.query_one("#charts-from", Input).value, "from")
            end = parse_date(self.query_one("#charts-to", Input).value, "to")
            DateRange(start, end)
        except ValidationError as error:
            self.notify(str(error), title=error.title, severity="error", timeout=6)
            return
        self._start, self._end = start, end
        if self.preset != "custom":
            with self.prevent(Select.Changed):
                self.query_one("#charts-preset", Select).value = "custom"
            self.preset = "custom"
        self.load()

    @on(Input.Submitted, "#charts-items")
    def _items_submitted(self) -> None:
        self.load()

    def action_pick_items(self) -> None:
        if self.kind != "trends":
            self.action_kind("trends")
        self.query_one("#charts-items", Input).focus()

    def action_focus_chart(self) -> None:
        target = "#charts-table" if self.show_table else "#charts-plot"
        self.query_one(target).focus()

    def action_toggle_table(self) -> None:
        self.show_table = not self.show_table
        if self.result is not None:
            self._show_result()
        self.action_focus_chart()

    def action_reload(self) -> None:
        if self.data is not None:
            self.data.invalidate()
        self.load()

    def action_export(self) -> None:
        if not self.result or self.result_range is None:
            self.notify("Nothing to export yet: no figures are shown.", severity="warning")
            return
        self._export(self.kind, list(self.result), self.result_range)

    @work(thread=True, group="charts-export", exit_on_error=False)
    def _export(self, kind: str, result: list[Any], rng: DateRange) -> None:
        from jumpdeck.core.production.export import table_of, write_csv

        headers, rows = table_of(result)
        try:
            path = write_csv(self.ctx.config.home / "exports", f"{kind}-{rng.start}-{rng.end}", headers, rows)
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Could not write the CSV: {exc.strerror}.", severity="error")
            return
        self.app.call_from_thread(self.notify, f"Exported {len(rows)} rows to {path}", timeout=8)

    # --------------------------------------------------------------- contract
    def copy_text(self) -> str | None:
        if not self.result:
            return None
        from jumpdeck.core.production.export import table_of

        headers, rows = table_of(self.result)
        if self.show_table:
            row = self.query_one("#charts-table", DataTable).cursor_row
            if 0 <= row < len(rows):
                return "\t".join(str(v) for v in rows[row])
        return "\n".join("\t".join(str(v) for v in r) for r in [headers, *rows])

    def running_work(self) -> list[str]:
        return []

    def on_resize(self) -> None:
        # Tick labels are thinned for the width: redraw at the new size.
        if self.result is not None and not self.show_table:
            self._show_result()
