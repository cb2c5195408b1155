"""The watch's incidents as notifications: an incident opened is "server down", one
closed is "server up" (core/notify/report.py). Sending may take up to the notifier's
timeout, so each goes in a task of its own and the watch's rounds never wait for it;
`close()` gives the last ones a moment when the watch stops."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from jumpdeck.core.notify import report
from jumpdeck.core.watch.events import IncidentOpened, WatchEvent

if TYPE_CHECKING:
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.notify.notifier import Notifier
    from jumpdeck.core.servers.registry import ServerRegistry

log = logging.getLogger("jumpdeck.watch.alerts")


class IncidentAlerts:
    def __init__(self, notifier: Notifier, registry: ServerRegistry, actor: Actor, *, failures: int) -> None:
        self.notifier = notifier
        self.registry = registry
        self.actor = actor
        self.failures = failures  # the watch opens an incident after this many failed checks
        self._pending: set[asyncio.Task] = set()

    def __call__(self, event: WatchEvent) -> None:
        task = asyncio.get_running_loop().create_task(self._send(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, event: WatchEvent) -> None:
        try:
            # A maintenance window may name a tag: the server's tags decide.
            tags = tuple((await self.registry.get(self.actor, event.server_id)).tags)
        except Exception:  # deleted meanwhile: its name still says which
            tags = ()
        try:
            if isinstance(event, IncidentOpened):
                await report.server_down(self.notifier, event.name, failures=self.failures,
                                         error=f"{event.error_kind}: {event.message}", tags=tags)
            else:
                await report.server_up(self.notifier, event.name, tags=tags)
        except Exception:  # a notification never stops the watch
            log.exception("the notification of %s could not be sent", event.name)

    async def close(self, timeout: float = 15.0) -> None:
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)
