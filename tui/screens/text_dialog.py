"""A read-only dialog for a long value (an error text, a log entry), copyable with y."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class TextDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("y", "copy", "Copy")]
    DEFAULT_CSS = """
    TextDialog { align: center middle; }
    TextDialog > Vertical { width: 90; max-width: 98%; height: auto; max-height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    TextDialog .title { text-style: bold; padding-bottom: 1; }
    TextDialog VerticalScroll { height: auto; max-height: 30; }
    TextDialog .hint { color: $text-muted; padding-top: 1; }
    """

    def __init__(self, title: str, text: str, *, copy_value: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.copy_value = copy_value if copy_value is not None else text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title", markup=False)
            with VerticalScroll():
                yield Static(self.text, markup=False)
            yield Static("y copy · esc close", classes="hint")

    def copy_text(self) -> str | None:
        return self.copy_value

    def action_copy(self) -> None:
        self.app.run_action("copy")
