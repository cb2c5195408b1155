"""The activity log: who did what, when, from where.

`record()` is called inside the same transaction as the mutation it describes, so a
mutation and its audit row land together or not at all. Queries page by id (keyset),
so the newest page of a 100k-row log costs the same as of a 100-row one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from jumpdeck.core.identity import Actor, Operation, require

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.store.engine import Store

DETAIL_MAX = 2000
# A filter longer than any stored detail matches nothing anyway; SQLite refuses LIKE
# patterns over 50,000 bytes, so the limit is a sentence here rather than a store error.
FILTER_MAX = 500


@dataclass(frozen=True)
class ActivityEntry:
    id: int
    at: datetime
    actor: str
    origin: str
    action: str
    target_type: str
    target_id: str
    detail: str


@dataclass(frozen=True)
class ActivityFilter:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    text: str | None = None  # free text over target id and detail
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive

    def is_empty(self) -> bool:
        return not (self.actor or self.action or self.target_type or self.text or self.since or self.until)

    def checked(self) -> ActivityFilter:
        """Itself, or ValidationError naming the filter no query could take."""
        from jumpdeck.core.errors import ValidationError
        from jumpdeck.core.text_checks import storable_text

        for name, value in (("actor", self.actor), ("action", self.action), ("target type", self.target_type),
                            ("text", self.text)):
            if value is None:
                continue
            storable_text(value, label=f"{name} filter", field=name)
            if len(value) > FILTER_MAX:
                raise ValidationError(f"The {name} filter is limited to {FILTER_MAX} characters.", field=name)
        if self.since and self.until and self.since >= self.until:
            raise ValidationError("The date range ends before it starts.", field="until",
                                  remedy="Give --since before --until.")
        return self


@dataclass(frozen=True)
class ActivityPage:
    entries: list[ActivityEntry]
    has_more: bool

    @property
    def next_before_id(self) -> int | None:
        return self.entries[-1].id if self.entries and self.has_more else None


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object = "",
    detail: str = "",
    at: datetime | None = None,
) -> None:
    """Add one audit row in the caller's transaction. Callers never pass secrets in
    `detail`; `tests/core/test_secrets_never_leak.py` holds them to it."""
    from jumpdeck.core.store.models import ActivityRow

    session.add(
        ActivityRow(
            actor=actor.user,
            origin=actor.origin,
            action=action.upper(),
            target_type=target_type.upper(),
            target_id=str(target_id),
            detail=detail[:DETAIL_MAX],
            **({"at": at} if at is not None else {}),
        )
    )


def _to_entry(row) -> ActivityEntry:  # noqa: ANN001
    return ActivityEntry(row.id, row.at, row.actor, row.origin, row.action, row.target_type, row.target_id, row.detail)


class ActivityService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def record(self, actor: Actor, action: str, target_type: str, target_id: object = "", detail: str = "") -> None:
        """Audit an event that has no transaction of its own (a login, an SSH session).
        While the shared store is read-only the row waits in this process and is written
        when the store is back, with the time it happened: the event itself (reading,
        checking, an SSH session) is allowed during an outage."""
        from jumpdeck.core.errors import StoreReadOnly

        try:
            await self.store.run(lambda s: record(s, actor, action, target_type, target_id, detail))
        except StoreReadOnly:
            from jumpdeck.core.store.models import utcnow

            at = utcnow()
            self.store.defer_until_back(lambda s: record(s, actor, action, target_type, target_id, detail, at=at))

    async def page(
        self,
        actor: Actor,
        filters: ActivityFilter = ActivityFilter(),
        *,
        before_id: int | None = None,
        limit: int = 100,
    ) -> ActivityPage:
        """Newest first. Pass the last id of a page as `before_id` for the next one."""
        require(actor, Operation.VIEW)
        filters = filters.checked()
        from sqlalchemy import or_, select

        from jumpdeck.core.store.models import ActivityRow

        def query(session: Session) -> ActivityPage:
            stmt = select(ActivityRow).order_by(ActivityRow.id.desc()).limit(limit + 1)
            if before_id is not None:
                stmt = stmt.where(ActivityRow.id < before_id)
            if filters.actor:
                stmt = stmt.where(ActivityRow.actor == filters.actor)
            if filters.action:
                stmt = stmt.where(ActivityRow.action == filters.action.upper())
            if filters.target_type:
                stmt = stmt.where(ActivityRow.target_type == filters.target_type.upper())
            if filters.text:
                pattern = f"%{filters.text}%"
                stmt = stmt.where(or_(ActivityRow.detail.ilike(pattern), ActivityRow.target_id.ilike(pattern)))
            if filters.since:
                stmt = stmt.where(ActivityRow.at >= filters.since)
            if filters.until:
                stmt = stmt.where(ActivityRow.at < filters.until)
            rows = session.scalars(stmt).all()
            return ActivityPage([_to_entry(r) for r in rows[:limit]], has_more=len(rows) > limit)

        return await self.store.run(query)

    async def every_entry(self, actor: Actor, filters: ActivityFilter = ActivityFilter(), *,
                          batch: int = 1000) -> AsyncIterator[list[ActivityEntry]]:
        """Every matching entry, newest first, a page at a time (an export of a year's log
        never holds it all in memory)."""
        before: int | None = None
        while True:
            page = await self.page(actor, filters, before_id=before, limit=batch)
            if page.entries:
                yield page.entries
            if not page.has_more:
                return
            before = page.next_before_id

    async def distinct_values(self, actor: Actor) -> dict[str, list[str]]:
        """The actors, actions and target types present, for the filter pickers."""
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ActivityRow

        def query(session: Session) -> dict[str, list[str]]:
            out = {}
            for name, column in (("actor", ActivityRow.actor), ("action", ActivityRow.action), ("target_type", ActivityRow.target_type)):
                out[name] = sorted(v for v in session.scalars(select(column).distinct()) if v)
            return out

        return await self.store.run(query)
