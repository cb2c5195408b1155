"""Create a corp DB on a server: CREATE DATABASE there, then record the corp."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from jumpdeck.core.errors import JumpdeckError

if TYPE_CHECKING:
    from jumpdeck.core.servers.dashboard import DashboardService
    from jumpdeck.core.servers.registry import ServerInfo

FIELD_INPUTS = {"code": "#c-code", "name": "#c-name", "db_name": "#c-db"}


class CorpForm(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    CorpForm { align: center middle; }
    CorpForm > Vertical { width: 70; max-width: 98%; height: auto; border: thick $primary; background: $surface;
                          padding: 0 1; }
    CorpForm .title { text-style: bold; padding: 0 0 1 0; }
    CorpForm Grid { grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; grid-gutter: 0 1; height: auto; }
    CorpForm Label { color: $text-muted; }
    CorpForm Input { height: 1; border: none; padding: 0 1; background: $boost; }
    CorpForm Input:focus { background: $accent 25%; }
    CorpForm Input.-error { background: $error 30%; }
    CorpForm #c-error { height: auto; color: $error; margin-top: 1; }
    CorpForm Horizontal { height: 1; margin-top: 1; align: right middle; }
    CorpForm Button { margin-left: 1; }
    """

    def __init__(self, service: DashboardService, info: ServerInfo) -> None:
        super().__init__()
        self.service = service
        self.info = info

    def _input(self, **kwargs) -> Input:  # noqa: ANN003
        widget = Input(compact=True, **kwargs)
        widget.cursor_blink = self.app.config.cursor_blink
        return widget

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Create a corp DB on {self.info.name} ({self.info.db_type.label})"), classes="title")
            with Grid():
                yield Label("Corp code")
                yield self._input(id="c-code", placeholder="e.g. C100")
                yield Label("Corp name")
                yield self._input(id="c-name", placeholder="e.g. Acme Korea")
                yield Label("Database")
                yield self._input(id="c-db", placeholder="letters, digits, _ (e.g. acme_kr)")
            yield Static("", id="c-error")
            with Horizontal():
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Create", id="create", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#c-code", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def _create_pressed(self) -> None:
        self.create()

    @work(exclusive=True, group="corp-create", exit_on_error=False)
    async def create(self) -> None:
        error_line = self.query_one("#c-error", Static)
        for widget in self.query(Input):
            widget.remove_class("-error")
        error_line.update(Text(f"Creating the database on {self.info.name}…"))

        def value(selector: str) -> str:
            return self.query_one(selector, Input).value

        try:
            corp = await self.service.create_corp_db(self.app.ctx.actor, self.info.id, code=value("#c-code"),
                                                     name=value("#c-name"), db_name=value("#c-db"))
        except JumpdeckError as error:
            selector = FIELD_INPUTS.get(getattr(error, "field", None) or "")
            if selector:
                self.query_one(selector).add_class("-error")
                self.query_one(selector).focus()
            error_line.update(Text(str(error)))
            return
        self.app.notify(f"Created database {corp.db_name} on {self.info.name} for corp {corp.code}.", timeout=5)
        self.dismiss(True)
