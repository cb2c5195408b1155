"""Dialogs of the Users screen: add a user; add an SSH public key to one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from jumpdeck.core.errors import JumpdeckError
from jumpdeck.core.identity import Role


class _Form(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    _Form { align: center middle; }
    _Form > Vertical { width: 70; max-width: 98%; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    _Form .title { text-style: bold; margin-bottom: 1; }
    _Form Label { margin-top: 1; }
    _Form .error { color: $error; height: auto; margin-top: 1; }
    _Form Horizontal { height: auto; margin-top: 1; align: right middle; }
    _Form Button { margin-left: 1; }
    """

    def _error(self, text: str) -> None:
        self.query_one(".error", Static).update(text)

    def _input(self, **kwargs) -> Input:  # noqa: ANN003
        widget = Input(**kwargs)
        widget.cursor_blink = self.app.config.cursor_blink
        return widget

    def action_cancel(self) -> None:
        self.dismiss(None)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        await self._save()

    async def on_input_submitted(self) -> None:
        await self._save()

    async def _save(self) -> None:
        raise NotImplementedError


def _read_key(path_text: str):
    from jumpdeck.core.users import read_public_key_file

    return read_public_key_file(path_text)


class UserForm(_Form):
    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Add a user", classes="title")
            yield Label("Name (as they log in)")
            yield self._input(id="name", placeholder="e.g. kim")
            yield Label("Role")
            yield Select([(r.value, r.value) for r in Role], value=Role.VIEWER.value, allow_blank=False, id="role")
            yield Label("SSH public key file (optional, for serve-ssh)")
            yield self._input(id="key", placeholder="~/.ssh/id_ed25519.pub")
            yield Static("", classes="error", markup=False)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Add", id="save", variant="primary")

    async def _save(self) -> None:
        name = self.query_one("#name", Input).value
        role = Role(self.query_one("#role", Select).value)
        key_path = self.query_one("#key", Input).value
        ctx = self.app.ctx
        try:
            keys = [_read_key(key_path)] if key_path.strip() else []
            user = await ctx.users.add(ctx.actor, name, role, keys)
        except JumpdeckError as error:
            self._error(str(error))
            return
        self.app.notify(f"Added {user.name} as an active {user.role.value}.")
        self.dismiss(user.name)


class KeyForm(_Form):
    def __init__(self, user_name: str) -> None:
        super().__init__()
        self.user_name = user_name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Add an SSH key to {self.user_name}", classes="title", markup=False)
            yield Label("Public key file")
            yield self._input(id="key", placeholder="~/.ssh/id_ed25519.pub")
            yield Static("", classes="error", markup=False)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Add key", id="save", variant="primary")

    async def _save(self) -> None:
        ctx = self.app.ctx
        try:
            key = _read_key(self.query_one("#key", Input).value)
            await ctx.users.add_key(ctx.actor, self.user_name, key)
        except JumpdeckError as error:
            self._error(str(error))
            return
        self.app.notify(f"Added key {key.fingerprint} to {self.user_name}.")
        self.dismiss(True)


class KeyChoice(ModalScreen["str | None"]):
    """Which of a user's SSH keys to remove: its fingerprint, or None (esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    KeyChoice { align: center middle; }
    KeyChoice > Vertical { width: 90; max-width: 98%; height: auto; border: thick $warning; background: $surface; padding: 0 1; }
    KeyChoice .title { text-style: bold; padding-bottom: 1; }
    KeyChoice OptionList { height: auto; max-height: 12; }
    KeyChoice .hint { color: $text-muted; padding-top: 1; }
    """

    def __init__(self, user: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.user = user
        self.keys = keys  # (fingerprint, comment)

    def compose(self) -> ComposeResult:
        from rich.text import Text
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical():
            yield Static(f"Remove which key of {self.user}?", classes="title", markup=False)
            # Comments are the key owner's words: text, never markup.
            yield OptionList(*[Option(Text(f"{fp}  {comment}"), id=fp) for fp, comment in self.keys], id="keys")
            yield Static("enter chooses · esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#keys").focus()

    def on_option_list_option_selected(self, event) -> None:  # noqa: ANN001
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
