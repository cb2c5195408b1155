"""How the Servers screen looks with mixed states (fixed results: no live latency), at
120x40 and 80x24. Update after an intended change with `pytest --snapshot-update`."""

from __future__ import annotations

import pytest

from tests.tui.conftest import booted
from tests.tui.servers_fixtures import fixed_results, fleet_config, server_ids  # noqa: F401
from jumpdeck.tui.app import JumpdeckApp

SIZES = [(120, 40), (80, 24)]


async def _painted(pilot) -> None:
    await booted(pilot)
    screen = pilot.app.screen
    screen.apply_results(fixed_results(server_ids(screen)))
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_servers_grid_mixed_states(snap_compare, fleet_config, size) -> None:
    assert snap_compare(JumpdeckApp(fleet_config, user="admin"), terminal_size=size, run_before=_painted)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_servers_table_view(snap_compare, fleet_config, size) -> None:
    async def run_before(pilot) -> None:
        await _painted(pilot)
        await pilot.press("v", "down")
        await pilot.pause(0.1)

    assert snap_compare(JumpdeckApp(fleet_config, user="admin"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_servers_offline_filter_as_operator(snap_compare, fleet_config, size) -> None:
    async def run_before(pilot) -> None:
        await _painted(pilot)
        await pilot.press("F", "F")
        await pilot.pause(0.1)

    assert snap_compare(JumpdeckApp(fleet_config, user="kim.operator"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_server_form(snap_compare, fleet_config, size) -> None:
    async def run_before(pilot) -> None:
        await _painted(pilot)
        await pilot.press("e")
        await pilot.pause(0.2)

    assert snap_compare(JumpdeckApp(fleet_config, user="admin"), terminal_size=size, run_before=run_before)


def test_servers_grid_in_16_colours(snap_compare, fleet_config) -> None:
    """The theme a 16-colour terminal gets (tui/app.py): the selected card stands apart
    from an offline one by its heavy frame, not by a colour that rounds to the same red."""
    async def run_before(pilot) -> None:
        pilot.app.theme = "ansi-dark"
        await _painted(pilot)

    assert snap_compare(JumpdeckApp(fleet_config, user="admin"), terminal_size=(80, 24), run_before=run_before)
