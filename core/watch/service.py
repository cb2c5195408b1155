"""`WatchService`: checks the servers this watch holds when they are due, records the
results in batches, and tells its listeners of incidents.

One tick (a few a minute) is one short store transaction: heartbeat, claims evened out,
due servers taken. Checks then run in the background under the engine's hard deadline,
so a silent server never holds up the tick; results wait in memory and are written
together (`flush`), at most every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, AsyncIterator, Callable

from jumpdeck.core.errors import StoreError
from jumpdeck.core.watch import claims
from jumpdeck.core.watch.buckets import Retention
from jumpdeck.core.watch.claims import Share, WatchHost
from jumpdeck.core.watch.events import WatchEvent
from jumpdeck.core.watch.recorder import prune_in, record_in
from jumpdeck.core.watch.store_clock import store_clock

if TYPE_CHECKING:
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.servers.checks import CheckEngine, CheckResult
    from jumpdeck.core.servers.registry import ServerRegistry
    from jumpdeck.core.settings import Settings
    from jumpdeck.core.store.engine import Store

log = logging.getLogger("jumpdeck.watch")

PRUNE_EVERY = 3600.0  # seconds between two retention passes
MAX_BATCH = 500  # results written at once; a bigger backlog flushes early
# Servers taken in one tick. Not the engine's width: taken checks queue on its slots, and
# 10,000 servers a minute are about 850 a tick.
MAX_DUE = 5000


@dataclass(frozen=True)
class WatchOptions:
    interval: float = 60.0
    jitter: float = 0.1
    failures_to_open: int = 3
    retention: Retention = field(default_factory=Retention)

    @property
    def tick(self) -> float:
        # Often enough that a lease (one interval) is renewed several times before it expires.
        return min(5.0, self.interval / 4)

    @property
    def lease(self) -> float:
        # A stopped watch's servers are free after one interval and checked at the next
        # tick, so none goes unchecked for more than two intervals.
        return self.interval

    @property
    def flush_every(self) -> float:
        return min(10.0, self.interval / 2)

    @classmethod
    def from_settings(cls, settings: Settings, *, interval: float | None = None) -> WatchOptions:
        return cls(interval=float(interval or settings.get("watch_interval")), jitter=settings.get("watch_jitter"),
                   failures_to_open=settings.get("watch_failures"), retention=Retention.from_settings(settings))


class WatchService:
    """One watch. `run(stop)` until `stop` is set; then it writes what it holds and
    releases its claims, so another watch takes over at once rather than after a lease."""

    def __init__(self, store: Store, registry: ServerRegistry, engine: CheckEngine, actor: Actor,
                 options: WatchOptions, *, site: str | None = None, host: str | None = None) -> None:
        from jumpdeck.core.identity import this_host

        self.store = store
        self.registry = registry
        self.engine = engine
        self.actor = actor
        self.options = options
        host = host or this_host()
        self.me = WatchHost(host, os.getpid(), site or host)
        self.share: Share | None = None
        self._rng = random.Random()
        self._listeners: list[Callable[[WatchEvent], None]] = []
        self._pending: list[CheckResult] = []
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(engine.concurrency)
        self._last_flush = time.monotonic()
        self._last_prune = 0.0
        self.checked = 0  # results written, for status lines

    def subscribe(self, listener: Callable[[WatchEvent], None]) -> Callable[[], None]:
        """Call `listener(event)` (on the event loop) for each incident opened or closed.
        Returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def events(self) -> AsyncIterator[WatchEvent]:
        """The same events as an async iterator, from now until the consumer stops."""
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    async def tick(self) -> list[int]:
        """One claim step; starts the checks that are due. Returns their server ids."""
        opts = self.options

        def step(session) -> list[int]:  # noqa: ANN001
            now = store_clock(session)
            live = claims.heartbeat(session, self.me, now, opts.lease)
            claims.add_missing_claims(session, now, opts.interval, self._rng)
            self.share = claims.balance(session, self.me, now, opts.lease, live)
            return claims.take_due(session, self.me, now, opts.interval, opts.jitter, self._rng,
                                   set(self._busy), MAX_DUE)

        due = await self.store.run(step)
        if due:
            targets = await self.registry.check_targets(self.actor, due)
            for target in targets:
                self._busy.add(target.server_id)
                task = asyncio.create_task(self._check(target))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return due

    async def _check(self, target) -> None:  # noqa: ANN001 - CheckTarget
        try:
            async with self._slots:
                self._pending.append(await self.engine.check(target))
        finally:
            self._busy.discard(target.server_id)

    async def settle(self) -> None:
        """Wait for the checks under way (each ends by the engine's deadline)."""
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def flush(self) -> list[WatchEvent]:
        """Write the results made so far in one transaction; tell listeners what changed."""
        batch, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        if not batch:
            return []
        try:
            events = await self.store.run(lambda s: record_in(s, batch, checked_by=self.me.label,
                                                              failures_to_open=self.options.failures_to_open))
        except StoreError as error:
            # A store that is away (read-only) keeps them for the next flush, up to a bound.
            log.warning("watch results not written yet: %s", error)
            self._pending = (batch + self._pending)[-MAX_BATCH * 20:]
            return []
        self.checked += len(batch)
        for event in events:
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:  # noqa: BLE001 - a listener's mistake must not stop the watch
                    log.exception("watch listener failed")
        return events

    async def prune(self) -> int:
        retention = self.options.retention
        self._last_prune = time.monotonic()
        return await self.store.run(lambda s: prune_in(s, store_clock(s), retention))

    async def run(self, stop: asyncio.Event) -> None:
        """Tick, flush and prune until `stop` is set, then stop cleanly (`close`)."""
        # The engine's threads start off the event loop (starting 64 inside it stalls it).
        await self.engine.warm_up()
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                    if (len(self._pending) >= MAX_BATCH
                            or time.monotonic() - self._last_flush >= self.options.flush_every):
                        await self.flush()
                    if time.monotonic() - self._last_prune >= PRUNE_EVERY:
                        await self.prune()
                except StoreError as error:
                    log.warning("watch tick failed: %s", error)
                try:
                    await asyncio.wait_for(stop.wait(), self.options.tick)
                except (TimeoutError, asyncio.TimeoutError):
                    pass
        finally:
            await self.close()

    async def close(self) -> None:
        """Cancel checks under way, write what came in, release every claim."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.flush()
            await self.store.run(lambda s: claims.release_all(s, self.me))
        except StoreError as error:
            log.warning("watch could not release its servers (they free themselves in one interval): %s", error)
