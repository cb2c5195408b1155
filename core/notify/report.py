"""The events jumpdeck's services report, and the one call they report them with.

A notification is news about an operation, never part of it: `report` swallows and logs
whatever goes wrong (a store away, a key missing), so a backup or a run ends the same
whether or not a message could go out. Failed deliveries are audited by the notifier.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from jumpdeck.core.notify.events import Event, EventKind
from jumpdeck.core.notify.notifier import Notifier, NotifyOutcome

if TYPE_CHECKING:
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.secrets import SecretBox
    from jumpdeck.core.store.engine import Store

log = logging.getLogger(__name__)


async def report(store: Store, secrets: SecretBox, actor: Actor, event: Event) -> NotifyOutcome | None:
    """Notify, or log why it could not be tried; never raises (but cancellation)."""
    try:
        return await Notifier(store, secrets, actor).notify(event)
    except Exception as exc:  # the type only: a message could quote a URL
        log.warning("notification %s (%s) could not be sent: %s", event.key, event.kind.value, type(exc).__name__)
        return None


def run_failed(run_id: int, service_name: str, error: str) -> Event:
    return Event(EventKind.RUN_FAILED, f"run:{run_id}", f"Provisioning run {run_id} ({service_name}) FAILED",
                 error or "the run failed")


def backup_failed(label: str, file_name: str, reason: str) -> Event:
    return Event(EventKind.BACKUP_FAILED, f"backup:{label}", f"Backup of {label} ({file_name}) failed", reason)


def integrity_failed(bad_files: list[str]) -> Event:
    return Event(EventKind.INTEGRITY_FAILED, "integrity:production", "Integrity check FAILED",
                 "Damaged: " + ", ".join(bad_files))


def health_degraded(reasons: list[str]) -> Event:
    return Event(EventKind.HEALTH_DEGRADED, "health", "jumpdeck health is degraded", "\n".join(f"- {r}" for r in reasons))


def rollover_needed(today: date, archive_cutoff_year: int | None) -> Event | None:
    """In December, while the live DB still holds this year (the cutoff is not next
    year yet), the year-end rollover is due; otherwise nothing to say."""
    if today.month != 12 or (archive_cutoff_year is not None and archive_cutoff_year > today.year):
        return None
    nxt = today.year + 1
    return Event(EventKind.ROLLOVER_NEEDED, f"rollover:{nxt}", f"Archive rollover to {nxt} is due",
                 f"Run `jumpdeck archive rollover --year {nxt}` before the year ends.")


async def server_down(notifier: Notifier, server: str, *, failures: int, error: str,
                      tags: tuple[str, ...] = ()) -> NotifyOutcome:
    """For the watch: call on every failed check with the count of failures in a row;
    a message goes out once the rule's N is reached (then quiet period and repeat apply)."""
    key = f"server:{server}"
    config = await notifier.config()
    needed = config.rule(EventKind.SERVER_DOWN).after_failures
    if failures < needed:
        return NotifyOutcome(key, skipped=f"{failures} of {needed} failed checks in a row")
    return await notifier.notify(Event(EventKind.SERVER_DOWN, key, f"{server} is down",
                                       f"{failures} checks in a row failed: {error}", server=server, tags=tags))


async def server_up(notifier: Notifier, server: str, *, detail: str = "", tags: tuple[str, ...] = ()) -> NotifyOutcome:
    """For the watch: call when a server that was down answers again."""
    return await notifier.notify(Event(EventKind.SERVER_UP, f"server:{server}", f"{server} is up again",
                                       detail or "It answers its checks again.", server=server, tags=tags))
