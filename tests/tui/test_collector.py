"""The app's schedule for full garbage-collector passes (tui/collector.py)."""

from __future__ import annotations

import gc

import pytest

from jumpdeck.tui.collector import AT_LEAST_EVERY, CHECK_EVERY, NEVER, QUIET_FOR, CollectorSchedule, applies


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_full_passes_wait_for_a_quiet_operator_or_the_longest_interval():
    clock = Clock()
    promoted = [100]
    schedule = CollectorSchedule(clock, lambda: promoted[0], active=True)
    before = gc.get_threshold()
    schedule.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], NEVER)  # no automatic full pass
        clock.now += CHECK_EVERY - 1
        assert not schedule.tick()  # too soon after the last one
        clock.now += 1
        schedule.input_seen()
        clock.now += QUIET_FOR / 2
        assert not schedule.due()  # the operator is typing
        clock.now += QUIET_FOR
        assert schedule.tick() and schedule.passes == 1
        # Typing all the time: still one pass per AT_LEAST_EVERY.
        while clock.now - schedule.last_full < AT_LEAST_EVERY - 1:
            clock.now += 1
            schedule.input_seen()
            assert not schedule.tick()
        clock.now += 1
        schedule.input_seen()
        assert schedule.tick() and schedule.passes == 2
        # Idle: quiet and long enough, but nothing moved into the oldest generation.
        promoted[0] = before[2] - 1
        clock.now += AT_LEAST_EVERY
        assert not schedule.tick() and schedule.passes == 2
        promoted[0] = before[2]
        assert schedule.tick() and schedule.passes == 3
    finally:
        schedule.stop()
    assert gc.get_threshold() == before


@pytest.mark.skipif(not applies(), reason="the schedule stands aside on this Python")
async def test_the_app_sees_operator_keys_and_restores_the_thresholds(config):
    from jumpdeck.tui.app import JumpdeckApp

    before = gc.get_threshold()
    app = JumpdeckApp(config, start_mode="servers")
    async with app.run_test(size=(80, 24)) as pilot:
        assert gc.get_threshold()[2] == NEVER
        seen = app.collector.last_input
        await pilot.pause(0.05)
        await pilot.press("down")
        assert app.collector.last_input > seen
    assert gc.get_threshold() == before


def test_the_schedule_applies_only_on_the_python_it_was_measured_on():
    from jumpdeck.tui.collector import MEASURED_ON

    assert applies(MEASURED_ON)
    assert not applies((3, 13)) and not applies((3, 14))


def test_elsewhere_it_leaves_pythons_own_schedule_alone():
    clock = Clock()
    schedule = CollectorSchedule(clock, lambda: 10**6, active=False)
    before = gc.get_threshold()
    schedule.start()
    try:
        assert gc.get_threshold() == before
        clock.now += AT_LEAST_EVERY * 2
        assert not schedule.tick() and schedule.passes == 0
    finally:
        schedule.stop()
    assert gc.get_threshold() == before
