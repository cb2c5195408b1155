"""Fixtures for app tests: a prepared store with fixed timestamps (stable snapshots)
and a factory that builds the app the way the CLI does."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from jumpdeck.core.config import load_config

FIXED = datetime(2026, 3, 14, 9, 26, 53)


async def prepare_store(config, *, user: str = "admin", extra=None) -> None:
    """Seed users and settings, then pin every timestamp."""
    from jumpdeck.core.context import open_context
    from jumpdeck.core.identity import Role

    ctx = await open_context(config, user=user)
    try:
        await ctx.users.add(ctx.actor, "kim.operator", Role.OPERATOR)
        await ctx.users.resolve_local("lee.newcomer")
        if extra is not None:
            await extra(ctx)

        def pin(session) -> None:
            from sqlalchemy import update

            from jumpdeck.core.store.models import ActivityRow, UserRow

            # The origin names this machine's host: pinned too, so snapshots match anywhere.
            session.execute(update(ActivityRow).values(at=FIXED, origin="local@jumphost"))
            session.execute(update(UserRow).values(created_at=FIXED))

        await ctx.store.run(pin)
    finally:
        ctx.close()


@pytest.fixture
def app_config(tmp_path):
    config = load_config(cli={"home": str(tmp_path / "home")})
    asyncio.run(prepare_store(config))
    return config


@pytest.fixture
def make_app(app_config):
    from jumpdeck.tui.app import JumpdeckApp

    def make(user: str = "admin", start_mode: str = "servers", config=None) -> JumpdeckApp:
        return JumpdeckApp(config or app_config, user=user, start_mode=start_mode)

    return make


async def booted(pilot) -> None:
    """Wait until the store is open and the first screen is up."""
    for _ in range(100):
        await pilot.pause(0.05)
        if pilot.app.ctx is not None and (pilot.app.current_mode != "_default" or pilot.app.ctx.actor.status.value != "active"):
            break
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
