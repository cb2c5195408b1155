"""Telling the team that a run ended FAILED, from whichever process ended it (its worker,
a host that reaped its expired lease, the starter whose worker could not start).

Called after the run's own transaction has committed, and never raising: a message
that cannot go out costs the message, not the run's status or the worker's exit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.secrets import SecretBox
    from jumpdeck.core.store.engine import Store

log = logging.getLogger(__name__)

# Past the notifier's own delivery deadline (120 s at most): a store that hangs on the
# audit must not keep a finished worker alive for ever either.
REPORT_DEADLINE = 180.0


async def report_run_failed(store: Store, secrets: SecretBox | None, actor: Actor, run_id: int, error: str) -> None:
    if secrets is None:  # a process without the key cannot open the targets
        log.info("run %s failed; no notification from this process (it has no key)", run_id)
        return
    from jumpdeck.core.notify.report import report, run_failed
    from jumpdeck.core.store.models import ProvisionRunRow

    try:
        name = await store.run(lambda s: (row.service_name if (row := s.get(ProvisionRunRow, run_id)) else "?"))
        await asyncio.wait_for(report(store, secrets, actor, run_failed(run_id, name, error)), REPORT_DEADLINE)
    except Exception as exc:
        log.warning("run %s failed; its notification could not be sent (%s)", run_id, type(exc).__name__)
