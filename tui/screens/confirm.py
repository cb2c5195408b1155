"""A yes/no dialog that names what it is about. `y` confirms; `n` or esc cancels.
Focus starts on Cancel, so an Enter typed ahead by habit never destroys anything."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("n", "cancel", "No", show=False),
                Binding("y", "confirm", "Yes")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 64; max-width: 95%; height: auto; border: thick $warning; padding: 1 2; background: $surface; }
    ConfirmScreen .title { text-style: bold; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; margin-top: 1; align: right middle; }
    ConfirmScreen Button { margin-left: 1; }
    ConfirmScreen .hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str, message: str, *, confirm_label: str = "Yes", danger: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical():
            # Messages name what they are about (runs, servers, users): plain text.
            yield Static(self.title_text, classes="title", markup=False)
            yield Static(self.message, markup=False)
            yield Static(f"y {self.confirm_label.lower()} · n or esc cancel", classes="hint")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_confirm(self) -> None:
        self.dismiss(True)
