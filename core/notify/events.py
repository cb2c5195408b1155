"""What can be notified: the kinds of event and the event a service hands the notifier."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class EventKind(str, enum.Enum):
    SERVER_DOWN = "server_down"
    SERVER_UP = "server_up"
    RUN_FAILED = "run_failed"
    BACKUP_FAILED = "backup_failed"
    INTEGRITY_FAILED = "integrity_failed"
    HEALTH_DEGRADED = "health_degraded"
    ROLLOVER_NEEDED = "rollover_needed"


# What each kind means, for `notify ls` and the rules' help.
KIND_HELP: dict[EventKind, str] = {
    EventKind.SERVER_DOWN: "a server stopped answering (after N consecutive failed checks)",
    EventKind.SERVER_UP: "a server that was down answers again",
    EventKind.RUN_FAILED: "a provisioning run ended FAILED",
    EventKind.BACKUP_FAILED: "a backup failed",
    EventKind.INTEGRITY_FAILED: "an integrity check found a damaged file",
    EventKind.HEALTH_DEGRADED: "maintenance health is degraded",
    EventKind.ROLLOVER_NEEDED: "December: the year-end archive rollover is due",
}


@dataclass(frozen=True)
class Event:
    """One thing worth telling. `key` names the condition (`server:pg-1`, `run:42`):
    the quiet period and the repeat interval count per key, so a server flapping sends
    one message, while two servers going down send two."""

    kind: EventKind
    key: str
    title: str
    body: str
    server: str | None = None  # the server it concerns, for maintenance windows
    tags: tuple[str, ...] = field(default_factory=tuple)  # that server's tags / group
