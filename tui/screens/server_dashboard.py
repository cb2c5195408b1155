"""A server's dashboard (seed 000 §8): its databases, live, and the corp DBs registered
on it with their warning and error counts; "create corp DB" where the engine and the
role allow it. Esc goes back to the grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static

from jumpdeck.core.identity import Operation, can, denial
from jumpdeck.core.servers.values import PASSWORD_UNASKED
from jumpdeck.tui.widgets.fit_footer import FitFooter
from jumpdeck.tui.plain import cells
from jumpdeck.tui.screens.base import StoreWatching
from jumpdeck.tui.widgets.server_grid import short_version
from jumpdeck.tui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from jumpdeck.core.servers.checks import CheckResult
    from jumpdeck.core.servers.dashboard import DashboardService
    from jumpdeck.core.servers.registry import ServerInfo


def human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class ServerDashboardScreen(StoreWatching, Screen[bool]):
    """Dismisses with True when it changed something the grid shows (a new corp)."""

    TITLE = "Server"
    BINDINGS = [
        Binding("escape", "back", "Back", id="dashboard.back"),
        Binding("c", "create_db", "Create corp DB", id="dashboard.create"),
        Binding("x", "detach_corp", "Detach corp", id="dashboard.detach"),
        Binding("X", "drop_corp", "Drop corp DB", id="dashboard.drop"),
        Binding("r", "refresh", "Refresh", id="dashboard.refresh"),
    ]
    DEFAULT_CSS = """
    ServerDashboardScreen #dash-head { height: auto; padding: 0 1; background: $panel; }
    ServerDashboardScreen #dash-state { height: auto; padding: 0 1; }
    ServerDashboardScreen #dash-state.-offline { color: $error; }
    ServerDashboardScreen #dash-body { height: 1fr; }
    ServerDashboardScreen .pane { width: 1fr; height: 1fr; }
    ServerDashboardScreen .pane-title { text-style: bold; padding: 0 1; background: $boost; }
    ServerDashboardScreen DataTable { height: 1fr; }
    ServerDashboardScreen #dash-dbs-note { height: auto; padding: 0 1; color: $text-muted; }
    ServerDashboardScreen #dash-dbs-note.-error { color: $error; }
    """

    def __init__(self, info: ServerInfo, service: DashboardService, last_result: CheckResult | None = None) -> None:
        super().__init__()
        self.info = info
        self.service = service
        self.last_result = last_result
        self.changed = False
        self.corps: list = []  # as the corps table shows them
        self.title_text = f"Server {info.name}"

    @property
    def ctx(self):  # noqa: ANN201
        return self.app.ctx

    def compose(self) -> ComposeResult:
        info = self.info
        yield StatusHeader(f"Servers › {info.name}")
        yield Static(Text(f"{info.name} · {info.db_type.label} · {info.host}:{info.port} · default DB "
                          f"{info.default_db or '(none)'} · login {info.username}"
                          + (f"\n{info.description}" if info.description else "")), id="dash-head")
        yield Static(Text(self._state_text()), id="dash-state")
        with Horizontal(id="dash-body"):
            with Vertical(classes="pane"):
                yield Static("Databases (live)", classes="pane-title")
                yield Static("Loading…", id="dash-dbs-note")
                yield DataTable(id="dash-dbs", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="pane"):
                yield Static("Corp DBs", classes="pane-title", id="dash-corps-title")
                yield DataTable(id="dash-corps", cursor_type="row", zebra_stripes=True)
        yield FitFooter()

    def _state_text(self) -> str:
        result = self.last_result
        if result is None:
            return "Status: not checked yet."
        if result.online:
            unasked = f" · {PASSWORD_UNASKED}" if result.password_unasked else ""
            return f"Status: online in {result.latency_ms:.0f} ms · {short_version(result.version)}{unasked}"
        label = result.error_kind.label if result.error_kind else "Error"
        return f"Status: {label}: {result.message} → {result.hint}"

    def on_mount(self) -> None:
        dbs = self.query_one("#dash-dbs", DataTable)
        dbs.add_column("Database", key="name")
        dbs.add_column("Size", key="size", width=10)
        dbs.add_column("Owner", key="owner")
        corps = self.query_one("#dash-corps", DataTable)
        corps.add_column("Code", key="code")
        corps.add_column("Name", key="name")
        corps.add_column("Database", key="db")
        corps.add_column("Status", key="status", width=8)
        state = self.query_one("#dash-state", Static)
        state.set_class(self.last_result is not None and not self.last_result.online, "-offline")
        dbs.focus()
        self.watch_store({"corps"}, lambda _changed: self.load_corps())
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_corps()
        self.load_databases()

    @work(exclusive=True, group="dashboard-corps", exit_on_error=False)
    async def load_corps(self) -> None:
        from jumpdeck.core.servers.dashboard import summarize_corps

        corps = await self.service.corps(self.ctx.actor, self.info.id)
        self.corps = corps
        table = self.query_one("#dash-corps", DataTable)
        table.clear()
        for corp in corps:
            table.add_row(*cells([corp.code, corp.name, corp.db_name, corp.status]), key=str(corp.id))
        summary = summarize_corps(corps)
        self.query_one("#dash-corps-title", Static).update(Text(
            f"Corp DBs: {summary.total} · ⚠ {summary.warnings} warning · ✖ {summary.errors} error"))

    @work(exclusive=True, group="dashboard-dbs", exit_on_error=False)
    async def load_databases(self) -> None:
        from jumpdeck.core.errors import JumpdeckError

        note = self.query_one("#dash-dbs-note", Static)
        table = self.query_one("#dash-dbs", DataTable)
        note.remove_class("-error")
        note.update("Loading…")
        note.display = True
        try:
            databases = await self.service.databases(self.ctx.actor, self.info.id)
        except JumpdeckError as error:
            from jumpdeck.core.servers.dashboard import ServerError

            table.clear()
            if isinstance(error, ServerError):
                text = f"{error.kind.label}: {error.message}" + (f"\n→ {error.remedy}" if error.remedy else "")
            else:
                text = str(error)
            note.update(Text(text))
            note.add_class("-error")
            return
        table.clear()
        for db in databases:
            table.add_row(*cells([db.name, human_size(db.size_bytes), db.owner or "-"]), key=db.name)
        note.update(f"{len(databases)} databases")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("create_db", "detach_corp", "drop_corp") and self.disabled_reason(action):
            return None
        return True

    def disabled_reason(self, action: str) -> str | None:
        if action not in ("create_db", "detach_corp", "drop_corp"):
            return None
        if not can(self.ctx.actor, Operation.CREATE_DATABASE):
            return denial(self.ctx.actor, Operation.CREATE_DATABASE)
        if action == "detach_corp":
            return None
        return self.service.can_create(self.info)

    def _selected_corp(self):  # noqa: ANN202
        table = self.query_one("#dash-corps", DataTable)
        if not self.corps:
            self.notify(f"{self.info.name} has no corp DB.", severity="warning")
            return None
        return self.corps[min(max(table.cursor_row, 0), len(self.corps) - 1)]

    def action_detach_corp(self) -> None:
        self._remove_corp(drop=False)

    def action_drop_corp(self) -> None:
        self._remove_corp(drop=True)

    def _remove_corp(self, *, drop: bool) -> None:
        corp = self._selected_corp()
        if corp is None:
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        async def answer(yes: bool | None) -> None:
            if not yes:
                return
            from jumpdeck.core.errors import JumpdeckError
            from jumpdeck.tui.screens.base import notify_error

            try:
                await self.service.remove_corp(self.ctx.actor, self.info.id, corp.code, drop=drop)
            except JumpdeckError as error:
                notify_error(self, error)
            else:
                self.notify(f"Dropped {corp.db_name} on {self.info.name}." if drop else
                            f"Detached corp {corp.code}; {corp.db_name} is still on {self.info.name}.", timeout=5)
                self.changed = True
                self.action_refresh()

        if drop:
            dialog = ConfirmScreen(f"Drop {corp.db_name}?",
                                   f"DROP DATABASE {corp.db_name} on {self.info.name} ({self.info.host}:{self.info.port}) "
                                   f"and remove corp {corp.code} ({corp.name}). Its data is gone for good.",
                                   confirm_label="Drop database")
        else:
            dialog = ConfirmScreen(f"Detach corp {corp.code}?",
                                   f"Forget corp {corp.code} ({corp.name}) on {self.info.name}. The database "
                                   f"{corp.db_name} stays on the server.", confirm_label="Detach", danger=False)
        self.app.push_screen(dialog, answer)

    def action_back(self) -> None:
        self.dismiss(self.changed)

    def action_create_db(self) -> None:
        from jumpdeck.tui.screens.corp_form import CorpForm

        def created(ok: bool | None) -> None:
            if ok:
                self.changed = True
                self.action_refresh()

        self.app.push_screen(CorpForm(self.service, self.info), created)

    def copy_text(self) -> str | None:
        return f"{self.info.host}:{self.info.port}"
