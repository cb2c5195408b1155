"""One SSH session in the UI: a Terminal plus the connection's life cycle.

Connect once the terminal has a real size, ask about unknown host keys through a
message (the screen shows the dialog and answers with `answer_host_key`), pump output
into the terminal, and report the end with the exit status. Errors are written into the
terminal as one red sentence, so a failed tab still says why.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget

from jumpdeck.tui.widgets.terminal import Terminal


class SshPane(Widget):
    DEFAULT_CSS = """
    SshPane { width: 1fr; height: 1fr; }
    """

    class StateChanged(Message):
        def __init__(self, pane: "SshPane") -> None:
            super().__init__()
            self.pane = pane

        @property
        def control(self) -> "SshPane":
            return self.pane

    class HostKeyQuestion(Message):
        """An unknown host key: show `offer.fingerprint` and call `pane.answer_host_key(yes)`."""

        def __init__(self, pane: "SshPane", offer) -> None:
            super().__init__()
            self.pane, self.offer = pane, offer

        @property
        def control(self) -> "SshPane":
            return self.pane

    class Activity(Message):
        """Output arrived (the screen marks background tabs)."""

        def __init__(self, pane: "SshPane") -> None:
            super().__init__()
            self.pane = pane

        @property
        def control(self) -> "SshPane":
            return self.pane

    def __init__(self, target, policy, *, connect_timeout: float = 10.0, scrollback: int = 5000,
                 audit=None, id: str | None = None) -> None:
        super().__init__(id=id)
        # async audit(action, target_id, detail): the screen records opens and trusted keys.
        self.audit = audit
        self.target = target
        self.policy = policy
        self.connect_timeout = connect_timeout
        self.terminal = Terminal(scrollback=scrollback)
        self.state = "waiting"  # waiting, connecting, confirm, live, finished, failed
        self.exit_status: int | None = None
        self.exit_signal: str | None = None
        self.error: str | None = None
        self.background = False  # set by the screen when another tab is shown
        self.marked = False  # output arrived while in the background
        self._offer = None
        self._conn = None
        self._session = None

    def compose(self) -> ComposeResult:
        yield self.terminal

    @property
    def is_live(self) -> bool:
        return self.state in ("connecting", "confirm", "live")

    @property
    def status_text(self) -> str:
        if self.state == "finished":
            if self.exit_signal:
                return f"ended by signal {self.exit_signal}"
            if self.exit_status is None:
                return "connection closed"
            return f"exited with status {self.exit_status}"
        return {"waiting": "waiting", "connecting": "connecting", "confirm": "host key?",
                "live": "live", "failed": "failed"}[self.state]

    def _set_state(self, state: str) -> None:
        self.state = state
        self.post_message(self.StateChanged(self))

    def _say(self, text: str, colour: int = 31) -> None:
        self.terminal.feed_now(f"\r\n\x1b[{colour}m{text}\x1b[0m\r\n".encode())

    async def _sized_or_soon(self) -> None:
        """Wait (briefly) for the terminal's real size before writing a message into it:
        written into the emulator's first 80x24, a long error stayed wrapped at 80
        columns in a 120-column pane."""
        import asyncio

        try:
            await asyncio.wait_for(self._sized.wait(), 2.0)
        except asyncio.TimeoutError:
            pass

    def on_mount(self) -> None:
        import asyncio

        self._sized = asyncio.Event()
        self._start()  # log in now; the PTY waits for the terminal's real size

    def on_terminal_ready(self, event: Terminal.Ready) -> None:
        event.stop()
        self._sized.set()

    def _start(self) -> None:
        self._worker = self.run_worker(self._run(), name=f"ssh {self.target.label}", group=f"ssh-{id(self)}",
                                       exclusive=True)

    def answer_host_key(self, accepted: bool) -> None:
        if self.state != "confirm" or self._offer is None:
            return
        if not accepted:
            self.error = "The host key was not confirmed; jumpdeck did not connect."
            self._say(self.error)
            self._set_state("failed")
            return
        from jumpdeck.core.ssh import trust_host_key

        trust_host_key(self._offer, self.policy.store)
        self._say(f"Stored {self._offer.fingerprint} in {self.policy.store}.", 32)
        self._trusted = self._offer  # audited by the next run
        self._start()

    async def _run(self) -> None:
        from jumpdeck.core.ssh import HostKeyUnknown, SshError, connect

        self._set_state("connecting")
        trusted, self._trusted = getattr(self, "_trusted", None), None
        if trusted is not None and self.audit is not None:
            await self.audit("SSH_TRUST_HOST_KEY", trusted.pattern, trusted.fingerprint)
        try:
            self._conn = await connect(self.target, self.policy, timeout=self.connect_timeout)
            # A tab opened in the background has no size yet: its PTY opens when it is shown.
            await self._sized.wait()
            screen = self.terminal.emulator.screen
            self._session = await self._conn.open_terminal(screen.columns, screen.lines)
        except HostKeyUnknown as unknown:
            self._offer = unknown.offer
            await self._sized_or_soon()
            self._say(str(unknown), 33)
            self._set_state("confirm")
            self.post_message(self.HostKeyQuestion(self, unknown.offer))
            return
        except SshError as error:
            self.error = str(error)
            await self._sized_or_soon()
            self._say(self.error)
            self._set_state("failed")
            return
        self.terminal.attach(self._session)
        self._set_state("live")
        if self.audit is not None:
            await self.audit("SSH_OPEN", self.target.label, f"auth: {self.target.auth.kind}")
        session = self._session
        async for chunk in session.output():
            await self.terminal.feed(chunk, backlog=session.pending > 0)
            if self.background and not self.marked:  # one message per mark, not per chunk
                self.marked = True
                self.post_message(self.Activity(self))
        await session.wait_closed()
        self.terminal.detach()
        self.exit_status, self.exit_signal = session.exit_status, session.exit_signal
        self._conn.close()
        self.state = "finished"  # before status_text, which reads it
        self._say(f"[{self.status_text}]", 2)
        self._set_state("finished")

    def close(self) -> None:
        """End the session (the screen asks first when it is live)."""
        if self._session is not None:
            self._session.close()
        if self._conn is not None:
            self._conn.close()
        worker = getattr(self, "_worker", None)
        if worker is not None:
            worker.cancel()  # this pane's worker only: the other tabs keep running
