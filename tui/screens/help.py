"""`?`: every key of the current screen, including the ones not in the footer, and why
a disabled one is disabled."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("question_mark", "dismiss", "Close", show=False)]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 84; max-width: 98%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    HelpScreen #help-title { text-style: bold; padding: 0 0 1 0; }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-foot { color: $text-muted; }
    """

    def __init__(self, title: str, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows

    @classmethod
    def for_screen(cls, screen: Screen, app: App) -> "HelpScreen":
        rows: list[tuple[str, str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        shown_keys: set[str] = set()
        reason_of = getattr(screen, "disabled_reason", lambda action: None)
        # The screen's own keys first, then the app's, then the focused widget's navigation.
        inherited = {binding.action for binding in Screen.BINDINGS}  # focus next/previous, copy

        def rank(active) -> int:  # noqa: ANN001
            if active.node is screen and active.binding.action not in inherited:
                return 0
            return 1 if active.node is app else 2

        own = {b.key for b in getattr(type(screen), "BINDINGS", ()) if isinstance(b, Binding) and b.description}
        for key, active in sorted(screen.active_bindings.items(), key=lambda item: rank(item[1])):
            binding = active.binding
            if active.node is not screen and active.node is not app and key in own:
                continue  # a table's enter "Select": the screen says what selecting does here
            if not binding.description or (binding.action, binding.description) in seen:
                continue
            seen.add((binding.action, binding.description))
            display = binding.key_display or app.get_key_display(binding)
            state = ""
            if not active.enabled:
                state = reason_of(binding.action) or "not available here"
            rows.append((display, binding.description, binding.id or "", state))
            shown_keys.add(key)
        # The screen's own keys that the focused widget shadows (enter on a table) still
        # do what they say there, and keys a screen handles outside its bindings.
        for binding in getattr(type(screen), "BINDINGS", ()):
            if isinstance(binding, Binding) and binding.description and binding.key not in shown_keys \
                    and (binding.action, binding.description) not in seen:
                seen.add((binding.action, binding.description))
                rows.insert(0, (binding.key_display or app.get_key_display(binding), binding.description,
                                binding.id or "", ""))
        for key, does in getattr(screen, "HELP_EXTRA", ()):
            rows.insert(0, (key, does, "", ""))
        title = getattr(screen, "TITLE", "jumpdeck")
        return cls(f"Keys — {title}", rows)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="help-title")
            table = DataTable(cursor_type="row", zebra_stripes=True)
            # The id is what config.toml's [keymap] rebinds (README "Keys").
            table.add_columns("Key", "Does", "Id", "Note")
            for row in self.rows:
                table.add_row(*row)
            yield table
            yield Static("1-8 switch screens · ctrl+p command palette · esc closes dialogs · q quits", id="help-foot")

    def on_mount(self) -> None:
        # Arrows and page keys scroll the list at once, without a Tab first.
        self.query_one(DataTable).focus()
