"""Dialogs of the Maintenance screen: the restore confirmation (typed file name) and
the year-end rollover wizard with the seed's checklist."""

from __future__ import annotations

import time

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from jumpdeck.core.identity import Operation, can, denial


class RestoreDialog(ModalScreen[bool]):
    """Confirms a restore only when the backup's file name is typed exactly (k9s style)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    RestoreDialog { align: center middle; }
    RestoreDialog > Vertical { width: 76; max-width: 98%; height: auto; border: thick $error; padding: 1 2; background: $surface; }
    RestoreDialog .title { text-style: bold; margin-bottom: 1; }
    RestoreDialog Input { margin-top: 1; }
    RestoreDialog Horizontal { height: auto; margin-top: 1; align: right middle; }
    RestoreDialog Button { margin-left: 1; }
    """

    def __init__(self, backup_name: str, target_name: str) -> None:
        super().__init__()
        self.backup_name = backup_name
        self.target_name = target_name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Restore {self.target_name}?", classes="title")
            yield Static(f"{self.target_name} will be replaced by {self.backup_name} after an integrity_check; "
                         f"the current file is kept as {self.target_name}.broken-<timestamp>.\n"
                         "Type the backup's file name to confirm:", markup=False)
            field = Input(placeholder=self.backup_name, id="restore-confirm")
            field.cursor_blink = self.app.config.cursor_blink
            yield field
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Restore", id="confirm", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value.strip() != self.backup_name

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.backup_name:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)


class RolloverWizard(ModalScreen[bool]):
    """Plan (dry run) then run the rollover; each checklist item ticks when verified."""

    BINDINGS = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    RolloverWizard { align: center middle; }
    RolloverWizard > Vertical { width: 96; max-width: 98%; height: auto; max-height: 95%; border: thick $primary; padding: 0 1; background: $surface; }
    RolloverWizard .title { text-style: bold; }
    RolloverWizard #rw-year-row { height: auto; margin-top: 1; }
    RolloverWizard #rw-year-row Static { width: auto; }
    RolloverWizard #rw-year { width: 8; }
    RolloverWizard #rw-plan, RolloverWizard #rw-checklist, RolloverWizard #rw-result { height: auto; margin-top: 1; }
    RolloverWizard Button { margin-left: 1; min-width: 0; width: auto; padding: 0 1; }
    """

    def __init__(self, default_year: int | None = None) -> None:
        super().__init__()
        self.default_year = default_year or time.localtime().tm_year
        self.state: dict[str, str] = {}
        self.running = False
        self.finished = False

    def compose(self) -> ComposeResult:
        from jumpdeck.core.maintenance.rollover import CHECKLIST

        with Vertical():
            yield Static("Year-end archive rollover (seed §8)", classes="title")
            with Horizontal(id="rw-year-row"):
                # Short enough that the year and both buttons share a row at 60 columns.
                yield Static("Live DB keeps from ")
                year = Input(str(self.default_year), id="rw-year", type="integer", compact=True)
                year.cursor_blink = self.app.config.cursor_blink
                yield year
                yield Button("Plan", id="rw-plan-button", compact=True)
                yield Button("Run rollover", id="rw-run", variant="error", compact=True, disabled=True)
            yield Static("Plan first: a dry run shows the rows that move, with counts.", id="rw-plan", markup=False)
            yield Static(self._checklist_text(CHECKLIST), id="rw-checklist", markup=False)
            yield Static("", id="rw-result", markup=False)

    def _checklist_text(self, checklist: dict[str, str]) -> str:
        marks = {"done": "[x]", "running": "[~]", "failed": "[!]", "rolled back": "[<]"}
        return "\n".join(f"{marks.get(self.state.get(name, ''), '[ ]')} {text}" for name, text in checklist.items())

    def _year(self) -> int | None:
        try:
            return int(self.query_one("#rw-year", Input).value)
        except ValueError:
            self.notify("Type a year such as 2027.", severity="warning")
            return None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "rw-plan-button":
            year = self._year()
            if year:
                self.plan(year)
        elif event.button.id == "rw-run":
            year = self._year()
            if year:
                self.run_rollover(year)

    @work(exclusive=True, group="rollover-plan")
    async def plan(self, year: int) -> None:
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.maintenance.rollover import dry_run

        try:
            plan = await dry_run(self.app.ctx, year)
        except JumpdeckError as error:
            self.query_one("#rw-plan", Static).update(str(error))
            return
        self.query_one("#rw-plan", Static).update("\n".join(plan.lines()))
        actor = self.app.ctx.actor
        run = self.query_one("#rw-run", Button)
        run.disabled = not can(actor, Operation.ARCHIVE_ROLLOVER)
        if run.disabled:
            self.query_one("#rw-result", Static).update(denial(actor, Operation.ARCHIVE_ROLLOVER) or "")

    @work(exclusive=True, group="work", name="archive rollover")
    async def run_rollover(self, year: int) -> None:
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.maintenance import rollover

        self.running = True
        self.query_one("#rw-run", Button).disabled = True
        result = self.query_one("#rw-result", Static)
        checklist = self.query_one("#rw-checklist", Static)
        try:
            async for event in rollover.rollover(self.app.ctx, year):
                if isinstance(event, rollover.RolloverStep):
                    self.state[event.name] = event.status
                    checklist.update(self._checklist_text(rollover.CHECKLIST))
                    if event.detail:
                        result.update(f"{event.name}: {event.detail}")
                else:
                    result.update(f"Rollover to {year} complete: {event.total_before:,} rows before, {event.total_after:,} after.")
                    self.finished = True
        except JumpdeckError as error:
            result.update(str(error))
        finally:
            self.running = False

    def action_close(self) -> None:
        if self.running:
            self.notify("The rollover is running; it can't be left half done. Wait for it to finish.", severity="warning")
            return
        self.dismiss(self.finished)
