"""The production figures as typed records: what queries return and faces draw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jumpdeck.core.errors import JumpdeckError, NotFound, ValidationError


@dataclass(frozen=True)
class DateRange:
    """Inclusive on both ends, like the seed's `date_from`/`date_to`."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(f"The range ends ({self.end}) before it starts ({self.start}).", field="to",
                                  remedy="Give --from a date on or before --to.")

    @classmethod
    def parse(cls, start: str, end: str) -> DateRange:
        return cls(parse_date(start, "from"), parse_date(end, "to"))

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def parse_date(text: str, field: str = "date") -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationError(f"'{text}' is not a date.", field=field, remedy="Write it as YYYY-MM-DD, e.g. 2026-01-31.") from None


@dataclass(frozen=True)
class Item:
    code: str
    name: str


@dataclass(frozen=True)
class MonthTotal:
    month: str  # 'YYYY-MM'
    quantity: int


@dataclass(frozen=True)
class DayTotal:
    day: str  # 'YYYY-MM-DD'
    quantity: int


@dataclass(frozen=True)
class ItemTrend:
    item: Item
    months: tuple[MonthTotal, ...]


@dataclass(frozen=True)
class TopItem:
    item: Item
    quantity: int


@dataclass(frozen=True)
class LotRecord:
    production_date: str
    lot_number: str
    item: Item
    good_quantity: int
    source: str  # the file's name: production_analysis.db or archive_YYYY.db


class ProductionUnavailable(NotFound):
    """No production DB file at all (or not readable)."""

    title = "No production data"


class ProductionLocked(JumpdeckError):
    """The DB stayed locked (the ERP writing) through the brief retries."""

    title = "Database locked"


class QueryTimeout(JumpdeckError):
    title = "Query too slow"
