"""F2: the system settings. Admins edit; everyone else reads, with the reason.
Validation is core's (`SettingSpec.parse`): the dialog shows its sentence in place and
saves all fields in one transaction, or none."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from jumpdeck.core.errors import JumpdeckError
from jumpdeck.core.identity import Operation, can, denial
from jumpdeck.core.settings import SETTING_SPECS


class SettingsDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape", "cancel", "Close"), Binding("ctrl+s", "save", "Save")]
    DEFAULT_CSS = """
    SettingsDialog { align: center middle; }
    SettingsDialog > Vertical { width: 90; max-width: 98%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    SettingsDialog .title { text-style: bold; padding: 1 0 0 0; }
    SettingsDialog .note { color: $warning; }
    SettingsDialog VerticalScroll { height: 1fr; }
    SettingsDialog .row { height: auto; }
    SettingsDialog .row Label { width: 26; }
    SettingsDialog .row Input, SettingsDialog .row Select { width: 1fr; }
    SettingsDialog .help { color: $text-muted; padding-left: 26; margin-bottom: 1; }
    SettingsDialog .error { color: $error; height: auto; }
    SettingsDialog #buttons { height: auto; align: right middle; }
    SettingsDialog Button { margin-left: 1; }
    """

    def compose(self) -> ComposeResult:
        ctx = self.app.ctx
        editable = can(ctx.actor, Operation.EDIT_SETTINGS)
        with Vertical():
            yield Static("Settings", classes="title")
            if not editable:
                yield Static(denial(ctx.actor, Operation.EDIT_SETTINGS) or "", classes="note")
            with VerticalScroll():
                for key, spec in SETTING_SPECS.items():
                    with Horizontal(classes="row"):
                        yield Label(key)
                        if spec.kind is bool:
                            yield Select([("true", True), ("false", False)], id=f"s-{key}", allow_blank=False,
                                         compact=True, disabled=not editable)
                        else:
                            field = Input(id=f"s-{key}", disabled=not editable, compact=True)
                            field.cursor_blink = self.app.config.cursor_blink
                            yield field
                    yield Static(f"{spec.help} ({spec.describe()})", classes="help")
            yield Static("", classes="error", markup=False)  # an error quotes what was typed
            with Horizontal(id="buttons"):
                yield Button("Close", id="cancel", compact=True)
                if editable:
                    yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)

    async def on_mount(self) -> None:
        settings = await self.app.ctx.settings.get()
        for key, spec in SETTING_SPECS.items():
            value = settings.get(key)
            widget = self.query_one(f"#s-{key}")
            if isinstance(widget, Select):
                widget.value = bool(value)
            else:
                widget.value = "" if value is None else str(value)

    def _collect(self) -> dict[str, object]:
        changes: dict[str, object] = {}
        for key in SETTING_SPECS:
            widget = self.query_one(f"#s-{key}")
            changes[key] = widget.value
        return changes

    async def action_save(self) -> None:
        ctx = self.app.ctx
        if not can(ctx.actor, Operation.EDIT_SETTINGS):
            self.query_one(".error", Static).update(denial(ctx.actor, Operation.EDIT_SETTINGS) or "")
            return
        try:
            settings = await ctx.settings.set(ctx.actor, self._collect())
        except JumpdeckError as error:
            self.query_one(".error", Static).update(str(error))
            return
        set_notice = getattr(self.app, "set_notice", None)
        if set_notice:
            set_notice(settings.get("system_notice") or "")
        self.app.notify("Settings saved.")
        self.dismiss(None)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            await self.action_save()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
