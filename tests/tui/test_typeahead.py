"""Keys typed ahead land where they were typed: a burst that arrives all at once (as keys
typed during a lag arrive over SSH) is handled key by key, each after the focus change
the one before made (tui/typeahead.py). The keys are posted to the app in one go, with
no pause between them, the way a terminal driver hands a burst over."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tests.tui.servers_fixtures import fleet_config  # noqa: F401
from tests.tui.test_servers_screen import make, servers_screen
from jumpdeck.tui.screens.server_form import ServerForm


NAMED = {"tab", "shift+tab", "enter", "escape", "question_mark", "backspace", "space"}


def burst(app, *keys: str) -> None:
    """Every key at once, before any is handled: a named key, or a string typed char by char."""
    for key in keys:
        for name in ([key] if key in NAMED else list(key)):
            char = {"question_mark": "?", "enter": "\r", "space": " ", "tab": "\t"}.get(name, name if len(name) == 1 else None)
            app.post_message(events.Key(name, char))


async def settle(pilot) -> None:
    for _ in range(20):
        await pilot.pause(0.02)


async def test_a_burst_opens_the_form_and_fills_each_field_it_tabbed_to(fleet_config) -> None:
    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        await servers_screen(pilot)
        # a: the add form; then name, Tab Tab past the type, the host; Tab to the port,
        # the DB and the login; then the login, Tab, the password.
        burst(pilot.app, "a", "n1", "tab", "tab", "hostx", "tab", "tab", "tab", "postgres", "tab", "S3cretPW")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, ServerForm)
        values = {i.id: i.value for i in form.query(Input)}
        assert values["f-name"] == "n1" and values["f-host"] == "hostx", values
        assert values["f-user"] == "postgres", values
        assert values["f-password"] == "S3cretPW", values
        assert form.query_one("#f-password", Input).password  # never in clear


async def test_a_burst_switches_screen_opens_the_ssh_dialog_and_fills_it(fleet_config) -> None:
    from jumpdeck.tui.screens.ssh_dialogs import ConnectDialog

    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        await servers_screen(pilot)
        # 4: the SSH screen (its first visit builds it); n: a new session's dialog.
        burst(pilot.app, "4", "n", "db-7", "tab", "tab", "ops")
        await settle(pilot)
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ConnectDialog), dialog
        values = {i.id: i.value for i in dialog.query(Input)}
        # The user field starts with the OS account's name; typing adds to it.
        assert values["host"] == "db-7" and values["user"].endswith("ops"), values


def test_a_burst_over_a_real_pty_fills_the_form_field_by_field(tmp_path) -> None:
    """The same burst through tmux's one `send-keys`: jumpdeck reads it off its terminal
    in one go, as it would from a lagging SSH link."""
    from tests.serve.conftest import Tmux
    from tests.tui.tmux_app import start_demo

    tmux = Tmux()
    try:
        start_demo(tmux, "b", tmp_path)
        tmux.send("b", "a", "n1", "Tab", "Tab", "hostx", "Tab", "Tab", "Tab", "postgres", "Tab", "S3cretPW")
        pane = tmux.wait_for("b", "••••••••", 20)
        fields = {line.split()[1]: line.split()[2] for line in pane.splitlines()
                  if len(line.split()) > 2 and line.split()[1] in ("Name", "Host", "Login", "Password")}
        assert fields == {"Name": "n1", "Host": "hostx", "Login": "postgres", "Password": "••••••••"}, pane
        assert "S3cretPW" not in pane
    finally:
        tmux.kill()
