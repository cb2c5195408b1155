"""SSH sessions: who is connected through `jumpdeck serve-ssh` right now (user,
address, since, idle), and ending one. Admin only; core enforces it too.

The sessions live in the serve-ssh server process; this screen asks it over the
control socket in the data dir (`jumpdeck.core.serve.control`). It refreshes every 15 s but
repaints only when a shown value changed (idle is shown in whole minutes), so an idle
admin session sends next to nothing over a thin link."""

from __future__ import annotations

from datetime import datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from jumpdeck.core.identity import Operation, can, denial
from jumpdeck.tui.plain import cells
from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.styles import stylesheet

REFRESH_SECONDS = 15.0
ADMIN_ACTIONS = {"end"}


def idle_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def since_text(since: datetime) -> str:
    local = since.astimezone()
    return f"{local:%Y-%m-%d %H:%M}"


class SessionsScreen(JumpdeckScreen):
    TITLE = "SSH sessions"
    CSS_PATH = stylesheet(__package__, "sessions.tcss")
    BINDINGS = [
        Binding("x", "end", "End session", id="sessions.end"),
        Binding("r", "reload", "Reload", id="sessions.reload"),
        Binding("escape", "close", "Back", id="sessions.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list = []
        self._shown: tuple = ()

    def compose_body(self) -> ComposeResult:
        yield Static("", id="sessions-note")
        yield DataTable(id="sessions-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="sessions-status", markup=False)  # may hold an error's words

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key, width in (("#", "id", 4), ("User", "user", 18), ("Address", "address", 16),
                                  ("Since", "since", 16), ("Idle", "idle", 10), ("Key", "key", None)):
            table.add_column(label, key=key, width=width)
        note = self.query_one("#sessions-note", Static)
        reason = denial(self.ctx.actor, Operation.MANAGE_SESSIONS)
        note.update(reason or "")
        note.display = reason is not None
        table.focus()
        if reason is None:
            self.reload()
            # A session opening or ending shows at once (the relay's "sessions" news in a
            # serve-ssh session); the idle column moves with the slow refresh.
            self.watch_store({"sessions"}, lambda _changed: self.reload())
            self.set_interval(REFRESH_SECONDS, self.reload)

    @work(exclusive=True, group="sessions-load", exit_on_error=False)
    async def reload(self) -> None:
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.serve.control import list_sessions

        status = self.query_one("#sessions-status", Static)
        try:
            sessions = await list_sessions(self.app.config, self.ctx.actor)
        except JumpdeckError as error:
            status.update(str(error))
            return
        if sessions is None:
            self.sessions = []
            self._show([])
            status.update("No serve-ssh server is running on this data dir. Start one with `jumpdeck serve-ssh`.")
            return
        self.sessions = sessions
        self._show([(s.id, s.user, s.address, since_text(s.since), idle_text(s.idle_seconds), s.fingerprint)
                    for s in sessions])
        users = len({s.user for s in sessions})
        status.update(f"{len(sessions)} session{'s' if len(sessions) != 1 else ''} of {users} "
                      f"user{'s' if users != 1 else ''} · x ends the selected one")
        self.refresh_bindings()

    def _show(self, rows: list[tuple]) -> None:
        if tuple(rows) == self._shown:
            return  # nothing visible changed: do not repaint
        self._shown = tuple(rows)
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in rows:
            table.add_row(*cells([str(row[0]), *row[1:]]), key=str(row[0]))
        if rows:
            table.move_cursor(row=min(max(cursor, 0), len(rows) - 1))

    def _selected(self):  # noqa: ANN202
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.sessions):
            return self.sessions[table.cursor_row]
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ADMIN_ACTIONS and not can(self.ctx.actor, Operation.MANAGE_SESSIONS):
            return None
        return True

    def disabled_reason(self, action: str) -> str | None:
        return denial(self.ctx.actor, Operation.MANAGE_SESSIONS) if action in ADMIN_ACTIONS else None

    def copy_text(self) -> str | None:
        session = self._selected()
        return session.fingerprint if session else None

    def action_reload(self) -> None:
        self.reload()

    def action_close(self) -> None:
        self.dismiss()

    def action_end(self) -> None:
        session = self._selected()
        if session is None:
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        async def answer(yes: bool | None) -> None:
            if yes:
                self._end(session.id)

        self.app.push_screen(ConfirmScreen(
            "End session?", f"End session {session.id} of {session.user} from {session.address}? "
            "Their jumpdeck closes at once and they read that an admin ended it.", confirm_label="End"), answer)

    @work(group="sessions-end", exit_on_error=False)
    async def _end(self, session_id: int) -> None:
        from jumpdeck.core.serve.control import end_session

        ended = await self.call_core(lambda: end_session(self.app.config, self.ctx.actor, session_id))
        if ended is not None:
            self.notify(f"Ended session {ended.id} of {ended.user}.", timeout=4)
        self.reload()
