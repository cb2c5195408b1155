"""Monitor: CPU, memory and disk of the resources an operator's runs hold (admins: all),
live from Prometheus, worst first.

A worker reads one snapshot (three PromQL range queries for the whole fleet) and posts
it; the next poll is armed only when that one is done, so polls never overlap. The table
is diffed by row key: only cells whose text changed are repainted, and rows are re-laid
(worst first) only when a row came, went or changed state. The cursor stays on the same
resource and the scroll offset does not move.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.widgets.line_table import LazyRow, LineTable, widest
from jumpdeck.tui.styles import stylesheet

if TYPE_CHECKING:
    from jumpdeck.core.monitor.service import MonitorService, MonitorSnapshot, ResourceStatus

# Below this width the sparklines are left out, so State, VM, IP and the three values
# fit in 80 columns; the hour's charts are still one `enter` away.
NARROW_WIDTH = 110

# State first: the table is sorted worst first, and at 80 columns what is wrong must be
# on screen without scrolling sideways.
COLUMNS = [("state", "State"), ("vm", "VM"), ("ip", "IP"), ("cpu", "CPU"), ("mem", "Memory"), ("disk", "Disk"),
           ("run", "Run"), ("service", "Service"), ("role", "Role")]


def _plain_cells(row: ResourceStatus) -> tuple[str, str, str, str, str]:
    """The text cells: VM, IP, run, service, role."""
    r = row.resource
    return r.vm_name, r.ip, "-" if r.run_id is None else f"#{r.run_id}", r.service or "-", r.role


def _cells(row: ResourceStatus, ascii_only: bool, spark: bool = True) -> tuple[Text | str, ...]:
    """The cells in `COLUMNS` order."""
    from jumpdeck.tui.widgets.metric_cell import metric_text, state_text

    vm, ip, run, service, role = _plain_cells(row)
    return (state_text(row.state), vm, ip,
            *(metric_text(reading, ascii_only=ascii_only, spark=spark) for reading in (row.cpu, row.mem, row.disk)),
            run, service, role)


def _widths(row: ResourceStatus, spark: bool) -> tuple[int, ...]:
    """How wide `_cells` are, without building them."""
    from rich.cells import cell_len

    from jumpdeck.tui.widgets.metric_cell import metric_width

    vm, ip, run, service, role = _plain_cells(row)
    return (len(row.state.label), cell_len(vm), cell_len(ip),
            *(metric_width(reading, spark=spark) for reading in (row.cpu, row.mem, row.disk)),
            cell_len(run), cell_len(service), cell_len(role))


def _signature(row: ResourceStatus) -> tuple:
    """Everything a row's cells are drawn from, at the precision they show."""
    return (row.resource, row.state, *((r.level, None if r.value is None else round(r.value, 1), r.history)
                                       for r in (row.cpu, row.mem, row.disk)))


def _changed_cells(rows: list[ResourceStatus], needle: str, shown: dict[str, tuple], ascii_only: bool, spark: bool
                   ) -> tuple[list[ResourceStatus], dict[str, LazyRow], dict[str, tuple], tuple[int, ...] | None]:
    """The rows the filter keeps, and lazy rows (widths known, cells built when drawn)
    and signatures of those that differ from `shown` (a copy: this runs in a thread
    while the screen may go on)."""
    kept = [row for row in rows if matches(row, needle)]
    built: dict[str, LazyRow] = {}
    signatures: dict[str, tuple] = {}
    for row in kept:
        signature = _signature(row)
        if shown.get(row.key) != signature:
            built[row.key] = LazyRow(partial(_cells, row, ascii_only, spark), _widths(row, spark))
            signatures[row.key] = signature
    return kept, built, signatures, widest(built.values())


def matches(row: ResourceStatus, needle: str) -> bool:
    if not needle:
        return True
    r = row.resource
    hay = " ".join((r.run_label, r.service, r.vm_name, r.ip, r.role, r.owner, row.state.label)).lower()
    return all(word in hay for word in needle.lower().split())


class MonitorScreen(JumpdeckScreen):
    TITLE = "Monitor"
    CSS_PATH = stylesheet(__package__, "monitor.tcss")

    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/", id="monitor.filter"),
        Binding("enter", "detail", "Detail", id="monitor.detail"),
        Binding("s", "ssh", "SSH", id="monitor.ssh"),
        Binding("r", "refresh_now", "Refresh", id="monitor.refresh"),
        Binding("a", "toggle_scope", "All/mine", id="monitor.scope"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="monitor.clear_filter"),
    ]

    @dataclass
    class SnapshotReady(Message):
        snapshot: MonitorSnapshot

    @dataclass
    class SnapshotFailed(Message):
        text: str

    def __init__(self) -> None:
        super().__init__()
        self._service: MonitorService | None = None
        self._said: dict[str, str] = {}  # what each status line says now
        self._snapshot: MonitorSnapshot | None = None
        self._filter = ""
        self._everyone: bool | None = None  # None: the seed's default (admins all, others theirs)
        self._shown: list[str] = []  # row keys in table order
        self._states: dict[str, str] = {}  # row key -> state shown, to know when to re-sort
        self._signatures: dict[str, tuple] = {}
        self._poll: Timer | None = None
        self._stale = False  # a poll came due while the screen was not shown
        self.refreshes = 0  # snapshots applied (tests wait on it)
        self._pending_arm: float | None = None  # seconds to the next poll, once the render is done
        self._narrow: bool | None = None  # sparklines left out (set from the width on resize)
        self._reselect: str | None = None  # the row to put the cursor back on after a reset

    # ------------------------------------------------------------------ layout
    def compose_body(self) -> ComposeResult:
        # Plain text: URLs, Prometheus's errors and the typed filter are data.
        yield Static("Reading resources and metrics…", id="mon-status", markup=False)
        yield Static("", id="mon-problem", markup=False)
        yield Static("", id="mon-empty", markup=False)
        yield LineTable(COLUMNS, id="mon-table")
        filter_input = Input(placeholder="filter: run, service, VM, IP, role, state (esc clears)", id="mon-filter")
        filter_input.cursor_blink = self.app.config.cursor_blink
        yield filter_input

    def on_mount(self) -> None:
        from jumpdeck.core.monitor.service import MonitorService

        self._service = MonitorService(self.ctx)
        self.query_one("#mon-filter", Input).display = False
        self.load()

    async def on_unmount(self) -> None:
        if self._service is not None:
            await self._service.aclose()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW_WIDTH
        if narrow == self._narrow:
            return
        first = self._narrow is None
        self._narrow = narrow
        if not first:
            self._reset_table()  # column widths only grow: start over with the new cells
            self._apply_rows()

    def _reset_table(self) -> None:
        table = self.query_one("#mon-table", LineTable)
        row = table.cursor_row
        self._reselect = self._shown[row] if 0 <= row < len(self._shown) else None
        table.clear()
        self._shown, self._states, self._signatures = [], {}, {}

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.load()

    # --------------------------------------------------------------- polling
    @work(exclusive=True, group="monitor-refresh", exit_on_error=False)
    async def load(self) -> None:
        from jumpdeck.core.errors import JumpdeckError

        assert self._service is not None
        if self._poll is not None:
            self._poll.stop()
            self._poll = None
        try:
            snap = await self._service.snapshot(everyone=self._everyone, history=True)
        except JumpdeckError as error:
            self.post_message(self.SnapshotFailed(str(error)))
            return
        self.post_message(self.SnapshotReady(snap))

    def _arm(self, seconds: float) -> None:
        if self._poll is not None:
            self._poll.stop()
        self._poll = self.set_timer(seconds, self._due)

    def _due(self) -> None:
        self._poll = None
        if self.is_current:
            self.load()
        else:
            self._stale = True  # nobody looks: poll again when the screen comes back

    @on(SnapshotFailed)
    def _failed(self, message: SnapshotFailed) -> None:
        self.notify(message.text, title="Monitor", severity="error", timeout=8)
        if self._everyone:  # refused "all": back to the default scope
            self._everyone = None
        self._arm(15)

    @on(SnapshotReady)
    def _ready(self, message: SnapshotReady) -> None:
        snap = message.snapshot
        self._snapshot = snap
        self._show_state(snap)
        self._pending_arm = snap.refresh_seconds
        self._apply_rows()
        detail = self._open_detail()
        if detail is not None:
            detail.update_status(next((r for r in snap.rows if r.key == detail.status.key), None))

    # ----------------------------------------------------------------- render
    def _show_state(self, snap: MonitorSnapshot) -> None:
        from jumpdeck.core.monitor.prometheus import PrometheusProblem

        status = self.query_one("#mon-status", Static)
        problem = self.query_one("#mon-problem", Static)
        scope = "everyone's resources" if self._scope_is_all() else "your resources"
        if snap.problem is None and snap.rows:
            counts = snap.counts()
            parts = [f"{n} {level.label}" for level, n in counts.items() if n]
            said = (f"{len(snap.rows)} of {scope}: {', '.join(parts)} · {snap.url} · "
                    f"updated {snap.taken_at.astimezone():%H:%M:%S}, every {snap.refresh_seconds} s · "
                    f"warning ≥ {snap.thresholds.warning:g} %, critical ≥ {snap.thresholds.critical:g} %")
        elif snap.problem is None:
            said = f"Nothing to watch in {scope}."
        else:
            said = f"{len(snap.rows)} of {scope}; metrics unavailable."
        self._say(status, said)
        if snap.problem is None:
            text = snap.remedy or ""  # the "no data" explanation, when some VM has none
        elif snap.problem is PrometheusProblem.NOT_CONFIGURED:
            text = f"{snap.message} {snap.remedy} (The settings dialog is F2.)"
        else:
            text = f"{snap.message} {snap.remedy or ''} Retrying every {snap.refresh_seconds} s; r retries now."
        self._say(problem, text.strip())
        problem.set_class(snap.problem is not None, "-error")
        problem.display = bool(text)

    def _say(self, widget: Static, text: str) -> None:
        """Update a line only when its words change: a refresh that finds the same state
        (Prometheus still not configured) sends nothing to the terminal."""
        if self._said.get(widget.id or "") != text:
            self._said[widget.id or ""] = text
            widget.update(text)

    def _scope_is_all(self) -> bool:
        from jumpdeck.core.identity import Operation, can

        return self._everyone if self._everyone is not None else can(self.ctx.actor, Operation.VIEW_ALL_RESOURCES)

    def _apply_rows(self) -> None:
        self._render_rows()

    @work(exclusive=True, group="monitor-render", exit_on_error=False)
    async def _render_rows(self) -> None:
        """Bring the table to the snapshot (and filter) with as little work on the event
        loop as can be.

        Rows whose values changed are found in a thread, with their widths; their cells
        are built when the table draws them, so a refresh builds cells for the rows on
        screen only (a few milliseconds), and a key pressed meanwhile waits about one GIL
        switch interval. Then the table takes the new order and
        changed rows in one step; it redraws only rows on
        screen whose cells changed. Rows are re-ordered worst first only when a row came,
        went or changed state; then the selected resource keeps the cursor and stays on
        its screen line (the scroll moves by as many rows as it moved), so what the
        operator reads stays put. A newer render cancels this one before it touches the
        table."""
        snap = self._snapshot
        if snap is None:
            return
        table = self.query_one("#mon-table", LineTable)
        ascii_only = self.app.config.chart_marker == "ascii"
        if self._narrow is None:
            self._narrow = self.size.width < NARROW_WIDTH
        spark = not self._narrow
        rows, built, signatures, widths = await asyncio.to_thread(
            _changed_cells, snap.rows, self._filter, dict(self._signatures), ascii_only, spark)

        wanted = {row.key: row.state.value for row in rows}
        reorder = wanted.keys() != set(self._shown) or any(self._states.get(k) != v for k, v in wanted.items())
        if reorder:
            order = [row.key for row in rows]  # the snapshot's order: worst first
        else:
            order = self._shown
        old_row = table.cursor_row
        selected = self._shown[old_row] if 0 <= old_row < len(self._shown) else self._reselect
        self._reselect = None
        scroll_x, scroll_y = table.scroll_x, table.scroll_y
        for key in self._shown:
            if key not in wanted:
                self._signatures.pop(key, None)
        self._signatures.update(signatures)
        table.set_rows(order, built, widths=widths)
        self._shown = list(order)
        self._states = wanted
        if selected in wanted:
            new_row = order.index(selected)
            if new_row != old_row:
                table.move_cursor(new_row, scroll=False)
                table.scroll_to(scroll_x, max(0, scroll_y + new_row - old_row), animate=False, immediate=True)
        self._show_empty(snap, bool(rows))
        self._rendered_done()

    def _show_empty(self, snap: MonitorSnapshot, any_shown: bool) -> None:
        empty = self.query_one("#mon-empty", Static)
        if not snap.rows:
            empty.update("No provisioned resources to watch. They appear here when a provisioning run holds VMs "
                         "(Provision screen, key 2)." + ("" if self._scope_is_all() else
                                                          " Admins see every operator's resources."))
        elif not any_shown:
            empty.update(f"No resource matches the filter {self._filter!r}; esc clears it.")
        empty.display = not any_shown
        self.query_one("#mon-table", LineTable).display = any_shown

    def _rendered_done(self) -> None:
        """A snapshot is on screen: count it and arm the next poll (once per snapshot,
        even when a filter keystroke's render replaced the snapshot's own)."""
        if self._pending_arm is not None:
            self._arm(self._pending_arm)
            self._pending_arm = None
            self.refreshes += 1

    # ---------------------------------------------------------------- actions
    def selected_status(self) -> ResourceStatus | None:
        table = self.query_one("#mon-table", LineTable)
        if self._snapshot is None or not self._shown or not (0 <= table.cursor_row < len(self._shown)):
            return None
        key = self._shown[table.cursor_row]
        return next((row for row in self._snapshot.rows if row.key == key), None)

    def action_refresh_now(self) -> None:
        self.load()

    def action_toggle_scope(self) -> None:
        from jumpdeck.core.identity import Operation, can

        if not can(self.ctx.actor, Operation.VIEW_ALL_RESOURCES):
            self.notify(self.disabled_reason("toggle_scope") or "", severity="warning", timeout=6)
            return
        self._everyone = not self._scope_is_all()
        self.notify("Showing every operator's resources." if self._everyone else "Showing your resources.", timeout=3)
        self.load()

    def disabled_reason(self, action: str) -> str | None:
        from jumpdeck.core.identity import Operation, denial

        if action == "toggle_scope":
            return denial(self.ctx.actor, Operation.VIEW_ALL_RESOURCES)
        return None

    def action_filter(self) -> None:
        box = self.query_one("#mon-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#mon-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self._apply_rows()

    @on(Input.Submitted, "#mon-filter")
    def _filter_submitted(self) -> None:
        self.query_one("#mon-table", LineTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#mon-filter", Input)
        if not box.display and not self._filter:
            return
        box.value = ""
        self._filter = ""
        box.display = False
        self._apply_rows()
        self.query_one("#mon-table", LineTable).focus()

    @on(LineTable.RowSelected, "#mon-table")
    def _row_selected(self) -> None:
        self.action_detail()

    def action_detail(self) -> None:
        status = self.selected_status()
        if status is None:
            self.notify("No resource selected.", severity="warning", timeout=3)
            return
        from jumpdeck.tui.screens.monitor_detail import ResourceDetailScreen

        self.app.push_screen(ResourceDetailScreen(status, marker=self.app.config.chart_marker))

    async def action_ssh(self) -> None:
        """Open the selected VM in the SSH screen (a tab), as the pool row's SSH user."""
        status = self.selected_status()
        if status is None:
            self.notify("No resource selected.", severity="warning", timeout=3)
            return
        r = status.resource
        command = f"ssh {'-p ' + str(r.ssh_port) + ' ' if r.ssh_port != 22 else ''}{r.ssh_user + '@' if r.ssh_user else ''}{r.ip}"
        try:
            from jumpdeck.core.ssh import SshTarget
            from jumpdeck.tui.screens.ssh import open_ssh_session
        except ModuleNotFoundError:
            # The SSH screen lands separately; until then say how to reach the VM.
            self.notify(f"The SSH screen is not available in this build. From a shell: {command}", timeout=8)
            return
        import getpass

        await open_ssh_session(self.app, SshTarget(host=r.ip, user=r.ssh_user or getpass.getuser(), port=r.ssh_port))

    def _open_detail(self):  # noqa: ANN202
        from jumpdeck.tui.screens.monitor_detail import ResourceDetailScreen

        return self.app.screen if isinstance(self.app.screen, ResourceDetailScreen) else None

    def copy_text(self) -> str | None:
        status = self.selected_status()
        return status.resource.ip if status else None
