"""The base of every jumpdeck screen: the shared header on top, the footer below,
and helpers for running core calls with errors shown as sentences."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.screen import Screen

from jumpdeck.tui.widgets.fit_footer import FitFooter
from jumpdeck.tui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from jumpdeck.core.context import Context

T = TypeVar("T")


class StoreWatching:
    """For a screen that shows store data: `watch_store` keeps it current with what any
    process commits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._store_watches: list[Callable[[], None]] = []
        # Topics that changed while another screen (or a dialog) was on top: caught up
        # on resume, so a screen nobody looks at reads nothing.
        self._missed: dict[Callable[[frozenset[str]], Any], set[str]] = {}

    def watch_store(self, topics: Iterable[str], callback: Callable[[frozenset[str]], Any]) -> None:
        """Call `callback(changed)` when another process (or this one) commits to any of
        `topics` (table names, core/store/announcers.py), while this screen is shown;
        ended when the screen goes."""
        def arrived(changed: frozenset[str]) -> None:
            if self.is_current:
                callback(changed)
            else:
                self._missed.setdefault(callback, set()).update(changed)

        self._store_watches.append(self.ctx.changes().subscribe(topics, arrived))

    @on(events.ScreenResume)
    def _catch_up(self) -> None:
        missed, self._missed = self._missed, {}
        for callback, changed in missed.items():
            callback(frozenset(changed))

    @on(events.Unmount)
    def _end_store_watches(self) -> None:
        for cancel in self._store_watches:
            cancel()
        self._store_watches.clear()


class JumpdeckScreen(StoreWatching, Screen):
    """Subclasses set `TITLE` and implement `compose_body()`."""

    TITLE = "jumpdeck"

    @property
    def ctx(self) -> Context:
        ctx = getattr(self.app, "ctx", None)
        assert ctx is not None, "screens are installed only after the context is open"
        return ctx

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE)
        yield from self.compose_body()
        yield FitFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        """Focus after a dialog closes: a shown widget, or none. Textual's own choice
        (its auto-focus, run right after this handler) takes the first focusable widget
        in DOM order even when it is not displayed: on the Servers screen with no server
        shown (the grid hidden, nothing focused) that was the hidden search box, and
        every key after `?` + esc or ctrl+p + esc was typed into it unseen, `q` too.
        With nothing shown to focus, keys go to the screen's and the app's bindings.
        Set here, not on the class, so a screen's first focus on compose stays Textual's."""
        self.AUTO_FOCUS = ""  # this handler chooses from now on
        if self.focused is None:
            shown = self.focus_chain  # displayed widgets only
            if shown:
                self.set_focus(shown[0])

    def copy_text(self) -> str | None:
        return None

    def running_work(self) -> list[str]:
        return []

    def disabled_reason(self, action: str) -> str | None:
        """Why a binding's action is unavailable (shown in the `?` help)."""
        return None

    async def call_core(self, call: Callable[[], Awaitable[T]], *, success: str | None = None) -> T | None:
        """Await a core call; show its JumpdeckError as a notification sentence.
        Returns None when it failed (the sentence is already on screen)."""
        from jumpdeck.core.errors import JumpdeckError

        try:
            result = await call()
        except JumpdeckError as error:
            self.notify(str(error), title=error.title, severity="error", timeout=8)
            return None
        if success:
            self.notify(success, timeout=4)
        return result


def notify_error(widget: Any, error: BaseException) -> None:
    from jumpdeck.core.errors import JumpdeckError

    title = error.title if isinstance(error, JumpdeckError) else "Unexpected error"
    widget.notify(str(error), title=title, severity="error", timeout=8)
