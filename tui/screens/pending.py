"""Shown over everything to a user who is pending approval or disabled: jumpdeck enforces
the rule in core anyway; this screen just says it plainly and how to get access."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from jumpdeck.core.identity import Actor, Operation, denial


class PendingScreen(ModalScreen[None]):
    BINDINGS = [Binding("q", "app.exit", "Quit")]
    DEFAULT_CSS = """
    PendingScreen { align: center middle; }
    PendingScreen > Vertical { width: 70; max-width: 95%; height: auto; border: thick $warning; padding: 1 2; background: $surface; }
    PendingScreen #pending-title { text-style: bold; }
    """

    def __init__(self, actor: Actor) -> None:
        super().__init__()
        self.actor = actor

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("No access yet", id="pending-title")
            yield Static(denial(self.actor, Operation.VIEW) or "")
            yield Static("\nPress q to quit.")


class StoppedScreen(ModalScreen[None]):
    """Nothing more may be done in this process (the store's key was rotated elsewhere):
    the sentence and its remedy, and q."""

    BINDINGS = [Binding("q", "app.exit", "Quit")]
    DEFAULT_CSS = """
    StoppedScreen { align: center middle; }
    StoppedScreen > Vertical { width: 80; max-width: 95%; height: auto; border: thick $error; padding: 1 2; background: $surface; }
    StoppedScreen #stopped-title { text-style: bold; }
    """

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="stopped-title", markup=False)
            yield Static(self.text, id="stopped-text", markup=False)
            yield Static("\nPress q to quit, then start jumpdeck again.")
