"""Dialogs fit small terminals: at 80x24 and 60x20 every button of the new-run dialog
and of the rollover wizard is on screen, whole (an operator on a small terminal can
reach Start and Run rollover without a mouse or a scroll)."""

from __future__ import annotations

import pytest
from textual.widgets import Button

from tests.tui.conftest import booted


def _on_screen(app, button: Button) -> bool:  # noqa: ANN001
    region, screen = button.region, app.screen.region
    return region.width > 0 and screen.contains_region(region)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_the_new_run_dialog_and_the_rollover_wizard_fit(make_app, size) -> None:
    app = make_app(start_mode="provision")
    async with app.run_test(size=size) as pilot:
        await booted(pilot)
        await pilot.press("a")
        await pilot.pause(0.3)
        buttons = list(app.screen.query(Button))
        assert {b.id for b in buttons} == {"nr-cancel", "nr-start"}
        assert all(_on_screen(app, b) for b in buttons), [(b.id, b.region) for b in buttons]
        await pilot.press("escape")
        await pilot.press("6")
        await pilot.pause(0.3)
        await pilot.press("o")
        await pilot.pause(0.3)
        buttons = list(app.screen.query(Button))
        assert {"rw-plan-button", "rw-run"} <= {b.id for b in buttons}
        assert all(_on_screen(app, b) for b in buttons), [(b.id, b.region) for b in buttons]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_the_ssh_dialog_shows_a_whole_five_digit_port(make_app, size) -> None:
    from textual.widgets import Input

    from jumpdeck.tui.screens.ssh_dialogs import ConnectDialog

    app = make_app(start_mode="ssh")
    async with app.run_test(size=size) as pilot:
        await booted(pilot)
        await pilot.press("n")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ConnectDialog)
        port = app.screen.query_one("#port", Input)
        port.value = ""
        port.focus()
        await pilot.press(*"44022")
        await pilot.pause()
        assert port.value == "44022"
        # The digits and the cursor after them fit inside the field: none scrolled away.
        assert port.content_size.width >= len("44022") + 1, port.content_size
        assert all(_on_screen(app, b) for b in app.screen.query(Button))
