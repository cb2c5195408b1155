"""Periodic re-checks of the fleet (seed 000 §12): off, 30 s, 60 s or 5 min.

A `Poller` runs one round, waits the interval (with jitter, so many jump hosts do not
hit the fleet in step) and runs the next; it never runs two rounds at once. A round
started by hand (`run_now`) while one is running is refused, and the timer re-arms
after every round, so a manual round pushes the next automatic one back.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Awaitable, Callable

log = logging.getLogger("jumpdeck.polling")

POLL_INTERVALS: tuple[float | None, ...] = (None, 30.0, 60.0, 300.0)


def interval_label(interval: float | None) -> str:
    if interval is None:
        return "off"
    return f"{interval / 60:g} min" if interval >= 60 else f"{interval:g} s"


class Poller:
    def __init__(self, round_fn: Callable[[], Awaitable[object]], *, interval: float | None = None,
                 jitter: float = 0.1, rng: Callable[[], float] = random.random) -> None:
        if interval is not None and interval <= 0:
            raise ValueError("interval must be above 0, or None for off")
        if not 0 <= jitter < 1:
            raise ValueError("jitter is a fraction of the interval, from 0 to below 1")
        self._round_fn = round_fn
        self._interval = interval
        self._jitter = jitter
        self._rng = rng
        self._rearm = asyncio.Event()
        self._busy = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self.rounds = 0

    @property
    def interval(self) -> float | None:
        return self._interval

    @property
    def running_round(self) -> bool:
        return self._busy.locked()

    def next_delay(self) -> float | None:
        """The wait before the next automatic round: the interval ± jitter."""
        if self._interval is None:
            return None
        return self._interval * (1 + self._jitter * (2 * self._rng() - 1))

    def set_interval(self, interval: float | None) -> None:
        if interval is not None and interval <= 0:
            raise ValueError("interval must be above 0, or None for off")
        self._interval = interval
        self._rearm.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="jumpdeck-poller")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def run_now(self, round_fn: Callable[[], Awaitable[object]] | None = None) -> bool:
        """Run a round now: the poller's own, or `round_fn` (a round started by hand,
        with its own options), under the same lock. False, without running, when one
        is already running. The check and the taking of the lock have no await
        between them, so two callers in the same loop can never both get in."""
        if self._busy.locked():
            return False
        async with self._busy:
            try:
                await (round_fn or self._round_fn)()
            finally:
                self.rounds += 1
        self._rearm.set()
        return True

    async def _loop(self) -> None:
        while True:
            self._rearm.clear()
            delay = self.next_delay()
            try:
                if delay is None:
                    await self._rearm.wait()
                else:
                    await asyncio.wait_for(self._rearm.wait(), delay)
                continue  # the interval changed or a manual round ran: wait afresh
            except (TimeoutError, asyncio.TimeoutError):
                pass
            try:
                await self.run_now()
            except Exception:  # one failed round must not end polling
                log.exception("a polling round failed")
