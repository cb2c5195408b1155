"""The first frame: shown while the store opens. Says what it waits for, and if start-up
fails, the sentence and remedy, with q to quit. No spinner: it would cost bandwidth."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static


class BootScreen(Screen):
    BINDINGS = [Binding("q", "app.quit", "Quit")]
    DEFAULT_CSS = """
    BootScreen { align: center middle; }
    BootScreen #boot-title { text-style: bold; color: $primary; width: auto; }
    BootScreen #boot-status { color: $text-muted; width: auto; max-width: 70; }
    BootScreen #boot-status.-error { color: $error; }
    """

    def compose(self) -> ComposeResult:
        with Middle():
            with Center():
                yield Static("jumpdeck", id="boot-title")
            with Center():
                yield Static("Starting…", id="boot-status", markup=False)  # may be an error's words

    _text = "Starting…"
    _error = False

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        # The worker may report before this screen has composed its children.
        widgets = self.query("#boot-status")
        if widgets:
            widgets.first(Static).update(self._text)
            widgets.first(Static).set_class(self._error, "-error")

    def status(self, text: str) -> None:
        self._text = text
        self._show()

    def failed(self, text: str) -> None:
        self._text, self._error = f"{text}\n\nPress q to quit.", True
        self._show()
