"""What the watch tells its listeners (the CLI prints them; notifications hook in here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Union


@dataclass(frozen=True)
class IncidentOpened:
    incident_id: int
    server_id: int
    name: str
    started_at: datetime  # naive UTC: the first failure of the streak
    error_kind: str
    message: str


@dataclass(frozen=True)
class IncidentClosed:
    incident_id: int
    server_id: int
    name: str
    started_at: datetime
    ended_at: datetime  # naive UTC: the check that answered again (or failed another way)
    error_kind: str


WatchEvent = Union[IncidentOpened, IncidentClosed]


def describe(event: WatchEvent) -> str:
    """One line for a terminal or a log."""
    if isinstance(event, IncidentOpened):
        return (f"DOWN {event.name} since {event.started_at:%Y-%m-%d %H:%M:%S} UTC: "
                f"{event.error_kind}: {event.message}")
    lasted = int((event.ended_at - event.started_at).total_seconds())
    return f"UP {event.name} at {event.ended_at:%Y-%m-%d %H:%M:%S} UTC after {lasted} s ({event.error_kind})"
