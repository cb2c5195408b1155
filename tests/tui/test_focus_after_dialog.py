"""After a dialog closes, focus is on a shown widget or on none (tui/screens/base.py):
never on one hidden with display: none, which would swallow every key unseen. The
serve-ssh side of it, over the real OpenSSH client: tests/serve/test_keys_after_dialog.py."""

from __future__ import annotations

import pytest

from tests.tui.conftest import booted
from jumpdeck.tui.screens.servers import ServersScreen


@pytest.mark.parametrize("opener", ["question_mark", "ctrl+p"])
async def test_closing_a_dialog_over_an_empty_fleet_focuses_nothing_hidden_and_q_quits(make_app, opener):
    app = make_app()  # the store has users and no server: the grid is hidden
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        screen = app.screen
        assert isinstance(screen, ServersScreen) and not screen.query_one("#servers-grid").display
        await pilot.press(opener)
        await pilot.pause()
        assert app.screen is not screen
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        focused = screen.focused
        assert focused is None or focused in screen.focus_chain, f"focus went to the hidden {focused!r}"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
