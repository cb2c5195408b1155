"""The header every screen shows: identity, role, store (with the degraded banner),
the system notice. No clock: an idle screen over SSH should send nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from jumpdeck.core.identity import is_local_origin


class StatusHeader(Widget):
    DEFAULT_CSS = """
    StatusHeader {
        dock: top;
        height: auto;
        width: 100%;
    }
    StatusHeader > Horizontal {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    StatusHeader #hdr-title { width: auto; padding: 0 1; background: $primary; color: $text; text-style: bold; }
    StatusHeader #hdr-screen { width: auto; padding: 0 1; text-style: bold; }
    StatusHeader #hdr-identity { width: 1fr; padding: 0 1; color: $text-muted; text-align: right; }
    StatusHeader .banner { height: auto; width: 100%; padding: 0 1; display: none; }
    StatusHeader .banner.-shown { display: block; }
    StatusHeader #hdr-degraded { background: $error; color: $text; text-style: bold; }
    StatusHeader #hdr-notice { background: $warning 30%; color: $text; }
    """

    def __init__(self, screen_title: str) -> None:
        super().__init__()
        self.screen_title = screen_title

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("jumpdeck", id="hdr-title")
            yield Static(self.screen_title, id="hdr-screen")
            # Plain text: a user name, a store URL, a degraded reason and the admin's
            # notice are data, and markup would eat their brackets.
            yield Static("", id="hdr-identity", markup=False)
        yield Static("", id="hdr-degraded", classes="banner", markup=False)
        yield Static("", id="hdr-notice", classes="banner", markup=False)

    def on_mount(self) -> None:
        signal = getattr(self.app, "header_signal", None)
        if signal is not None:
            signal.subscribe(self, lambda _: self.refresh_info())
        self.refresh_info()

    def refresh_info(self) -> None:
        ctx = getattr(self.app, "ctx", None)
        identity = self.query_one("#hdr-identity", Static)
        degraded = self.query_one("#hdr-degraded", Static)
        notice_widget = self.query_one("#hdr-notice", Static)
        if ctx is None:
            identity.update("opening store…")
            return
        actor = ctx.actor
        store = ctx.store
        where = "local SQLite" if store.kind == "sqlite" else store.url_display
        origin = "" if is_local_origin(actor.origin) else f" · {actor.origin}"
        demo = " · DEMO" if ctx.config.demo else ""
        identity.update(f"{actor.user} ({actor.role.value}{'' if actor.status.value == 'active' else ', ' + actor.status.value}){origin} · {where}{demo}")
        reason = store.degraded_reason
        degraded.update(reason[0].upper() + reason[1:] + "." if reason else "")
        degraded.set_class(store.degraded, "-shown")
        notice = getattr(self.app, "notice", "")
        notice_widget.update(f"Notice: {notice}" if notice else "")
        notice_widget.set_class(bool(notice), "-shown")
