"""The SSH screen: tabs of embedded terminals.

Other screens open a session with `await open_ssh_session(app, target)` (a
`core.ssh.SshTarget`): it switches to this screen and adds a tab. `jumpdeck ssh` does
the same before the app starts, through `app.ssh_pending`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Static, Tab, Tabs

from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.styles import stylesheet

if TYPE_CHECKING:  # pyte (~0.1 s to import) loads with the first session, not at start-up
    from jumpdeck.tui.widgets.ssh_pane import SshPane
    from jumpdeck.tui.widgets.terminal import Terminal


class SessionTabs(Tabs):
    """The SSH screen's tab bar. It shows the chosen session itself, in its own message
    handler: a TabActivated bubbling up to the screen waits one turn of the event loop
    per widget it crosses, and during a flood of output each turn may include a repaint
    of the whole screen (bench/terminal.py measured tab switches of 100-200 ms)."""

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        screen = self.screen
        if isinstance(screen, SshScreen):
            event.stop()
            screen.show_tab(event.tab)


async def open_ssh_session(app, target) -> None:
    """Open `target` in a new tab of the SSH screen and show it (for any screen or launcher)."""
    app.ssh_pending = [*getattr(app, "ssh_pending", []), target]
    await app.run_action("switch('ssh')")
    if isinstance(app.screen, SshScreen):
        await app.screen.open_pending()


class SshScreen(JumpdeckScreen):
    TITLE = "SSH"
    CSS_PATH = stylesheet(__package__, "ssh.tcss")

    BINDINGS = [
        Binding("n", "new", "New session", id="ssh.new"),
        Binding("enter,i", "enter_terminal", "Type in terminal", id="ssh.enter"),
        Binding("w", "close_tab", "Close tab", id="ssh.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._panes: dict[str, SshPane] = {}
        self._counter = 0

    def compose_body(self) -> ComposeResult:
        with Vertical(id="ssh-body"):
            yield SessionTabs(id="ssh-tabs")
            with ContentSwitcher(id="ssh-switcher", initial="ssh-empty"):
                yield Static("No SSH session yet.\n\nPress n to connect, or press s on a server card, a Monitor "
                             "row or a provisioning run, or start with `jumpdeck ssh [USER@]HOST`.\n\n"
                             "Inside a terminal every key goes to the remote side; ctrl+] brings you back here.",
                             id="ssh-empty")

    def on_mount(self) -> None:
        # After the first refresh: the Tabs widget has composed its tab list by then.
        self.call_after_refresh(self.open_pending)

    # --------------------------------------------------------------- opening
    def _policy(self):
        from jumpdeck.core.ssh import HostKeyPolicy

        return HostKeyPolicy.for_config(self.app.config)

    async def _audit(self, action: str, target_id: str, detail: str) -> None:
        """Activity log rows for session opens and trusted host keys (never a secret)."""
        ctx = getattr(self.app, "ctx", None)
        if ctx is not None:
            await ctx.activity.record(ctx.actor, action, "SSH_HOST", target_id, detail)

    async def open_pending(self) -> None:
        pending = getattr(self.app, "ssh_pending", None) or []
        self.app.ssh_pending = []
        for target in pending:
            await self.open_session(target)

    async def _resolve(self, target):
        """The pool's stored password for a pool VM, decided in core (None: refused, said why)."""
        ctx = getattr(self.app, "ctx", None)
        if ctx is None or target.auth.kind not in ("agent", "stored"):
            return target
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.provision.pool import Pool
        from jumpdeck.core.ssh.stored import with_stored_password
        from jumpdeck.tui.screens.base import notify_error

        try:
            resolved = await with_stored_password(Pool(ctx.store, ctx.secrets), ctx.actor, target)
        except JumpdeckError as error:
            notify_error(self, error)
            return None
        if resolved.note:
            self.notify(resolved.note, timeout=6)
        return resolved.target

    async def open_session(self, target) -> "SshPane | None":
        """Add a tab for `target`, connect it, and put the keyboard in its terminal."""
        from jumpdeck.tui.widgets.ssh_pane import SshPane

        resolved = await self._resolve(target)
        if resolved is None:
            return None
        target = resolved
        self._counter += 1
        pane_id = f"ssh-pane-{self._counter}"
        pane = SshPane(target, self._policy(), audit=self._audit, id=pane_id)
        self._panes[pane_id] = pane
        await self.query_one(ContentSwitcher).mount(pane)
        tabs = self.query_one(Tabs)
        await tabs.add_tab(Tab(self._label(pane), id=f"tab-{pane_id}"))
        tabs.active = f"tab-{pane_id}"
        self.query_one(ContentSwitcher).current = pane_id
        self.call_after_refresh(pane.terminal.focus)
        return pane

    @property
    def active_pane(self) -> "SshPane | None":
        current = self.query_one(ContentSwitcher).current
        return self._panes.get(current or "")

    def panes(self) -> "list[SshPane]":
        return list(self._panes.values())

    # --------------------------------------------------------------- labels
    def _label(self, pane: "SshPane", *, activity: bool = False):
        from textual.content import Content  # plain text: "[failed]" is not markup

        return Content(self._label_text(pane, activity=activity))

    def _label_text(self, pane: "SshPane", *, activity: bool = False) -> str:
        label = pane.target.label
        if pane.state == "finished":
            label += f" [{pane.exit_status if pane.exit_status is not None else pane.exit_signal or 'closed'}]"
        elif pane.state == "failed":
            label += " [failed]"
        elif pane.state == "confirm":
            label += " [?]"
        if activity:
            label += " •"
        return label

    def _relabel(self, pane: "SshPane", *, activity: bool = False) -> None:
        try:
            tab = self.query_one(f"#tab-{pane.id}", Tab)
        except Exception:
            return
        tab.label = self._label(pane, activity=activity)

    def on_ssh_pane_state_changed(self, event: "SshPane.StateChanged") -> None:
        self._relabel(event.pane, activity=event.pane.marked)

    def on_ssh_pane_activity(self, event: "SshPane.Activity") -> None:
        if event.pane.background:
            self._relabel(event.pane, activity=True)

    def on_ssh_pane_host_key_question(self, event: "SshPane.HostKeyQuestion") -> None:
        from jumpdeck.tui.screens.ssh_dialogs import HostKeyDialog

        pane = event.pane
        self.app.push_screen(HostKeyDialog(event.offer, pane.policy.store),
                             lambda accepted: pane.answer_host_key(bool(accepted)))

    def show_tab(self, tab: Tab | None) -> None:
        if tab is None:
            self.query_one(ContentSwitcher).current = "ssh-empty"
            return
        pane_id = tab.id.removeprefix("tab-")
        pane = self._panes.get(pane_id)
        if pane is None:
            return
        self.query_one(ContentSwitcher).current = pane_id
        for other in self._panes.values():
            other.background = other is not pane
        if pane.marked:
            pane.marked = False
            self._relabel(pane)

    def on_terminal_released(self, event: "Terminal.Released") -> None:
        self.query_one(Tabs).focus()

    # --------------------------------------------------------------- actions
    def action_new(self) -> None:
        from jumpdeck.tui.screens.ssh_dialogs import ConnectDialog

        async def chosen(target) -> None:
            if target is not None:
                await self.open_session(target)

        self.app.push_screen(ConnectDialog(cursor_blink=self.app.config.cursor_blink), chosen)

    def action_enter_terminal(self) -> None:
        pane = self.active_pane
        if pane is not None:
            pane.terminal.focus()

    def action_close_tab(self) -> None:
        pane = self.active_pane
        if pane is None:
            return
        if not pane.is_live:
            self._remove(pane)
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self._remove(pane)

        self.app.push_screen(ConfirmScreen("Close this session?",
                                           f"{pane.target.label} is still connected. Closing ends its shell.",
                                           confirm_label="Close"), answer)

    def _remove(self, pane: "SshPane") -> None:
        pane.close()
        self._panes.pop(pane.id, None)
        self.query_one(Tabs).remove_tab(f"tab-{pane.id}")
        pane.remove()
        if not self._panes:
            self.query_one(ContentSwitcher).current = "ssh-empty"

    # ------------------------------------------------------------ app hooks
    def running_work(self) -> list[str]:
        return [f"SSH session {p.target.label}" for p in self._panes.values() if p.is_live]

    def copy_text(self) -> str | None:
        pane = self.active_pane
        if pane is None:
            return None
        return "\n".join(pane.terminal.text_lines()).rstrip() or None

    def disabled_reason(self, action: str) -> str | None:
        if action in ("close_tab", "enter_terminal") and not self._panes:
            return "No session is open."
        return None
