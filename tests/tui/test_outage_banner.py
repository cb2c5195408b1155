"""An outage of the real shared store while the TUI is open: a red read-only banner,
Save in the add-server form refused with its sentence and the edit kept, and the banner
gone once the store is back, without a restart."""

from __future__ import annotations

import time

from textual.widgets import Input, Static

from tests.core.test_store_outage import outage
from tests.tui.conftest import booted


async def _prepare(config) -> None:
    from jumpdeck.core.context import open_context
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
    from jumpdeck.core.store.snapshot import refresh_snapshot

    ctx = await open_context(config, user="admin")
    try:
        await ServerRegistry(ctx.store, ctx.secrets).create(
            ctx.actor, ServerSpec(name="pg-one", db_type="postgresql", host="127.0.0.1", port=5432,
                                  username="postgres", password=Secret("pw")))
        assert await refresh_snapshot(ctx.store)
    finally:
        ctx.close()


async def _until(pilot, condition, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.2)
    assert condition()


async def test_the_banner_comes_and_goes_and_a_refused_save_keeps_the_edit(tmp_path, pg_url, pg_temp_url) -> None:
    from jumpdeck.core.config import load_config
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.server_form import ServerForm

    config = load_config(cli={"home": str(tmp_path / "home"), "store_url": pg_temp_url})
    await _prepare(config)
    app = JumpdeckApp(config, user="admin", start_mode="servers")
    dbname = pg_temp_url.rsplit("/", 1)[1]
    async with app.run_test(size=(140, 40)) as pilot:
        await booted(pilot)
        banner = app.screen.query_one("#hdr-degraded", Static)
        assert not banner.has_class("-shown")
        with outage(pg_url, dbname):
            await pilot.press("r")  # the next store call finds the store gone: no crash
            await _until(pilot, lambda: app.screen.query_one("#hdr-degraded", Static).has_class("-shown"))
            text = str(app.screen.query_one("#hdr-degraded", Static).render())
            assert "Read-only since" in text and "changes are refused" in text
            await pilot.press("a")
            form = app.screen
            assert isinstance(form, ServerForm)
            for selector, value in (("#f-name", "pg-two"), ("#f-host", "127.0.0.1"), ("#f-user", "postgres"),
                                    ("#f-password", "pw")):
                form.query_one(selector, Input).value = value
            await pilot.press("ctrl+s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen is form and form.query_one("#f-name", Input).value == "pg-two"
            assert "nothing can be changed" in str(form.query_one("#f-error").render())
            assert not config.store_path.exists()
        await _until(pilot, lambda: not app.ctx.store.read_only)
        await pilot.press("ctrl+s")  # the same edit, saved once the store is back
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: not isinstance(app.screen, ServerForm))
        assert not app.screen.query_one("#hdr-degraded", Static).has_class("-shown")


async def test_start_in_the_new_run_dialog_during_an_outage_is_refused_with_its_sentence(tmp_path, pg_url,
                                                                                        pg_temp_url) -> None:
    from jumpdeck.core.config import load_config
    from jumpdeck.tui.app import JumpdeckApp

    config = load_config(cli={"home": str(tmp_path / "home"), "store_url": pg_temp_url, "runner": "mock"})
    await _prepare(config)
    app = JumpdeckApp(config, user="admin", start_mode="provision")
    async with app.run_test(size=(140, 40)) as pilot:
        await booted(pilot)
        with outage(pg_url, dbname=pg_temp_url.rsplit("/", 1)[1]):
            await pilot.press("a")
            await pilot.pause(0.3)
            dialog = app.screen
            dialog.query_one("#nr-name", Input).value = "outage-run"
            await pilot.press("enter")
            # The refusal is said in the dialog, which keeps what was typed.
            await _until(pilot, lambda: "nothing can be changed" in str(dialog.query_one("#nr-error").render()))
            assert app.screen is dialog and dialog.query_one("#nr-name", Input).value == "outage-run"
            assert app.ctx.store.read_only and app.is_running
            assert not config.store_path.exists()
