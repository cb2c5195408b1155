"""How the shell looks, at 120x40 and 80x24 (pytest-textual-snapshot; SVGs in
__snapshots__/). Update after an intended change with `pytest --snapshot-update`."""

import pytest

from tests.tui.conftest import booted

SIZES = [(120, 40), (80, 24)]


async def _boot(pilot) -> None:
    await booted(pilot)
    # DataTables and the notice settle one frame after their workers finish.
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_activity_screen(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(start_mode="activity"), terminal_size=size, run_before=_boot)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_users_screen(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(start_mode="users"), terminal_size=size, run_before=_boot)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_help_overlay(snap_compare, make_app, size) -> None:
    async def run_before(pilot) -> None:
        await _boot(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(make_app(start_mode="users"), terminal_size=size, run_before=run_before)
