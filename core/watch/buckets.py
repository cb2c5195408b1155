"""The aggregates' grains, their bucket starts and how long each is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Rows are kept per hour and per day; minutes live packed in their hour's row.
ROW_GRAINS = ("hour", "day")


def bucket_start(at: datetime, grain: str) -> datetime:
    if grain == "minute":
        return at.replace(second=0, microsecond=0)
    if grain == "hour":
        return at.replace(minute=0, second=0, microsecond=0)
    if grain == "day":
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(f"unknown grain {grain!r}")


@dataclass(frozen=True)
class Retention:
    """How long each grain is kept (settings watch_keep_*)."""

    minutes: timedelta = timedelta(hours=24)
    hours: timedelta = timedelta(days=30)
    days: timedelta = timedelta(days=400)

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """Per grain, the oldest bucket start kept."""
        return {"minute": now - self.minutes, "hour": now - self.hours, "day": now - self.days}

    @classmethod
    def from_settings(cls, settings) -> Retention:  # noqa: ANN001 - core.settings.Settings
        return cls(timedelta(hours=settings.get("watch_keep_minutes_hours")),
                   timedelta(days=settings.get("watch_keep_hours_days")),
                   timedelta(days=settings.get("watch_keep_days_days")))


def grain_for(window: timedelta) -> str:
    """The finest grain still kept for a window reaching that far back."""
    if window <= timedelta(hours=24):
        return "minute"
    if window <= timedelta(days=30):
        return "hour"
    return "day"


def aggregate_table(grain: str):  # noqa: ANN201 - a model class
    """The model holding a row grain's aggregates."""
    from jumpdeck.core.store.models import WatchDayRow, WatchHourRow

    return {"hour": WatchHourRow, "day": WatchDayRow}[grain]
