from __future__ import annotations

import asyncio

import pytest

from jumpdeck.core.servers.polling import POLL_INTERVALS, Poller, interval_label


async def test_rounds_repeat_at_the_interval_and_never_overlap() -> None:
    active = peak = 0

    async def round_() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.03)
        active -= 1

    poller = Poller(round_, interval=0.02, jitter=0.0)
    poller.start()
    manual = [asyncio.create_task(poller.run_now()) for _ in range(3)]
    await asyncio.sleep(0.25)
    await poller.stop()
    outcomes = await asyncio.gather(*manual)
    assert outcomes.count(True) == 1  # the other two found a round running
    assert peak == 1
    assert 3 <= poller.rounds <= 8


async def test_off_runs_nothing_until_an_interval_is_set() -> None:
    calls = []

    async def round_() -> None:
        calls.append(1)

    poller = Poller(round_, interval=None)
    poller.start()
    await asyncio.sleep(0.05)
    assert calls == []
    poller.set_interval(0.01)
    await asyncio.sleep(0.08)
    poller.set_interval(None)
    await asyncio.sleep(0.02)
    settled = len(calls)
    await asyncio.sleep(0.05)
    await poller.stop()
    assert settled >= 2 and len(calls) == settled


def test_jitter_spreads_the_delay_within_bounds() -> None:
    values = iter([0.0, 1.0, 0.5])
    poller = Poller(lambda: asyncio.sleep(0), interval=30, jitter=0.1, rng=lambda: next(values))
    assert [poller.next_delay() for _ in range(3)] == pytest.approx([27.0, 33.0, 30.0])


def test_intervals_and_labels() -> None:
    assert POLL_INTERVALS == (None, 30.0, 60.0, 300.0)
    assert [interval_label(i) for i in POLL_INTERVALS] == ["off", "30 s", "1 min", "5 min"]


async def test_a_failing_round_does_not_stop_polling() -> None:
    calls = []

    async def round_() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    poller = Poller(round_, interval=0.01, jitter=0)
    with pytest.raises(RuntimeError):
        await poller.run_now()
    assert not poller.running_round
    poller.start()
    await asyncio.sleep(0.08)
    await poller.stop()
    assert len(calls) >= 3
