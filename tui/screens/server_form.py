"""Add or edit a server (seed 000 §3, §4), with a Test button that tries the typed
details before saving. The DB type fills the port and default DB while they still hold
the previous type's defaults. "No password" registers an account that logs in without
one and disables the password field. Errors show in place, naming the field."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from jumpdeck.core.errors import Conflict, JumpdeckError, ValidationError
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.registry import TYPE_DEFAULTS, DbType, ServerSpec
from jumpdeck.core.servers.values import PASSWORD_UNASKED

if TYPE_CHECKING:
    from jumpdeck.core.servers.checks import CheckEngine
    from jumpdeck.core.servers.registry import ServerInfo, ServerRegistry

FIELD_INPUTS = {"name": "#f-name", "host": "#f-host", "port": "#f-port", "default_db": "#f-db",
                "username": "#f-user", "password": "#f-password", "tags": "#f-tags", "description": "#f-description",
                "db_type": "#f-type", "no_password": "#f-no-password"}


class ServerForm(ModalScreen["ServerInfo | None"]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+t", "test", "Test", show=False),
        Binding("ctrl+s", "save", "Save", show=False),
    ]
    DEFAULT_CSS = """
    ServerForm { align: center middle; }
    ServerForm > Vertical { width: 76; max-width: 98%; height: auto; max-height: 98%;
                            border: thick $primary; background: $surface; padding: 0 1; }
    ServerForm .title { text-style: bold; padding: 0 0 1 0; }
    ServerForm Grid { grid-size: 2; grid-columns: 14 1fr; grid-rows: 1; grid-gutter: 0 1; height: auto; }
    ServerForm Label { color: $text-muted; }
    ServerForm Input { height: 1; border: none; padding: 0 1; background: $boost; }
    ServerForm Input:focus { background: $accent 25%; }
    ServerForm Input.-error { background: $error 30%; }
    ServerForm Select { height: 1; }
    ServerForm Checkbox { height: 1; border: none; padding: 0 1; background: $boost; }
    ServerForm Checkbox:focus { background: $accent 25%; }
    ServerForm Select > SelectCurrent { height: 1; margin: 0; border: none; background: $boost; }
    ServerForm Select:focus > SelectCurrent { border: none; background: $accent 25%; }
    ServerForm #f-test { height: auto; min-height: 1; margin-top: 1; color: $text-muted; }
    ServerForm #f-test.-ok { color: $success; }
    ServerForm #f-test.-failed { color: $error; }
    ServerForm #f-error { height: auto; color: $error; display: none; }
    ServerForm #f-error.-shown { display: block; }
    ServerForm Horizontal { height: 1; margin-top: 1; align: right middle; }
    ServerForm Button { margin-left: 1; }
    """

    def __init__(self, engine: CheckEngine, registry: ServerRegistry, info: ServerInfo | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.registry = registry
        self.info = info
        self._type: DbType = info.db_type if info else DbType.POSTGRESQL

    # ---------------------------------------------------------------- layout
    def _input(self, value: str = "", **kwargs) -> Input:  # noqa: ANN003
        widget = Input(value, compact=True, **kwargs)
        widget.cursor_blink = self.app.config.cursor_blink
        return widget

    def compose(self) -> ComposeResult:
        info = self.info
        defaults = TYPE_DEFAULTS[self._type]
        with Vertical():
            yield Static(Text(f"Edit server {info.name}" if info else "Add a server"), classes="title")
            with Grid():
                yield Label("Name")
                yield self._input(info.name if info else "", id="f-name", placeholder="unique, e.g. erp-prod")
                yield Label("DB type")
                yield Select([(t.label, t.value) for t in DbType], value=self._type.value, allow_blank=False,
                             compact=True, id="f-type")
                yield Label("Host")
                yield self._input(info.host if info else "", id="f-host", placeholder="IP address or DNS name")
                yield Label("Port")
                yield self._input(str(info.port if info else defaults.port), id="f-port", restrict=r"[0-9]*",
                                  max_length=5)
                yield Label("Default DB")
                yield self._input(info.default_db if info else defaults.default_db, id="f-db",
                                  placeholder=self._db_placeholder(self._type))
                yield Label("Login")
                yield self._input(info.username if info else "", id="f-user", placeholder="e.g. sa, postgres, root")
                yield Label("Password")
                yield self._input("", id="f-password", password=True, placeholder=self._password_placeholder(),
                                  disabled=bool(info and info.no_password))
                yield Label("No password")
                yield Checkbox("the account logs in without one (trust, empty)",
                               bool(info and info.no_password), compact=True, id="f-no-password")
                yield Label("Tags")
                yield self._input(", ".join(info.tags) if info else "", id="f-tags", placeholder="e.g. prod, erp")
                yield Label("Description")
                yield self._input(info.description if info else "", id="f-description", placeholder="what it is for")
            yield Static("Test tries these details before saving (ctrl+t).", id="f-test")
            yield Static("", id="f-error")
            with Horizontal():
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Test (ctrl+t)", id="test", compact=True)
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#f-name", Input).focus()

    def _password_placeholder(self, no_password: bool | None = None) -> str:
        if no_password is None:
            no_password = bool(self.info and self.info.no_password)
        if no_password:
            return "none: the account logs in without one"
        if self.info is None:
            return "required (or tick 'No password')"
        # Blank keeps the stored password; a no-password server has none to keep.
        return "required: it has no stored password" if self.info.no_password else "blank keeps the stored password"

    @staticmethod
    def _db_placeholder(db_type: DbType) -> str:
        defaults = TYPE_DEFAULTS[db_type]
        if defaults.db_required:
            return f"service name, required (e.g. {defaults.db_suggestion})"
        return "optional" if not defaults.default_db else defaults.default_db

    # ------------------------------------------------------------------ form
    @on(Select.Changed, "#f-type")
    def _type_changed(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        new = DbType(event.value)
        old_defaults, new_defaults = TYPE_DEFAULTS[self._type], TYPE_DEFAULTS[new]
        port = self.query_one("#f-port", Input)
        if port.value.strip() in ("", str(old_defaults.port)):
            port.value = str(new_defaults.port)
        db = self.query_one("#f-db", Input)
        if db.value.strip() in ("", old_defaults.default_db):
            db.value = new_defaults.default_db
        db.placeholder = self._db_placeholder(new)
        self._type = new

    @on(Checkbox.Changed, "#f-no-password")
    def _no_password_changed(self, event: Checkbox.Changed) -> None:
        password = self.query_one("#f-password", Input)
        if event.value:
            password.value = ""  # what was typed is dropped, never saved beside the choice
        password.disabled = event.value
        password.placeholder = self._password_placeholder(event.value)

    def spec(self) -> ServerSpec:
        def value(selector: str) -> str:
            return self.query_one(selector, Input).value

        return ServerSpec(
            name=value("#f-name"), db_type=self._type.value, host=value("#f-host"), username=value("#f-user"),
            password=Secret(value("#f-password")), port=value("#f-port") or None, default_db=value("#f-db"),
            description=value("#f-description"), tags=tuple(t for t in value("#f-tags").split(",") if t.strip()),
            group=self.info.group if self.info else "", is_active=self.info.is_active if self.info else True,
            data_path=self.info.data_path if self.info else None, log_path=self.info.log_path if self.info else None,
            no_password=self.query_one("#f-no-password", Checkbox).value,
        )

    def _show_error(self, error: JumpdeckError) -> None:
        for widget in self.query(Input):
            widget.remove_class("-error")
        field = getattr(error, "field", None)
        if isinstance(error, Conflict) and "named" in error.message:
            field = "name"  # a duplicate name
        selector = FIELD_INPUTS.get(field or "")
        if selector:
            widget = self.query_one(selector)
            widget.add_class("-error")
            widget.focus()
        self._set_error(str(error))

    def _set_error(self, text: str) -> None:
        line = self.query_one("#f-error", Static)
        line.update(Text(text))
        line.set_class(bool(text), "-shown")

    def _clear_error(self) -> None:
        for widget in self.query(Input):
            widget.remove_class("-error")
        self._set_error("")

    # --------------------------------------------------------------- actions
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#test")
    def action_test(self) -> None:
        self.run_test()

    @on(Button.Pressed, "#save")
    async def action_save(self) -> None:
        await self._save()

    async def on_input_submitted(self) -> None:
        await self._save()

    @work(exclusive=True, group="server-form-test", exit_on_error=False)
    async def run_test(self) -> None:
        """Seed §3.1 and §4.1: a new server, or an edit (blank password: the stored one)."""
        from jumpdeck.core.servers.checks import check_spec

        line = self.query_one("#f-test", Static)
        line.remove_class("-ok", "-failed")
        line.update("Testing…")
        self._clear_error()
        try:
            result = await check_spec(self.engine, self.app.ctx.actor, self.spec(), registry=self.registry,
                                      server_id=self.info.id if self.info else None)
        except JumpdeckError as error:
            line.update("")
            self._show_error(error)
            return
        if result.online:
            unasked = f" ({PASSWORD_UNASKED})" if result.password_unasked else ""
            line.update(Text(f"✔ Connected in {result.latency_ms:.0f} ms: {result.version}{unasked}"))
            line.add_class("-ok")
        else:
            label = result.error_kind.label if result.error_kind else "Error"
            line.update(Text(f"✖ {label}: {result.message}\n  {result.hint}"))
            line.add_class("-failed")

    async def _save(self) -> None:
        actor = self.app.ctx.actor
        try:
            spec = self.spec()
            if self.info is None:
                saved = await self.registry.create(actor, spec)
            else:
                saved = await self.registry.update(actor, self.info.id, spec)
        except ValidationError as error:
            self._show_error(error)
            return
        except JumpdeckError as error:
            self._show_error(error)
            return
        self.app.notify(f"{'Updated' if self.info else 'Added'} {saved.name}.", timeout=4)
        self.dismiss(saved)
