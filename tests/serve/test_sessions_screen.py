"""The SSH sessions screen against a real control socket: a serve-ssh session table
(without the SSH listener, so no terminal is needed) served from its own thread."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jumpdeck.core.config import load_config
from tests.conftest import os_user
from tests.tui.conftest import booted, prepare_store

SIZES = [(120, 40), (80, 24)]
FIXED_SINCE = datetime(2026, 3, 14, 9, 26, tzinfo=timezone.utc)


class ControlThread:
    """A ServeServer's session table and control socket on a loop of their own."""

    def __init__(self, config, sessions) -> None:  # noqa: ANN001
        self.config = config
        self.sessions = sessions  # (user, address, fingerprint)
        self.ended: list[tuple[int, str]] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _start(self) -> None:
        from jumpdeck.core.context import open_context
        from jumpdeck.core.serve.control import ControlServer
        from jumpdeck.core.serve.server import ServeOptions, ServeServer

        self.ctx = await open_context(self.config, user="admin")
        self.server = ServeServer(self.ctx, ServeOptions())
        for user, address, fingerprint in self.sessions:
            entry = self.server.table.open(user, address, fingerprint, lambda reason, n=len(self.ended): None)
            entry.since = FIXED_SINCE
            entry.end = lambda reason, e=entry: (self.ended.append((e.id, reason)), self.server.table.close(e.id))
        self.control = ControlServer(self.server)
        await self.control.start()

    def __enter__(self):  # noqa: ANN204
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        async def stop() -> None:
            await self.control.close()
            self.ctx.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


SESSIONS = [("admin", "127.0.0.1", "SHA256:pP2ub3auts8K7kNaq8oohEaXyS8GhefD6UZaQfLg0Dk"),
            ("kim.operator", "127.0.0.5", "SHA256:6aBOhLjf+tfdidytkjEkHirVXaSW6LwWK5oWL9/C0G4")]


@pytest.fixture
def screen_config(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    base = Path(tempfile.mkdtemp(prefix="jdv", dir="/tmp"))
    config = load_config(cli={"home": str(base / "h")})
    async def os_account_is_admin(ctx) -> None:  # noqa: ANN001
        # The control socket knows this process as its OS account, whatever the app says.
        from jumpdeck.core.identity import Role
        from tests.conftest import os_user

        await ctx.users.add(ctx.actor, os_user(), Role.ADMIN)

    asyncio.run(prepare_store(config, extra=os_account_is_admin))
    yield config
    shutil.rmtree(base, ignore_errors=True)
    monkeypatch.delenv("TZ")
    time.tzset()


def _app(config, user: str = "admin"):  # noqa: ANN001, ANN202
    from jumpdeck.tui.app import JumpdeckApp

    return JumpdeckApp(config, user=user, start_mode="users")


async def _open_sessions(pilot) -> None:  # noqa: ANN001
    await booted(pilot)
    pilot.app.action_ssh_sessions()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.2)


async def test_lists_sessions_and_ends_one(screen_config):
    from jumpdeck.tui.screens.sessions import SessionsScreen

    with ControlThread(screen_config, SESSIONS) as control:
        app = _app(screen_config)
        async with app.run_test(size=(120, 40)) as pilot:
            await _open_sessions(pilot)
            screen = app.screen
            assert isinstance(screen, SessionsScreen)
            assert [s.user for s in screen.sessions] == ["admin", "kim.operator"]
            await pilot.press("down", "x")
            await pilot.pause()
            await pilot.click("#confirm")
            for _ in range(50):
                await pilot.pause(0.05)
                if control.ended and len(screen.sessions) == 1:
                    break
            assert control.ended == [(2, f"ended by the admin {os_user()}")]
            assert [s.user for s in screen.sessions] == ["admin"]
            await pilot.press("escape")
            assert not isinstance(app.screen, SessionsScreen)


async def test_no_server_says_so(screen_config):
    app = _app(screen_config)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_sessions(pilot)
        assert "No serve-ssh server is running" in str(app.screen.query_one("#sessions-status").render())


async def test_non_admin_gets_no_palette_entry_and_the_reason(screen_config):
    from jumpdeck.tui.screens.sessions import SessionsScreen

    app = _app(screen_config, user="kim.operator")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "SSH sessions" not in titles
        app.push_screen(SessionsScreen())
        await pilot.pause(0.2)
        note = str(app.screen.query_one("#sessions-note").render())
        assert "Only an admin can manage SSH sessions" in note


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_sessions_screen_snapshot(snap_compare, screen_config, size):
    with ControlThread(screen_config, SESSIONS):
        assert snap_compare(_app(screen_config), terminal_size=size, run_before=_open_sessions)
