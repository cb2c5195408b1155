"""Rounds of checks never overlap on the Servers screen: `T` pressed twice quickly, or
`T` during a poll, runs one round and says that one is already running. The round's
start is held on an event, so the second request arrives while the first is still
starting (the window where a check-then-set guard lets both through)."""

from __future__ import annotations

import asyncio

from jumpdeck.core.servers.checks import CheckProgress
from jumpdeck.core.servers.fleet_checks import CheckRound
from jumpdeck.tui.app import JumpdeckApp
from jumpdeck.tui.screens.servers import ServersScreen
from tests.tui.conftest import booted
from tests.tui.servers_fixtures import fixed_results, fleet_config, server_ids  # noqa: F401

ALREADY = "A round of checks is already running; wait for it to finish."


class SlowStartChecks:
    """Fleet checks whose round start waits until the test lets it go; the round then
    lands fixed results (no network)."""

    def __init__(self, real, results) -> None:  # noqa: ANN001
        self.real = real
        self.results = results
        self.release = asyncio.Event()
        self.starts = 0

    async def start(self, actor, server_ids=None, *, sequential: bool = False) -> CheckRound:  # noqa: ANN001
        self.starts += 1
        await self.release.wait()
        results = self.results

        async def steps():  # noqa: ANN202
            for done, result in enumerate(results, start=1):
                yield CheckProgress(done, len(results), result)

        return CheckRound([r.server_id for r in results], steps())

    async def check_one(self, actor, server_id: int):  # noqa: ANN001, ANN201
        raise AssertionError("no single test in these tests")

    async def servers(self, actor):  # noqa: ANN001, ANN201
        return await self.real.servers(actor)

    def close(self) -> None:
        self.real.close()


async def _slowed_screen(pilot) -> tuple[ServersScreen, SlowStartChecks]:  # noqa: ANN001
    await booted(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ServersScreen)
    slow = SlowStartChecks(screen.checks, fixed_results(server_ids(screen)))
    screen.checks = slow
    return screen, slow


def _warnings(app: JumpdeckApp) -> list[str]:
    return [n.message for n in app._notifications if n.message == ALREADY]


async def test_t_pressed_twice_runs_one_round(fleet_config) -> None:
    app = JumpdeckApp(fleet_config, user="admin", start_mode="servers")
    async with app.run_test(size=(120, 40)) as pilot:
        screen, slow = await _slowed_screen(pilot)
        await pilot.press("T")
        await pilot.pause(0.1)
        await pilot.press("T")
        await pilot.pause(0.1)
        assert slow.starts == 1
        assert _warnings(app) == [ALREADY]
        slow.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert slow.starts == 1 and screen.poller.rounds == 1
        assert [n.message for n in app._notifications if n.title == "Test all"] == ["1 online / 3 offline"]


async def test_t_during_a_poll_runs_one_round(fleet_config) -> None:
    app = JumpdeckApp(fleet_config, user="admin", start_mode="servers")
    async with app.run_test(size=(120, 40)) as pilot:
        screen, slow = await _slowed_screen(pilot)
        # What the poller's timer does when the interval comes round.
        poll = asyncio.create_task(screen.poller.run_now())
        await pilot.pause(0.1)
        assert slow.starts == 1
        await pilot.press("T")
        await pilot.pause(0.1)
        assert slow.starts == 1
        assert _warnings(app) == [ALREADY]
        slow.release.set()
        assert await poll is True
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert slow.starts == 1 and screen.poller.rounds == 1
        # The poll's results landed; `T` announced nothing of its own.
        assert not [n for n in app._notifications if n.title == "Test all"]
        assert screen.fleet.rows[server_ids(screen)["pg-main"]].result is not None
