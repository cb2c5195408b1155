"""Reap runs whose worker stopped renewing its lease, from any host (no Textual here)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.provision.service import ProvisionService

log = logging.getLogger("jumpdeck.provision.lease")


async def _has_live(service: ProvisionService) -> bool:
    from sqlalchemy import select

    from jumpdeck.core.provision.events import LIVE_STATUSES
    from jumpdeck.core.store.models import ProvisionRunRow as R

    return bool(await service.store.run(lambda s: s.scalar(select(R.id).where(R.status.in_(LIVE_STATUSES)).limit(1))))


async def watch_leases(service: ProvisionService, actor: Actor, *, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """While some run is live, reap expired leases about every lease_expire/3 seconds.
    With no live run it makes no query and waits for `wake` (set it when provision_runs
    change) or `stop`. Store calls run in threads, so the event loop is never blocked."""
    interval = max(0.1, service.config.lease_expire / 3)

    async def wait_for(event: asyncio.Event, timeout: float | None) -> None:
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    while not stop.is_set():
        wake.clear()
        try:
            live = await _has_live(service)
            if live:
                await service.reap_expired(actor)
        except Exception:  # the store may be away for a moment; try again next round
            log.warning("lease watch: a round failed", exc_info=True)
            live = True
        if stop.is_set():
            return
        if live:
            with contextlib.suppress(asyncio.TimeoutError):
                await wait_for(stop, interval)
        else:
            await wait_for(wake, None)


class LeaseWatch:
    """One process's lease watch over its context, woken by the change feed when runs
    change: started by the app and by serve-ssh (whose sessions then need none)."""

    def __init__(self, ctx) -> None:  # noqa: ANN001 - Context
        from jumpdeck.core.provision.service import ProvisionService

        self.ctx = ctx
        self.wake = asyncio.Event()
        self.stop = asyncio.Event()
        service = ProvisionService(ctx.store, ctx.config, ctx.settings, ctx.secrets)
        self._cancel = ctx.changes().subscribe({"provision_runs"}, lambda _t: self.wake.set())
        self.task = asyncio.get_running_loop().create_task(
            watch_leases(service, ctx.actor, wake=self.wake, stop=self.stop), name="lease-watch")

    def close(self) -> None:
        self._cancel()
        self.stop.set()
