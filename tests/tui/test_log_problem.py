"""A jumpdeck.log that cannot be opened is said on the screen once; the app runs on."""

from __future__ import annotations

import logging

from tests.tui.conftest import booted


async def test_a_log_that_cannot_be_opened_is_a_warning_on_screen(make_app, app_config) -> None:
    root = logging.getLogger("jumpdeck")
    # An earlier test in this process may have set up its log: this app must set up its own.
    kept = [h for h in root.handlers if getattr(h, "_jumpdeck", False)]
    for handler in kept:
        root.removeHandler(handler)
    log = app_config.log_dir / "jumpdeck.log"
    log.unlink(missing_ok=True)
    log.mkdir(parents=True)  # cannot be opened for appending, as on a full or read-only disk
    try:
        app = make_app()
        async with app.run_test(size=(140, 40)) as pilot:
            await booted(pilot)
            said = [n.message for n in app._notifications]
            assert any("jumpdeck.log cannot be opened for writing" in m and "keeps no log" in m for m in said), said
            assert app.current_mode == "servers"
    finally:
        for handler in kept:
            root.addHandler(handler)
