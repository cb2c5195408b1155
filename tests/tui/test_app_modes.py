"""The shell reads its modes and every mode's screens through Textual's public API."""

from __future__ import annotations

from jumpdeck.tui.app import SCREENS
from tests.tui.conftest import booted


async def test_work_on_a_screen_of_another_mode_still_asks_before_quitting(make_app) -> None:
    from jumpdeck.tui.screens.confirm import ConfirmScreen

    app = make_app(start_mode="users")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        assert app.screen_modes == [entry.mode for entry in SCREENS]
        users = app.screen
        users.running_work = lambda: ["a long users job"]
        await pilot.press("7")  # Activity; the Users screen stays in its own mode's stack
        await pilot.pause()
        assert app.current_mode == "activity" and users not in app.screen_stack
        assert users in app.all_screens()
        assert app.running_work() == ["a long users job"]
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "a long users job" in app.screen.message
        await pilot.press("escape")


async def test_a_mode_that_is_not_installed_is_not_switched_to(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await app.run_action("switch('nowhere')")
        await pilot.pause()
        assert app.current_mode == "servers"
