"""Footers show whole keys only: at 80x24 and 60x20 every key shown ends inside the
footer (none is cut mid-label, none is out of sight to the right), `?` is always among
them, and the keys left out are the last ones, which `?` lists."""

from __future__ import annotations

import pytest

from tests.tui.conftest import booted
from jumpdeck.tui.widgets.fit_footer import FitFooter


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_every_screen_footer_shows_whole_keys_and_help(make_app, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await booted(pilot)
        for key in ("1", "2", "3", "4", "5", "6", "7", "8"):
            await pilot.press(key)
            for _ in range(5):
                await pilot.pause(0.05)
            footer = app.screen.query_one(FitFooter)
            shown = [c for c in footer.children if c.display]
            hidden = [c for c in footer.children if not c.display]
            assert all(c.region.right <= footer.region.right for c in shown), (key, [(getattr(c, "key", c), c.region) for c in shown])
            keys = [getattr(c, "key", "") for c in shown]
            assert "question_mark" in keys, (key, keys)
            if hidden:  # the ones left out come after every key shown (bar ? and the palette)
                order = list(footer.children)
                last_shown = max(order.index(c) for c in shown if getattr(c, "key", "") not in ("question_mark", "ctrl+p"))
                assert all(order.index(c) > last_shown for c in hidden), key
