"""Keys typed ahead land where they were typed.

Textual hands each key the app reads to the widget focused at that moment, by putting it
in that widget's queue; the widget, its parents and finally the app's own bindings
handle it later. A key that moves the focus (Tab, a key that opens a form, Enter that
closes one) therefore takes effect only after the keys behind it have already been
handed to the old widget. Over a lagging SSH link keys arrive in bursts: `postgres` Tab
`S3cretPW` put the password in clear in the Login field.

So the app hands over one key at a time: behind each key it posts a `KeySettled` marker
to the same widget. The marker bubbles up the same path the key takes (widget, parents,
screen, app), so it reaches the app only once the key has been handled all the way up,
bindings and actions included. Keys that arrive meanwhile wait here, in order. When the
key changed the screen, the marker goes round the new screen once more, so the next key
finds the form's first field focused. A marker that never comes back (its widget was
removed with the key still in its queue) is given up on after `SETTLE_TIMEOUT`, and the
keys flow on as Textual would send them.

Only public Textual API is used: `App.on_event`, `Event.is_forwarded`, `post_message`
and a `Message` that bubbles.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
    from textual.events import Event
    from textual.message_pump import MessagePump
    from textual.screen import Screen

SETTLE_TIMEOUT = 1.0


class KeySettled(Message):
    """Behind a key in its widget's queue; back at the app once the key is handled."""

    def __init__(self, ticket: int, screen: Screen, recheck: bool) -> None:
        super().__init__()
        self.ticket = ticket
        self.screen = screen  # the screen when the key was handed over
        self.recheck = recheck  # whether a changed screen still gets its own round


class KeysInOrder:
    """The app's queue of keys waiting for the one in flight."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.held: deque[Event] = deque()
        self.ticket = 0  # the key in flight; 0 when none is
        self._count = 0

    @property
    def busy(self) -> bool:
        return self.ticket != 0

    def hold(self, event: Event) -> None:
        self.held.append(event)

    def sent(self, target: MessagePump, screen: Screen) -> None:
        """A key was just handed to `target` (or handled by a priority binding)."""
        self._count += 1
        self.ticket = self._count
        target.post_message(KeySettled(self.ticket, screen, recheck=True))
        ticket = self.ticket
        self.app.set_timer(SETTLE_TIMEOUT, lambda: self._timed_out(ticket), name="typeahead")

    def settled(self, message: KeySettled) -> Event | None:
        """The marker is back: the next key to hand over, if any (None also when the
        marker was sent round a new screen once more, or is stale)."""
        if message.ticket != self.ticket:
            return None
        screen = self.app.screen
        if message.recheck and screen is not message.screen:
            screen.post_message(KeySettled(self.ticket, screen, recheck=False))
            return None
        return self._next()

    def _timed_out(self, ticket: int) -> None:
        if ticket == self.ticket:
            nxt = self._next()
            if nxt is not None:
                self.app.post_message(HeldKey(nxt))

    def _next(self) -> Event | None:
        self.ticket = 0
        return self.held.popleft() if self.held else None


class HeldKey(Message):
    """A held key whose marker never came back: hand it over now."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
