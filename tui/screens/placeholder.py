"""Stands in for a screen whose capability has not landed yet: it says what is coming
and does not pretend to work."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from jumpdeck.tui.screens.base import JumpdeckScreen


class PlaceholderScreen(JumpdeckScreen):
    DEFAULT_CSS = """
    PlaceholderScreen #placeholder { padding: 2 4; height: auto; }
    PlaceholderScreen #placeholder-title { text-style: bold; }
    PlaceholderScreen #placeholder-text { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str, coming: str) -> None:
        self.TITLE = title
        self.coming = coming
        super().__init__()

    def compose_body(self) -> ComposeResult:
        with Vertical(id="placeholder"):
            yield Static(f"{self.TITLE} is not built yet.", id="placeholder-title")
            yield Static(f"Coming here: {self.coming}\n\nOther screens: press 1-8, or ctrl+p for the command palette.",
                         id="placeholder-text")
