"""The app shell, driven with Textual's Pilot."""

import asyncio

from textual.widgets import DataTable, Input, Static

from tests.tui.conftest import booted


async def test_boot_opens_the_store_and_number_keys_switch_screens(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        assert app.current_mode == "servers"
        header = app.screen.query_one("#hdr-identity", Static)
        assert "admin (admin)" in str(header.render())
        for key, mode in (("7", "activity"), ("8", "users"), ("2", "provision"), ("1", "servers")):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
        for mode in ("provision", "servers", "provision"):  # - goes back, and back again
            await pilot.press("minus")
            await pilot.pause()
            assert app.current_mode == mode


async def test_help_lists_the_screens_keys_and_esc_closes(make_app) -> None:
    from jumpdeck.tui.screens.help import HelpScreen

    app = make_app(start_mode="users")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = {row[1] for row in app.screen.rows}
        assert {"Add", "Disable", "Role", "Add key", "Keys", "Quit"} <= described
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_viewer_sees_admin_keys_disabled_with_the_reason(make_app, app_config) -> None:
    async def make_viewer():
        from jumpdeck.core.context import open_context
        from jumpdeck.core.identity import Role

        ctx = await open_context(app_config, user="admin")
        await ctx.users.add(ctx.actor, "vera", Role.VIEWER)
        ctx.close()

    await make_viewer()
    from jumpdeck.tui.screens.help import HelpScreen

    app = make_app(user="vera", start_mode="users")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        assert "Only an admin can manage users" in str(app.screen.query_one("#users-role-note", Static).render())
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        notes = {row[1]: row[3] for row in app.screen.rows}
        ids = {row[1]: row[2] for row in app.screen.rows}
        assert "Only an admin" in notes["Add"] and ids["Add"] == "users.add"
        assert "Activate" in ids and ids["Activate"] == "users.activate", app.screen.rows  # enter, under the table
        await pilot.press("escape")
        said: list[str] = []
        app.notify = lambda message, **kw: said.append(str(message))  # type: ignore[method-assign]
        await pilot.press("a")  # disabled: nothing opens, and it says why
        await pilot.pause()
        assert app.screen.__class__.__name__ == "UsersScreen"
        assert any("Only an admin" in s for s in said), said


async def test_admin_activates_a_pending_user_with_enter(make_app) -> None:
    app = make_app(start_mode="users")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        table = app.screen.query_one(DataTable)
        names = [u.name for u in app.screen.users]
        table.move_cursor(row=names.index("lee.newcomer"))
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        statuses = {u.name: u.status.value for u in app.screen.users}
        assert statuses["lee.newcomer"] == "active"


async def test_pending_user_is_told_how_to_get_access(make_app) -> None:
    from jumpdeck.tui.screens.pending import PendingScreen

    app = make_app(user="lee.newcomer")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        assert isinstance(app.screen, PendingScreen)
        assert "jumpdeck users activate lee.newcomer" in " ".join(str(w.render()) for w in app.screen.query(Static))
        await pilot.press("7")
        await pilot.pause()
        assert isinstance(app.screen, PendingScreen)


async def test_settings_dialog_saves_and_the_header_shows_the_notice(make_app) -> None:
    from jumpdeck.tui.screens.settings_dialog import SettingsDialog

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("f2")
        await pilot.pause(0.3)
        assert isinstance(app.screen, SettingsDialog)
        app.screen.query_one("#s-system_notice", Input).value = "DB patching at 22:00"
        app.screen.query_one("#s-backup_retention_live", Input).value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, SettingsDialog)
        assert "backup_retention_live" in str(app.screen.query_one(".error", Static).render())
        app.screen.query_one("#s-backup_retention_live", Input).value = "14"
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, SettingsDialog)
        assert "DB patching at 22:00" in str(app.screen.query_one("#hdr-notice", Static).render())
        assert (await app.ctx.settings.get()).get("backup_retention_live") == 14


async def test_activity_filters_and_copy(make_app) -> None:
    app = make_app(start_mode="activity")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 3  # register admin, create kim, register lee
        await pilot.press("slash")
        await pilot.press(*"kim")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        assert table.row_count == 1
        await pilot.press("escape")
        await pilot.press("y")
        assert app.clipboard == "role operator, 0 key(s)"
        await pilot.press("c")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        assert table.row_count == 3


async def test_quit_asks_while_work_runs(make_app) -> None:
    from jumpdeck.tui.screens.confirm import ConfirmScreen

    app = make_app(start_mode="users")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)

        async def long_job() -> None:
            await asyncio.sleep(30)

        app.run_worker(long_job(), name="backup of production_analysis.db", group="work")
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "backup of production_analysis.db" in app.screen.message
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running
        await pilot.press("q")
        await pilot.pause()
        await pilot.click("#confirm")
        await pilot.pause()
    assert app.return_value == 0


async def test_redraw_and_palette_do_not_break(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await booted(pilot)
        await pilot.press("ctrl+l")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"
        await pilot.press(*"Activity")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.current_mode == "activity"


async def test_no_password_on_any_rendered_screen(make_app, app_config) -> None:
    from jumpdeck.core.context import open_context
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec

    canary = "Sup3r-Secret-canary-pw"
    ctx = await open_context(app_config, user="admin")
    registry = ServerRegistry(ctx.store, ctx.secrets)
    info = await registry.create(ctx.actor, ServerSpec(name="pg", db_type="postgresql", host="127.0.0.1",
                                                       username="u", password=Secret(canary)))
    await registry.update(ctx.actor, info.id, ServerSpec(name="pg", db_type="postgresql", host="127.0.0.1",
                                                         username="u", password=Secret(canary + "2")))
    ctx.close()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        for key in "12345678":
            await pilot.press(key)
            await pilot.pause(0.2)
            await app.workers.wait_for_complete()
            assert canary not in app.export_screenshot()
        await pilot.press("7", "enter")
        await pilot.pause(0.2)
        assert canary not in app.export_screenshot()


async def test_a_screen_not_built_yet_says_what_is_coming(make_app, monkeypatch) -> None:
    from jumpdeck.tui import app as app_module

    entry = app_module.ScreenEntry("9", "future", "Future", "jumpdeck.tui.screens.no_such_screen:Nothing", "Time travel.")
    monkeypatch.setattr(app_module, "SCREENS", [*app_module.SCREENS, entry])
    app = make_app(start_mode="future")
    async with app.run_test(size=(80, 24)) as pilot:
        await booted(pilot)
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "Future is not built yet." in text and "Time travel." in text


async def test_keymap_from_config_rebinds_by_id(app_config, tmp_path) -> None:
    from dataclasses import replace

    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.help import HelpScreen

    config = replace(app_config, keymap={"app.help": "f1"})
    app = JumpdeckApp(config, user="admin", start_mode="users")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_a_role_change_is_confirmed_naming_the_user_and_both_roles(make_app) -> None:
    from jumpdeck.tui.screens.confirm import ConfirmScreen

    app = make_app(start_mode="users")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=[u.name for u in app.screen.users].index("kim.operator"))
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "Make kim.operator admin?" in text and "from operator to admin" in text, text
        await pilot.press("n")  # one stray key changes nothing
        await app.workers.wait_for_complete()
        assert {u.name: u.role.value for u in await app.ctx.users.list(app.ctx.actor)}["kim.operator"] == "operator"
        await pilot.press("o", "y")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert {u.name: u.role.value for u in await app.ctx.users.list(app.ctx.actor)}["kim.operator"] == "admin"


async def test_an_ssh_key_is_removed_after_choosing_and_naming_it(make_app, app_config, tmp_path) -> None:
    import subprocess

    from jumpdeck.core.context import open_context
    from jumpdeck.core.users import parse_public_key
    from jumpdeck.tui.screens.confirm import ConfirmScreen
    from jumpdeck.tui.screens.user_form import KeyChoice

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kim@laptop", "-f", str(tmp_path / "k")], check=True)
    key = parse_public_key((tmp_path / "k.pub").read_text())
    ctx = await open_context(app_config, user="admin")
    await ctx.users.add_key(ctx.actor, "kim.operator", key)
    ctx.close()
    app = make_app(start_mode="users")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=[u.name for u in app.screen.users].index("kim.operator"))
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, KeyChoice)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert key.fingerprint in text and "kim.operator" in text
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        users = {u.name: u for u in await app.ctx.users.list(app.ctx.actor)}
        assert users["kim.operator"].keys == ()
