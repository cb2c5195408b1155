"""The Servers screen (seed 000): the DB fleet as a live grid.

The grid is painted from the store at once (no checks on that path); a background
round then checks every active server, and each card changes as its own result lands.
Filters (DB type, status, `/` search) combine with AND and their counts follow the
results. Rounds never overlap: the first one, `T` (sequential, with progress) and
polling all run under the poller's lock (`Poller.run_now`), taken before a round
starts, so a second one is refused rather than run alongside.
"""

from __future__ import annotations

import importlib.util
import time
from typing import TYPE_CHECKING

from functools import partial
from typing import Callable

from textual import on, work
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from rich.text import Text
from textual.widgets import Button, Input, Static

from jumpdeck.core.identity import Operation, can, denial
from jumpdeck.core.servers.fleet import FleetView, LiveState, StatusFilter
from jumpdeck.core.servers.polling import POLL_INTERVALS, Poller, interval_label
from jumpdeck.core.servers.registry import DbType
from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.widgets.server_grid import ServerGrid, password_note, short_version, status_text
from jumpdeck.tui.styles import stylesheet

if TYPE_CHECKING:
    from jumpdeck.core.servers.checks import CheckEngine, CheckResult
    from jumpdeck.core.servers.fleet_checks import FleetChecks
    from jumpdeck.core.servers.registry import ServerInfo, ServerRegistry

MANAGE_ACTIONS = {"add", "edit", "delete"}
TEST_ACTIONS = {"test", "test_all"}
STATUS_LABELS = {StatusFilter.ALL: "Any status", StatusFilter.ONLINE: "● Online", StatusFilter.OFFLINE: "● Offline",
                 StatusFilter.UNKNOWN: "○ Unknown"}


class ServersCommands(Provider):
    """The Servers screen's actions and its servers, in the command palette (ctrl+p)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        if not isinstance(screen, ServersScreen):
            return []
        commands: list[tuple[str, str, Callable[[], object]]] = []
        for action, title, help_text in (
            ("test_all", "Servers: test all", "Check every active server, one at a time, with progress (T)"),
            ("add", "Servers: add a server", "Register a server, with a test before saving (a)"),
            ("toggle_view", "Servers: cards or table", "Switch between the card grid and the dense table (v)"),
            ("cycle_poll", "Servers: polling interval", "Off, 30 s, 1 min, 5 min (p)"),
            ("reset_filters", "Servers: reset filters", "Show every server again (x)"),
            ("reload", "Servers: reload", "Read the server list from the store again (r)"),
        ):
            if screen.check_action(action, ()):
                commands.append((title, help_text, partial(screen.run_action, action)))
        for row in screen.fleet.rows.values():
            info = row.info
            commands.append((f"Server {info.name}", f"Open the dashboard of {info.db_type.label} {info.host}:{info.port}",
                             partial(screen.open_by_id, info.id)))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands()[:6]:
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


def ssh_available() -> bool:
    try:
        return importlib.util.find_spec("jumpdeck.tui.screens.ssh") is not None
    except (ImportError, ValueError):
        return False


class ServersScreen(JumpdeckScreen):
    TITLE = "Servers"
    CSS_PATH = stylesheet(__package__, "servers.tcss")
    COMMANDS = JumpdeckScreen.COMMANDS | {ServersCommands}
    # Tests turn this off to paint deterministic states.
    AUTO_CHECK = True
    # Below 110 columns the type and status filters take a line each.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("a", "add", "Add", id="servers.add"),
        Binding("e", "edit", "Edit", id="servers.edit"),
        Binding("d", "delete", "Delete", id="servers.delete"),
        Binding("t", "test", "Test", id="servers.test"),
        Binding("T", "test_all", "Test all", key_display="T", id="servers.test_all"),
        Binding("enter", "open", "Dashboard", id="servers.open"),
        Binding("s", "ssh", "SSH", id="servers.ssh"),
        Binding("slash", "search", "Search", key_display="/", id="servers.search"),
        Binding("f", "cycle_type", "Type", id="servers.type"),
        Binding("F", "cycle_status", "Status", key_display="F", id="servers.status"),
        Binding("o", "cycle_sort", "Sort", id="servers.sort"),
        Binding("x", "reset_filters", "Reset filters", show=False, id="servers.reset"),
        Binding("v", "toggle_view", "View", id="servers.view"),
        Binding("p", "cycle_poll", "Poll", show=False, id="servers.poll"),
        Binding("b", "open_selected", "Selected server", show=False, id="servers.selected"),
        Binding("r", "reload", "Reload", id="servers.reload"),
        Binding("escape", "clear_search", "Clear search", show=False, id="servers.clear_search"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.fleet = FleetView()
        self.checks: FleetChecks | None = None  # rounds and single tests: here, or in the serve-ssh server
        self._engine: CheckEngine | None = None  # the forms' and dashboard's, made when first needed
        self.registry: ServerRegistry | None = None
        self.poller: Poller | None = None
        self.selected_server_id: int | None = None
        self.round_progress: tuple[int, int] | None = None
        self._round_label = ""
        self._loaded_once = False
        self._last_flush = 0.0

    # ----------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="servers-banner"):
            yield Static("", id="servers-banner-text")
            yield Button("Open dashboard (b)", id="servers-banner-open", compact=True)
        with Horizontal(id="servers-filters"):
            # Two lines of clickable chips rather than nine buttons: fewer widgets, faster first paint.
            yield Static("", id="servers-types")
            yield Static("", id="servers-statuses")
        yield Input(placeholder="filter by name, host, description or tag — enter keeps it, esc clears",
                    id="servers-search")
        yield ServerGrid(id="servers-grid")
        with Horizontal(id="servers-empty"):
            yield Static("", id="servers-empty-text")
            yield Button("Reset filters (x)", id="servers-reset", compact=True)
        yield Static("", id="servers-detail")
        yield Static("", id="servers-status")

    @property
    def engine(self) -> CheckEngine:
        """This process's check engine, for what only runs here (a form's test, the
        dashboard). Under serve-ssh the grid's rounds do not use it, so a session that
        never opens those loads no driver."""
        from jumpdeck.core.servers.fleet_checks import LocalFleetChecks

        if isinstance(self.checks, LocalFleetChecks):
            return self.checks.engine
        if self._engine is None:
            from jumpdeck.core.servers.checks import CheckEngine

            config = self.app.config
            self._engine = CheckEngine(concurrency=config.check_concurrency, timeout=config.check_timeout)
        return self._engine

    def on_mount(self) -> None:
        from jumpdeck.core.servers.fleet_checks import open_fleet_checks
        from jumpdeck.core.servers.registry import ServerRegistry

        config = self.app.config
        self.registry = ServerRegistry(self.ctx.store, self.ctx.secrets)
        self.checks = open_fleet_checks(self.ctx, registry=self.registry)
        self.poller = Poller(self._poll_round, interval=None)
        self.poller.start()
        search = self.query_one("#servers-search", Input)
        search.cursor_blink = config.cursor_blink
        search.display = False
        self.query_one("#servers-banner").display = False
        for button in self.query(Button):
            button.can_focus = False
        self.query_one(ServerGrid).focus()
        # Another operator's add, edit or delete, on any jump host: the grid reloads in
        # place (fleet.load keeps each server's last check, the cursor stays on its row).
        self.watch_store({"servers", "corps"}, lambda _changed: self.reload())
        self.reload()

    async def on_unmount(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        if self.checks is not None:
            self.checks.close()
        if self._engine is not None:
            self._engine.close()

    # ------------------------------------------------------------ loading
    @work(exclusive=True, group="servers-load", exit_on_error=False)
    async def reload(self) -> None:
        from jumpdeck.core.errors import JumpdeckError

        assert self.checks is not None
        try:
            servers = await self.checks.servers(self.ctx.actor)
        except JumpdeckError as error:  # the store, or (under serve-ssh) the server, failed to answer
            from jumpdeck.tui.screens.base import notify_error

            notify_error(self, error)  # the grid keeps what it had; r or any change loads it again
            return
        self.fleet.load(servers)
        self.redraw()
        first = not self._loaded_once
        self._loaded_once = True
        if first and self.AUTO_CHECK and servers:
            self.run_round(sequential=False)

    def redraw(self) -> None:
        """Filters, counts, grid and lines from the fleet state."""
        grid = self.query_one(ServerGrid)
        current = grid.current
        visible = self.fleet.visible()
        grid.set_rows(visible, keep_id=current.info.id if current else None)
        self._draw_filters()
        self._draw_empty(visible)
        self._draw_detail()
        self._draw_status()
        self._draw_banner()
        self.refresh_bindings()

    def filter_chips(self) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str, bool]]]:
        """(value, label, active) of each type chip and each status chip."""
        type_counts = self.fleet.type_counts()
        types = [("", f"All types {sum(type_counts.values())}", self.fleet.db_type is None)]
        types += [(t.value, f"{t.label} {type_counts[t]}", self.fleet.db_type is t) for t in self.fleet.types_present()]
        counts = self.fleet.counts()
        statuses = [(s.value, f"{STATUS_LABELS[s]} {counts[s]}", self.fleet.status is s) for s in StatusFilter]
        return types, statuses

    def _draw_filters(self) -> None:
        types, statuses = self.filter_chips()
        self._set_chips("#servers-types", "filter_type", types)
        self._set_chips("#servers-statuses", "filter_status", statuses)

    def _set_chips(self, selector: str, action: str, chips: list[tuple[str, str, bool]]) -> None:
        """Repaint a chip line only when it changed: an idle fleet sends nothing."""
        parts = []
        for value, label, active in chips:
            style = "reverse bold" if active else "dim"
            parts.append(f"[{style} @click=screen.{action}('{value}')] {label} [/]")
        markup = " ".join(parts)
        widget = self.query_one(selector, Static)
        if getattr(widget, "_chips", None) != markup:
            widget._chips = markup  # type: ignore[attr-defined]
            widget.update(markup)

    def _draw_empty(self, visible: list) -> None:
        empty = self.query_one("#servers-empty", Horizontal)
        grid = self.query_one(ServerGrid)
        if visible:
            empty.display = False
            grid.display = True
            return
        grid.display = False
        empty.display = True
        reset = self.query_one("#servers-reset", Button)
        if self.fleet.rows:
            text = "No server matches the filters."
            reset.display = True
        elif can(self.ctx.actor, Operation.MANAGE_SERVERS):
            text = "No servers are registered yet. Press a to add one."
            reset.display = False
        else:
            text = "No servers are registered yet. An admin adds them (a)."
            reset.display = False
        self.query_one("#servers-empty-text", Static).update(Text(text))

    def _draw_detail(self) -> None:
        row = self.query_one(ServerGrid).current
        detail = self.query_one("#servers-detail", Static)
        if row is None:
            detail.update("")
            return
        info, result = row.info, row.result
        head = f"{info.name} · {info.db_type.label} {info.host}:{info.port}"
        if info.default_db:
            head += f" · {info.default_db}"
        head += f" · login {info.username}"
        if row.state is LiveState.CHECKING:
            line = "checking…"
        elif result is None:
            line = "not checked yet — t tests it"
        elif result.online:
            line = " · ".join(p for p in (f"online in {result.latency_ms:.0f} ms", short_version(result.version),
                                          password_note(row)) if p)
        else:
            label = result.error_kind.label if result.error_kind else "Error"
            # The remedy first: on a narrow screen the driver's words are what gets cut.
            line = f"{label} → {result.hint}\n{result.message}"
        # Text, not markup: driver messages hold brackets ("[FreeTDS][SQL Server]").
        detail.update(Text(f"{head}\n{line}"))
        detail.set_class(row.state is LiveState.OFFLINE, "-offline")

    def _draw_status(self) -> None:
        from jumpdeck.core.words import shown_of

        parts = [shown_of(len(self.query_one(ServerGrid).rows), len(self.fleet.rows), "server")]
        if self.round_progress is not None:
            done, total = self.round_progress
            parts.append(f"{self._round_label} {done}/{total}")
        parts.append(f"sort {self.fleet.sort.value} (o)")
        interval = self.poller.interval if self.poller else None
        parts.append(f"poll {interval_label(interval)} (p)")
        parts.append("view " + ("table" if self.query_one(ServerGrid).dense else "cards") + " (v)")
        self.query_one("#servers-status", Static).update(Text(" · ".join(parts)))

    def _draw_banner(self) -> None:
        banner = self.query_one("#servers-banner")
        row = self.fleet.rows.get(self.selected_server_id) if self.selected_server_id is not None else None
        banner.display = row is not None
        if row is not None:
            info = row.info
            self.query_one("#servers-banner-text", Static).update(
                Text(f"✔ Selected server: {info.name} ({info.db_type.label} {info.host}:{info.port})"))

    # ------------------------------------------------------------- events
    @on(ServerGrid.Highlighted)
    def _highlighted(self) -> None:
        self._draw_detail()
        self.refresh_bindings()

    @on(ServerGrid.Chosen)
    def _chosen(self, event: ServerGrid.Chosen) -> None:
        self._open_dashboard(event.row.info)

    def action_filter_type(self, value: str) -> None:
        self.fleet.db_type = DbType(value) if value else None
        self.redraw()

    def action_filter_status(self, value: str) -> None:
        self.fleet.status = StatusFilter(value or StatusFilter.ALL.value)
        self.redraw()

    @on(Button.Pressed, "#servers-reset")
    def _reset_pressed(self) -> None:
        self.action_reset_filters()

    @on(Button.Pressed, "#servers-banner-open")
    async def _banner_pressed(self) -> None:
        await self.action_open_selected()

    @on(Input.Changed, "#servers-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.fleet.search = event.value
        self.redraw()

    @on(Input.Submitted, "#servers-search")
    def _search_done(self) -> None:
        search = self.query_one("#servers-search", Input)
        search.display = bool(search.value)
        self.query_one(ServerGrid).focus()

    # ------------------------------------------------------------ gating
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MANAGE_ACTIONS and not can(self.ctx.actor, Operation.MANAGE_SERVERS):
            return None
        if action in TEST_ACTIONS and not can(self.ctx.actor, Operation.TEST_CONNECTION):
            return None
        if action == "ssh" and not ssh_available():
            return None
        if action in {"edit", "delete", "test", "open", "ssh"} and self.query_one(ServerGrid).current is None:
            return None
        if action == "reset_filters" and not self.fleet.filtered:
            return None
        if action == "open_selected" and self.selected_server_id not in self.fleet.rows:
            return None
        return True

    def disabled_reason(self, action: str) -> str | None:
        if action in MANAGE_ACTIONS and not can(self.ctx.actor, Operation.MANAGE_SERVERS):
            return denial(self.ctx.actor, Operation.MANAGE_SERVERS)
        if action in TEST_ACTIONS and not can(self.ctx.actor, Operation.TEST_CONNECTION):
            return denial(self.ctx.actor, Operation.TEST_CONNECTION)
        if action == "ssh" and not ssh_available():
            return "SSH arrives with the SSH screen."
        if action in {"edit", "delete", "test", "open", "ssh"} and self.query_one(ServerGrid).current is None:
            return "Select a server first."
        return None

    def copy_text(self) -> str | None:
        row = self.query_one(ServerGrid).current
        return f"{row.info.host}:{row.info.port}" if row else None

    def running_work(self) -> list[str]:
        if self.round_progress is None:
            return []
        done, total = self.round_progress
        return [f"{self._round_label} ({done}/{total})"]

    # ------------------------------------------------------------- checks
    def apply_results(self, results: list[CheckResult]) -> None:
        """Show check results (a round's, a single test's, or a test's fixtures)."""
        for result in results:
            self.fleet.apply(result)
        self.redraw()

    def _land(self, result: CheckResult) -> None:
        """One result of a running round: repaint its card now, the rest at most 10 times a second."""
        before = self.fleet.rows.get(result.server_id) if result.server_id is not None else None
        shown = (before.state, status_text(before), password_note(before)) if before is not None else None
        row = self.fleet.apply(result)
        if row is None:
            return
        if (row.state, status_text(row), password_note(row)) != shown:  # over a thin link, unchanged cards cost nothing
            self.query_one(ServerGrid).refresh_row(row.info.id)
        now = time.monotonic()
        if now - self._last_flush >= 0.1:
            self._last_flush = now
            self.redraw()

    async def _round(self, *, server_ids: list[int] | None = None, sequential: bool = False,
                     label: str = "checking", quiet: bool = False) -> str | None:
        """One round over the active fleet (or `server_ids`); only ever called under the
        poller's lock. A `quiet` round (polling) keeps the last results on the cards
        until new ones land."""
        if self.checks is None:
            return None
        from jumpdeck.core.servers.checks import summarize

        checking = await self.checks.start(self.ctx.actor, server_ids, sequential=sequential)
        if not checking.server_ids:
            return ""
        self.round_progress = (0, len(checking.server_ids))
        self._round_label = label
        if not quiet:
            self.fleet.mark_checking(checking.server_ids)
        self.redraw()
        results = []
        try:
            async for step in checking:
                results.append(step.result)
                self.round_progress = (step.done, step.total)
                self._land(step.result)
        finally:
            self.round_progress = None
            self.redraw()
        return summarize(results).text()

    @work(group="servers-round", exit_on_error=False)
    async def run_round(self, *, sequential: bool, announce: bool = False) -> None:
        from jumpdeck.core.errors import JumpdeckError

        summary: str | None = None

        async def round_() -> None:
            nonlocal summary
            summary = await self._round(sequential=sequential, label="testing all" if sequential else "checking")

        assert self.poller is not None
        try:
            # The poller's lock, taken before the round's first await: `T` twice, or
            # `T` during a poll, runs one round.
            ran = await self.poller.run_now(round_)
        except JumpdeckError as error:  # refused, or (under serve-ssh) the server stopped answering
            from jumpdeck.tui.screens.base import notify_error

            notify_error(self, error)
            return
        if not ran:
            self.notify("A round of checks is already running; wait for it to finish.", severity="warning")
        elif announce and summary:
            offline = "offline" in summary and not summary.startswith("All")
            self.notify(summary, title="Test all", severity="warning" if offline else "information")

    async def _poll_round(self) -> None:
        await self._round(label="polling", quiet=True)

    @work(group="servers-test", exit_on_error=False)
    async def test_one(self, server_id: int) -> None:
        assert self.checks is not None
        self.fleet.mark_checking([server_id])
        self.query_one(ServerGrid).refresh_row(server_id)
        self._draw_detail()
        try:
            result = await self.checks.check_one(self.ctx.actor, server_id)
        except Exception as error:  # the server vanished, or the key changed
            from jumpdeck.tui.screens.base import notify_error

            notify_error(self, error)
            self.reload()
            return
        self.apply_results([result])
        self.notify(f"{result.name}: {result.summary()}", severity="information" if result.online else "error",
                    timeout=6)

    # ------------------------------------------------------------ actions
    def action_reload(self) -> None:
        self.reload()

    def action_test(self) -> None:
        row = self.query_one(ServerGrid).current
        if row is not None:
            self.test_one(row.info.id)

    def action_test_all(self) -> None:
        """Seed §6.2: one server at a time, with progress, then a summary."""
        self.run_round(sequential=True, announce=True)

    def action_search(self) -> None:
        search = self.query_one("#servers-search", Input)
        search.display = True
        self.set_focus(search)  # at once: keys typed right after / belong to the search

    def action_clear_search(self) -> None:
        search = self.query_one("#servers-search", Input)
        if search.value or search.display:
            search.value = ""
            search.display = False
            self.fleet.search = ""
            self.redraw()
        self.query_one(ServerGrid).focus()

    def action_cycle_type(self) -> None:
        self.fleet.cycle_type()
        self.redraw()

    def action_cycle_status(self) -> None:
        self.fleet.cycle_status()
        self.redraw()

    def action_cycle_sort(self) -> None:
        self.fleet.cycle_sort()
        self.redraw()

    def action_reset_filters(self) -> None:
        self.fleet.reset_filters()
        search = self.query_one("#servers-search", Input)
        search.value = ""
        search.display = False
        self.redraw()
        self.query_one(ServerGrid).focus()

    def action_toggle_view(self) -> None:
        grid = self.query_one(ServerGrid)
        grid.dense = not grid.dense
        self._draw_status()

    def action_cycle_poll(self) -> None:
        assert self.poller is not None
        current = self.poller.interval
        index = POLL_INTERVALS.index(current) if current in POLL_INTERVALS else 0
        new = POLL_INTERVALS[(index + 1) % len(POLL_INTERVALS)]
        self.poller.set_interval(new)
        self._draw_status()
        self.notify(f"Polling: {interval_label(new)}.", timeout=3)

    async def action_add(self) -> None:
        from jumpdeck.tui.screens.server_form import ServerForm

        await self.app.store_ready()
        self.app.push_screen(ServerForm(self.engine, self.registry), self._saved)

    async def action_edit(self) -> None:
        row = self.query_one(ServerGrid).current
        if row is None:
            return
        from jumpdeck.tui.screens.server_form import ServerForm

        await self.app.store_ready()
        self.app.push_screen(ServerForm(self.engine, self.registry, row.info), self._saved)

    def _saved(self, info: ServerInfo | None) -> None:
        if info is None:
            return
        self.reload()
        self.query_one(ServerGrid).select_id(info.id)
        if self.AUTO_CHECK:
            self.call_after_refresh(self.test_one, info.id)

    async def action_delete(self) -> None:
        row = self.query_one(ServerGrid).current
        if row is None:
            return
        await self.app.store_ready()
        info = row.info
        if info.corp_count:
            self.notify(f"Server '{info.name}' has {info.corp_count} corp DB{'s' if info.corp_count != 1 else ''}. "
                        "Detach or drop them first: enter opens its dashboard, where x detaches and X drops one.",
                        title="Cannot delete", severity="error", timeout=8)
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        async def answer(yes: bool | None) -> None:
            if not yes:
                return
            from jumpdeck.core.errors import JumpdeckError
            from jumpdeck.tui.screens.base import notify_error

            assert self.registry is not None
            try:
                await self.registry.delete(self.ctx.actor, info.id)
            except JumpdeckError as error:
                notify_error(self, error)
            else:
                self.notify(f"Deleted {info.name}.", timeout=4)
                if self.selected_server_id == info.id:
                    self.selected_server_id = None
            self.reload()

        self.app.push_screen(ConfirmScreen(
            "Delete server?",
            f"Delete '{info.name}' ({info.db_type.label} {info.host}:{info.port})? Its connection settings and stored "
            "password go with it; the activity log keeps the record.", confirm_label="Delete"), answer)

    async def action_open(self) -> None:
        row = self.query_one(ServerGrid).current
        if row is not None:
            await self.app.store_ready()
            self._open_dashboard(row.info)

    def open_by_id(self, server_id: int) -> None:
        """Select a server in the grid (clearing filters that hide it) and open its dashboard."""
        row = self.fleet.rows.get(server_id)
        if row is None:
            return
        grid = self.query_one(ServerGrid)
        if server_id not in {r.info.id for r in grid.rows}:
            self.action_reset_filters()
        grid.select_id(server_id)
        self._open_dashboard(row.info)

    async def action_open_selected(self) -> None:
        row = self.fleet.rows.get(self.selected_server_id) if self.selected_server_id is not None else None
        if row is not None:
            await self.app.store_ready()
            self._open_dashboard(row.info)

    def _open_dashboard(self, info: ServerInfo) -> None:
        """Seed §8.1: choosing a server selects it and opens its dashboard."""
        from jumpdeck.core.servers.dashboard import DashboardService
        from jumpdeck.tui.screens.server_dashboard import ServerDashboardScreen

        assert self.registry is not None
        self.selected_server_id = info.id
        self._draw_banner()
        self.refresh_bindings()
        row = self.fleet.rows.get(info.id)
        self.app.push_screen(ServerDashboardScreen(info, DashboardService(self.registry, self.engine),
                                                   row.result if row else None),
                             lambda changed: self.reload() if changed else None)

    async def action_ssh(self) -> None:
        """Open an SSH session to the server's host (the SSH screen asks for what it needs)."""
        row = self.query_one(ServerGrid).current
        if row is None or not ssh_available():
            return
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.ssh.target import parse_destination
        from jumpdeck.tui.screens.ssh import open_ssh_session

        try:
            target = parse_destination(row.info.host.strip("[]"))
        except JumpdeckError as error:
            from jumpdeck.tui.screens.base import notify_error

            notify_error(self, error)
            return
        await self.app.store_ready()  # the session is audited
        await open_ssh_session(self.app, target)
