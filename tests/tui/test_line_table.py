"""LineTable: the keyed, line-drawn table the Monitor uses for 1,000-row refreshes."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from jumpdeck.tui.widgets.line_table import LazyRow, LineTable

COLUMNS = [("name", "Name"), ("value", "Value")]


class TableApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield LineTable(COLUMNS, id="t")

    def on_line_table_row_selected(self, message: LineTable.RowSelected) -> None:
        self.selected.append(message.row_key)


def _rows(count: int, value: str = "v") -> dict[str, tuple]:
    return {f"k{i}": (f"row-{i}", Text(f"{value}{i}", style="green")) for i in range(count)}


async def test_keys_move_the_cursor_and_enter_selects() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(LineTable)
        rows = _rows(50)
        table.set_rows(list(rows), rows)
        table.focus()
        await pilot.press("down", "down", "enter")
        assert table.cursor_row == 2 and app.selected == ["k2"]
        await pilot.press("end")
        assert table.cursor_row == 49
        assert table.scroll_y > 0  # the last row was scrolled into view
        await pilot.press("home")
        assert (table.cursor_row, table.scroll_y) == (0, 0)


async def test_only_changed_rows_are_redrawn_and_drawn_text_is_current() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(LineTable)
        rows = _rows(5)
        table.set_rows(list(rows), rows)
        await pilot.pause()
        drawn = dict(table._strips)
        assert set(drawn) == set(rows)  # all five are on screen
        table.set_rows(list(rows), {"k3": ("row-3", Text("chg", style="red"))})
        await pilot.pause()
        assert table._strips["k1"] is drawn["k1"]  # untouched row: the same drawn line
        assert table._strips["k3"] is not drawn["k3"]
        assert "chg" in "".join(seg.text for seg in table._strips["k3"])
        # a row that left is forgotten; order follows the call
        table.set_rows(["k4", "k0"], {})
        assert table.row_keys == ["k4", "k0"] and "k1" not in table._strips
        assert str(table.get_row_at(0)[0]) == "row-4"


async def test_a_wider_cell_widens_its_column_and_clear_resets_widths() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)):
        table = app.query_one(LineTable)
        table.set_rows(["a"], {"a": ("x", "1")})
        assert table.column_width("name") == len("Name")
        table.set_rows(["a"], {"a": ("a much longer name", "1")})
        assert table.column_width("name") == len("a much longer name")
        table.clear()
        assert table.row_count == 0 and table.column_width("name") == len("Name")


def _lazy(cells: tuple) -> LazyRow:
    return LazyRow(lambda: cells, tuple(len(c if isinstance(c, str) else c.plain) for c in cells))


async def test_lazy_rows_draw_exactly_like_plain_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(LineTable)
        rows = _rows(6)
        table.set_rows(list(rows), rows)
        await pilot.pause()
        plain = {key: list(table._strips[key]) for key in rows}
        table.clear()
        table.set_rows(list(rows), {key: _lazy(cells) for key, cells in rows.items()})
        await pilot.pause()
        assert {key: list(table._strips[key]) for key in rows} == plain
        # Widths come from the lazy row too: a longer cell widens its column.
        table.set_rows(list(rows), {"k2": _lazy(("a much longer name", "x"))})
        assert table.column_width("name") == len("a much longer name")
        await pilot.pause()
        assert "a much longer name" in "".join(seg.text for seg in table._strips["k2"])


async def test_widths_hint_and_cached_lines_follow_changes() -> None:
    from jumpdeck.tui.widgets.line_table import widest

    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(LineTable)
        prepared = {f"k{i}": _lazy((f"row-{i}", f"v{i}")) for i in range(6)}
        table.set_rows(list(prepared), prepared, widths=widest(prepared.values()))
        await pilot.pause()
        first = {key: table._final[key][1] for key in table._final}
        assert first  # rows off the cursor keep their finished line
        table.refresh()
        await pilot.pause()
        assert all(table._final[key][1] is line for key, line in first.items())  # reused, not rebuilt
        changed = {"k3": _lazy(("row-3", "changed value"))}
        table.set_rows(list(prepared), changed, widths=widest(changed.values()))
        await pilot.pause()
        assert table.column_width("value") == len("changed value")
        assert "changed value" in table._final["k3"][1].text
        table.set_rows(["k0"], {})
        assert set(table._final) <= {"k0"}


async def test_lazy_rows_build_only_the_rows_drawn() -> None:
    """A 1,000-row refresh must not build 1,000 rows' cells: lazy rows are built when
    drawn (or read), and draw exactly like the same cells given directly."""
    from jumpdeck.tui.widgets.line_table import widest

    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(LineTable)
        rows = _rows(200)
        table.set_rows(list(rows), rows)
        await pilot.pause()
        plain = {key: list(table._strips[key]) for key in table._strips}
        table.clear()
        built: list[str] = []

        def builder(key: str, cells: tuple):  # noqa: ANN202
            def build() -> tuple:
                built.append(key)
                return cells
            return build

        lazy = {key: LazyRow(builder(key, cells), (len(cells[0]), len(cells[1].plain))) for key, cells in rows.items()}
        table.set_rows(list(lazy), lazy, widths=widest(lazy.values()))
        await pilot.pause()
        assert 0 < len(built) <= 10  # the rows on a 10-line screen, not 200
        assert {key: list(table._strips[key]) for key in built} == {key: plain[key] for key in built}
        assert table.get_row("k150")[0] == "row-150"  # reading a row builds it
        assert "k150" in built
        table.move_cursor(120)
        await pilot.pause()
        assert "k120" in built and len(built) <= 21
