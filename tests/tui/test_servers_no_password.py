"""The server form's "No password" choice and what a card says of a server that let the
login in without asking for one, against the real PostgreSQL (trust)."""

from __future__ import annotations

from textual.widgets import Checkbox, DataTable, Input

from jumpdeck.core.servers.values import PASSWORD_UNASKED
from tests.tui.servers_fixtures import fleet_config  # noqa: F401
from tests.tui.test_plain_text import shown
from tests.tui.test_servers_screen import make, servers_screen
from jumpdeck.tui.screens.server_dashboard import ServerDashboardScreen
from jumpdeck.tui.screens.server_form import ServerForm
from jumpdeck.tui.widgets.server_grid import PASSWORD_UNASKED_SHORT, ServerGrid


def _line_above(text: str, wanted: str) -> str:
    """What the card line above the one holding `wanted` says from the same column on
    (the status line above the note)."""
    lines = text.splitlines()
    [index] = [i for i, line in enumerate(lines) if wanted in line]
    return lines[index - 1][lines[index].index(wanted):]


async def _add_form(pilot):  # noqa: ANN202
    """The Servers screen and its "add a server" form, opened with `a`."""
    screen = await servers_screen(pilot)
    await pilot.press("a")
    assert isinstance(pilot.app.screen, ServerForm)
    return screen, pilot.app.screen


async def _fill(pilot, form: ServerForm, **values: str) -> None:
    for name, value in values.items():
        form.query_one(f"#f-{name}", Input).value = value
    await pilot.pause()


async def test_an_empty_password_without_the_choice_is_refused_in_place(fleet_config) -> None:
    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen, form = await _add_form(pilot)
        await _fill(pilot, form, name="pg-trust", host="127.0.0.1", user="postgres")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is form
        error = str(form.query_one("#f-error").render())
        assert "password is required" in error and "'no password'" in error
        assert form.query_one("#f-password").has_class("-error")
        assert "pg-trust" not in [r.info.name for r in screen.fleet.rows.values()]


async def test_choosing_no_password_tests_saves_and_the_card_says_so(fleet_config, pg_url) -> None:
    async with make(fleet_config).run_test(size=(120, 40)) as pilot:
        screen, form = await _add_form(pilot)
        await _fill(pilot, form, name="pg-trust", host="127.0.0.1", user="postgres", password="typed-then-dropped")
        await pilot.click("#f-no-password")
        await pilot.pause()
        password = form.query_one("#f-password", Input)
        assert form.query_one("#f-no-password", Checkbox).value
        assert password.disabled and password.value == ""
        await pilot.press("ctrl+t")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        tested = str(form.query_one("#f-test").render())
        assert "Connected in" in tested and PASSWORD_UNASKED in tested
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.screen is screen
        info = next(r.info for r in screen.fleet.rows.values() if r.info.name == "pg-trust")
        assert info.no_password and not info.has_password

        grid = screen.query_one(ServerGrid)
        grid.select_id(info.id)
        await pilot.press("t")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        row = screen.fleet.rows[info.id]
        assert row.result is not None and row.result.online, row.result
        # At 120 columns a card (40 cells) holds the sentence, under the status line; at 110
        # (36 cells) it says it short.
        assert _line_above(shown(grid), PASSWORD_UNASKED).startswith("online ·")
        await pilot.resize_terminal(110, 40)
        await pilot.pause()
        assert _line_above(shown(grid), PASSWORD_UNASKED_SHORT).startswith("online ·")
        assert PASSWORD_UNASKED in str(screen.query_one("#servers-detail").render())

        # Its dashboard says so too, and lists the databases it reached without a password.
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        dashboard = pilot.app.screen
        assert isinstance(dashboard, ServerDashboardScreen) and dashboard.info.id == info.id
        assert PASSWORD_UNASKED in str(dashboard.query_one("#dash-state").render())
        assert dashboard.query_one("#dash-dbs", DataTable).row_count >= 1
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is screen

        # Editing it keeps the choice: ticked, the password field off.
        await pilot.press("e")
        await pilot.pause()
        edit = pilot.app.screen
        assert isinstance(edit, ServerForm) and edit.info.id == info.id
        assert edit.query_one("#f-no-password", Checkbox).value
        assert edit.query_one("#f-password", Input).disabled
        # Unticking it asks for the password: there is none stored to keep.
        await pilot.click("#f-no-password")
        await pilot.pause()
        assert not edit.query_one("#f-password", Input).disabled
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "no stored password to keep" in str(edit.query_one("#f-error").render())
        await _fill(pilot, edit, password="now-it-has-one")
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.screen is screen
        again = next(r.info for r in screen.fleet.rows.values() if r.info.id == info.id)
        assert not again.no_password and again.has_password
