"""Turn check results into what the store keeps: the latest result per server, incidents
on state changes and minute/hour/day aggregates. One call is one transaction for a whole
batch (a flush of the watch, or a `jumpdeck check` round), never a commit per check.

Aggregates are rolled up as results are written (each result counts once in its minute,
its hour and its day), so a coarser grain never waits for a job and always equals the
sum of what was checked. Minutes are slots in their hour's row, merged here under the
recorders' lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable

from jumpdeck.core.watch.buckets import ROW_GRAINS, Retention, aggregate_table, bucket_start
from jumpdeck.core.watch.events import IncidentClosed, IncidentOpened, WatchEvent
from jumpdeck.core.watch.minute_slots import MinuteTally, pack, unpack

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.servers.checks import CheckResult
    from jumpdeck.core.store.engine import Store


def _count(tally: MinuteTally, result: CheckResult) -> None:
    if not result.online:
        tally.down += 1
        return
    latency = float(result.latency_ms or 0.0)
    tally.merge(MinuteTally(1, 0, latency, latency, latency))


@dataclass
class _ServerState:
    failures: int = 0
    down_since: datetime | None = None
    incident: object | None = None  # the open WatchIncidentRow
    latest: dict = field(default_factory=dict)


def _naive_utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at


def _upsert(session: Session, table, rows: list[dict], keys: list[str], set_) -> None:  # noqa: ANN001
    """INSERT … ON CONFLICT DO UPDATE for both store dialects, as one executemany."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=set_(stmt)), rows)


def _aggregate_set(session: Session, A):  # noqa: ANN001, ANN202 - A: an aggregate model
    from sqlalchemy import func

    # NULL-safe least/greatest: PostgreSQL's LEAST skips NULLs, SQLite's min() does not.
    least, greatest = (func.least, func.greatest) if session.get_bind().dialect.name == "postgresql" else (func.min, func.max)

    def set_(stmt):  # noqa: ANN001, ANN202
        new = stmt.excluded
        values = {
            "up": A.up + new.up, "down": A.down + new.down, "latency_sum": A.latency_sum + new.latency_sum,
            "latency_min": least(func.coalesce(A.latency_min, new.latency_min), func.coalesce(new.latency_min, A.latency_min)),
            "latency_max": greatest(func.coalesce(A.latency_max, new.latency_max), func.coalesce(new.latency_max, A.latency_max)),
        }
        if hasattr(A, "minutes"):
            values["minutes"] = new.minutes  # merged with the stored slots already (`_merged_minutes`)
        return values
    return set_


def record_in(session: Session, results: Iterable[CheckResult], *, checked_by: str,
              failures_to_open: int) -> list[WatchEvent]:
    """Write a batch of results in `session`; return the incidents it opened and closed.
    Results of servers not (or no longer) in the store are dropped."""
    from sqlalchemy import select

    from jumpdeck.core.store.locks import write_lock
    from jumpdeck.core.store.models import ServerRow, WatchIncidentRow, WatchLatestRow

    batch = sorted((r for r in results if r.server_id is not None), key=lambda r: r.checked_at)
    if not batch:
        return []
    # Two recorders (two watches, a watch and `jumpdeck check`) must not both open an
    # incident for one server: the streak is read and written as one step.
    write_lock(session, "watch_record")
    ids = sorted({r.server_id for r in batch})
    names = dict(session.execute(select(ServerRow.id, ServerRow.name).where(ServerRow.id.in_(ids))).all())
    states = {sid: _ServerState() for sid in names}
    for row in session.scalars(select(WatchLatestRow).where(WatchLatestRow.server_id.in_(ids))):
        states[row.server_id].failures, states[row.server_id].down_since = row.failures, row.down_since
    for inc in session.scalars(select(WatchIncidentRow).where(WatchIncidentRow.server_id.in_(ids),
                                                              WatchIncidentRow.ended_at.is_(None))):
        states[inc.server_id].incident = inc
    tallies: dict[tuple[int, str, datetime], MinuteTally] = {}
    minutes: dict[tuple[int, datetime], dict[int, MinuteTally]] = {}
    events: list[tuple[str, object]] = []

    def open_incident(sid: int, started: datetime, kind: str, message: str) -> None:
        inc = WatchIncidentRow(server_id=sid, started_at=started, error_kind=kind, message=message)
        session.add(inc)
        states[sid].incident = inc
        events.append(("opened", inc))

    def close_incident(sid: int, at: datetime) -> None:
        inc = states[sid].incident
        inc.ended_at = at
        states[sid].incident = None
        events.append(("closed", inc))

    for result in batch:
        sid = result.server_id
        state = states.get(sid)
        if state is None:
            continue
        at = _naive_utc(result.checked_at)
        kind = result.error_kind.value if result.error_kind else None
        if result.online:
            state.failures, state.down_since = 0, None
            if state.incident is not None:
                close_incident(sid, at)
        else:
            state.failures += 1
            state.down_since = state.down_since or at
            if state.incident is None and state.failures >= failures_to_open:
                open_incident(sid, state.down_since, kind or "other", result.message)
            elif state.incident is not None and state.incident.error_kind != kind:
                # Down another way (a timeout became a refused login): its own incident.
                close_incident(sid, at)
                open_incident(sid, at, kind or "other", result.message)
        state.latest = {
            "server_id": sid, "checked_at": at, "checked_by": checked_by, "status": result.status.value,
            "error_kind": kind, "message": result.message, "latency_ms": result.latency_ms,
            "version": result.version, "failures": state.failures, "down_since": state.down_since,
        }
        for grain in ROW_GRAINS:
            _count(tallies.setdefault((sid, grain, bucket_start(at, grain)), MinuteTally()), result)
        _count(minutes.setdefault((sid, bucket_start(at, "hour")), {}).setdefault(at.minute, MinuteTally()), result)

    packed = _merged_minutes(session, minutes)
    for grain in ROW_GRAINS:
        table = aggregate_table(grain)
        _upsert(session, table,
                [{"server_id": sid, "bucket": bucket, "up": t.up, "down": t.down, "latency_sum": t.latency_sum,
                  "latency_min": t.latency_min, "latency_max": t.latency_max,
                  **({"minutes": packed[(sid, bucket)]} if grain == "hour" else {})}
                 for (sid, row_grain, bucket), t in tallies.items() if row_grain == grain],
                ["server_id", "bucket"], _aggregate_set(session, table))
    latest = [s.latest for s in states.values() if s.latest]
    rolled = _rolling_sums(session, [row["server_id"] for row in latest], _naive_utc(batch[-1].checked_at))
    for row in latest:
        row.update(rolled.get(row["server_id"], {}))
    _upsert(session, WatchLatestRow, latest, ["server_id"],
            lambda stmt: {c: getattr(stmt.excluded, c) for c in latest[0] if c != "server_id"})
    session.flush()  # the new incidents' ids
    return [IncidentOpened(inc.id, inc.server_id, names[inc.server_id], inc.started_at, inc.error_kind, inc.message)
            if what == "opened" else
            IncidentClosed(inc.id, inc.server_id, names[inc.server_id], inc.started_at, inc.ended_at, inc.error_kind)
            for what, inc in events]


def _rolling_sums(session: Session, ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    """Each server's up/down over the 24 hour buckets and the 30 day buckets up to `now`."""
    from sqlalchemy import func, select

    out: dict[int, dict[str, int]] = {sid: {"up_24h": 0, "down_24h": 0, "up_30d": 0, "down_30d": 0} for sid in ids}
    for grain, since, suffix in (("hour", now - timedelta(hours=24), "24h"), ("day", now - timedelta(days=30), "30d")):
        A = aggregate_table(grain)
        stmt = (select(A.server_id, func.sum(A.up), func.sum(A.down))
                .where(A.server_id.in_(ids), A.bucket >= bucket_start(since, grain)).group_by(A.server_id))
        for sid, up, down in session.execute(stmt):
            out[sid][f"up_{suffix}"], out[sid][f"down_{suffix}"] = int(up), int(down)
    return out


def _merged_minutes(session: Session, minutes: dict[tuple[int, datetime], dict[int, MinuteTally]]
                    ) -> dict[tuple[int, datetime], bytes]:
    """Each touched hour's minute slots: what its row holds plus this batch."""
    from sqlalchemy import select

    from jumpdeck.core.store.models import WatchHourRow as H

    ids = {sid for sid, _ in minutes}
    hours = {hour for _, hour in minutes}
    stored = session.execute(select(H.server_id, H.bucket, H.minutes).where(
        H.server_id.in_(ids), H.bucket.in_(hours), H.minutes.is_not(None)))
    merged = {key: dict(batch) for key, batch in minutes.items()}
    for sid, hour, blob in stored:
        if (sid, hour) in merged:
            slots = unpack(blob)
            for minute, tally in merged[(sid, hour)].items():
                slots.setdefault(minute, MinuteTally()).merge(tally)
            merged[(sid, hour)] = slots
    return {key: pack(slots) for key, slots in merged.items()}


async def record_results(store: Store, results: Iterable[CheckResult], *, checked_by: str,
                         failures_to_open: int) -> list[WatchEvent]:
    """`record_in` in one store transaction."""
    batch = list(results)
    return await store.run(lambda s: record_in(s, batch, checked_by=checked_by, failures_to_open=failures_to_open))


def prune_in(session: Session, now: datetime, retention: Retention) -> int:
    """Drop aggregates and closed incidents past their retention (and the minutes of hours
    past theirs); the rows removed or emptied."""
    from sqlalchemy import delete, update

    from jumpdeck.core.store.models import WatchHourRow as H, WatchIncidentRow as I

    cutoffs = retention.cutoffs(now)
    removed = 0
    for grain in ROW_GRAINS:
        table = aggregate_table(grain)
        removed += session.execute(delete(table).where(table.bucket < bucket_start(cutoffs[grain], grain))
                                   .execution_options(synchronize_session=False)).rowcount
    # Minutes past their retention: the hour row stays, its slots go.
    removed += session.execute(update(H).where(H.minutes.is_not(None),
                                               H.bucket < bucket_start(cutoffs["minute"], "hour"))
                               .values(minutes=None).execution_options(synchronize_session=False)).rowcount
    removed += session.execute(delete(I).where(I.ended_at.is_not(None), I.ended_at < now - retention.days)
                               .execution_options(synchronize_session=False)).rowcount
    return removed
