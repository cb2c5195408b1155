"""Launchers into the SSH screen: a provisioned run's ssh targets (`s` on the Provision
screen, a picker when there are several) and the Monitor's `s` on a pool VM."""

from __future__ import annotations

import pytest

from jumpdeck.core.config import load_config
from tests.ssh.test_terminal_widget import wait_for
from tests.tui.conftest import booted, prepare_store


def _targets(port: int) -> list[dict]:
    return [{"name": "web-1", "host": "127.0.0.1", "port": port, "user": "deploy"},
            {"name": "db-1", "host": "127.0.0.2", "port": port + 1, "user": "dba"}]


async def _add_run(ctx, targets) -> None:
    from jumpdeck.core.store.models import ProvisionRunRow

    def go(session) -> None:
        session.add(ProvisionRunRow(service_name="shop", template="single", status="COMPLETED", runner="ansible",
                                    created_by=ctx.actor.user, details={"resources": {"ssh_targets": targets}}))

    await ctx.store.run(go)


@pytest.fixture
def run_config(tmp_path):
    config = load_config(cli={"home": str(tmp_path / "home"), "runner": "mock"})
    return config


async def test_provision_s_picks_a_run_target_and_opens_a_tab(run_config):
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.ssh import SshScreen
    from jumpdeck.tui.screens.ssh_dialogs import TargetChoiceDialog

    targets = _targets(2201)
    await prepare_store(run_config, extra=lambda ctx: _add_run(ctx, targets))
    app = JumpdeckApp(run_config, user="admin", start_mode="provision")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await wait_for(pilot, lambda: app.screen._selected() is not None)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, TargetChoiceDialog))
        assert [t.label for t in app.screen.targets] == ["deploy@127.0.0.1:2201", "dba@127.0.0.2:2202"]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SshScreen) and app.screen.panes())
        pane = app.screen.panes()[0]
        assert (pane.target.user, pane.target.host, pane.target.port) == ("dba", "127.0.0.2", 2202)


async def test_provision_s_without_targets_says_why(run_config):
    from jumpdeck.tui.app import JumpdeckApp

    await prepare_store(run_config, extra=lambda ctx: _add_run(ctx, []))
    app = JumpdeckApp(run_config, user="admin", start_mode="provision")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await wait_for(pilot, lambda: app.screen._selected() is not None)
        await pilot.press("s")
        await pilot.pause(0.3)
        messages = [n.message for n in app._notifications]
        assert any("has no SSH targets" in m for m in messages), messages
