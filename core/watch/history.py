"""Reading what the watch kept: latest results, incidents, a server's history and the
fleet's uptime. Uptime reads one row a server: the sums over 24 h and 30 d that the
recorder keeps in the latest result (core/watch/recorder.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.watch.buckets import aggregate_table, bucket_start, grain_for
from jumpdeck.core.watch.minute_slots import unpack
from jumpdeck.core.watch.store_clock import store_clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.store.engine import Store


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat() + "Z"


@dataclass(frozen=True)
class Incident:
    id: int
    server_id: int
    name: str
    started_at: datetime
    ended_at: datetime | None
    error_kind: str
    message: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None

    @property
    def open(self) -> bool:
        return self.ended_at is None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "server_id": self.server_id, "name": self.name, "started_at": _iso(self.started_at),
                "ended_at": _iso(self.ended_at), "open": self.open, "error_kind": self.error_kind,
                "message": self.message, "acknowledged_by": self.acknowledged_by,
                "acknowledged_at": _iso(self.acknowledged_at)}


@dataclass(frozen=True)
class Bucket:
    grain: str
    start: datetime
    up: int
    down: int
    latency_avg: float | None
    latency_min: float | None
    latency_max: float | None

    def as_json(self) -> dict[str, Any]:
        return {"grain": self.grain, "start": _iso(self.start), "up": self.up, "down": self.down,
                "latency_avg_ms": None if self.latency_avg is None else round(self.latency_avg, 1),
                "latency_min_ms": self.latency_min, "latency_max_ms": self.latency_max}


@dataclass(frozen=True)
class Uptime:
    server_id: int
    name: str
    group: str
    checks_24h: int
    uptime_24h: float | None  # percent; None when nothing was checked
    uptime_30d: float | None
    status: str | None  # the latest result's, None when never checked
    checked_at: datetime | None
    down_since: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.server_id, "name": self.name, "group": self.group, "checks_24h": self.checks_24h,
                "uptime_24h": self.uptime_24h, "uptime_30d": self.uptime_30d, "status": self.status,
                "checked_at": _iso(self.checked_at), "down_since": _iso(self.down_since)}


@dataclass(frozen=True)
class LatestResult:
    """What a face shows for a server instead of checking it again (with its age)."""

    server_id: int
    checked_at: datetime
    checked_by: str
    status: str
    error_kind: str | None
    message: str
    latency_ms: float | None
    version: str | None
    failures: int
    down_since: datetime | None


@dataclass(frozen=True)
class WatchHostInfo:
    """A running watch and how many servers it holds (the Overview's "watch hosts")."""

    host: str
    pid: int
    site: str
    started_at: datetime
    heartbeat_at: datetime
    servers: int


def _bucket(grain: str, start: datetime, t) -> Bucket:  # noqa: ANN001 - a row or a MinuteTally
    return Bucket(grain, start, t.up, t.down, t.latency_sum / t.up if t.up else None, t.latency_min, t.latency_max)


def _percent(up: int, down: int) -> float | None:
    return None if up + down == 0 else round(100.0 * up / (up + down), 3)


class WatchHistory:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def latest(self, actor: Actor) -> dict[int, LatestResult]:
        """Every server's latest recorded result, by server id."""
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import WatchLatestRow as L

        def load(session: Session) -> dict[int, LatestResult]:
            return {r.server_id: LatestResult(r.server_id, r.checked_at, r.checked_by, r.status, r.error_kind,
                                              r.message, r.latency_ms, r.version, r.failures, r.down_since)
                    for r in session.scalars(select(L))}

        return await self.store.run(load)

    async def hosts(self, actor: Actor, *, stale_after: timedelta = timedelta(minutes=2)) -> list[WatchHostInfo]:
        """The watches that said they were alive within `stale_after` (none: "no watch running")."""
        require(actor, Operation.VIEW)
        from sqlalchemy import and_, func, select

        from jumpdeck.core.store.models import WatchClaimRow as C, WatchHostRow as H

        def load(session: Session) -> list[WatchHostInfo]:
            held = (select(func.count()).select_from(C)
                    .where(and_(C.holder_host == H.host, C.holder_pid == H.pid)).scalar_subquery())
            stmt = (select(H, held).where(H.heartbeat_at >= store_clock(session) - stale_after)
                    .order_by(H.site, H.host, H.pid))
            return [WatchHostInfo(h.host, h.pid, h.site, h.started_at, h.heartbeat_at, int(n))
                    for h, n in session.execute(stmt)]

        return await self.store.run(load)

    async def incidents(self, actor: Actor, *, open_only: bool = False, server_id: int | None = None,
                        since: datetime | None = None, limit: int = 1000) -> list[Incident]:
        """Open incidents first, then the newest."""
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ServerRow, WatchIncidentRow as I

        def load(session: Session) -> list[Incident]:
            stmt = select(I, ServerRow.name).join(ServerRow, ServerRow.id == I.server_id)
            if open_only:
                stmt = stmt.where(I.ended_at.is_(None))
            if server_id is not None:
                stmt = stmt.where(I.server_id == server_id)
            if since is not None:
                stmt = stmt.where((I.ended_at.is_(None)) | (I.ended_at >= since))
            stmt = stmt.order_by(I.ended_at.is_not(None), I.started_at.desc(), I.id.desc()).limit(limit)
            return [Incident(i.id, i.server_id, name, i.started_at, i.ended_at, i.error_kind, i.message,
                             i.acknowledged_by, i.acknowledged_at) for i, name in session.execute(stmt)]

        return await self.store.run(load)

    async def history(self, actor: Actor, server_id: int, window: timedelta) -> list[Bucket]:
        """A server's buckets over the last `window`, in the finest grain kept that far back."""
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        grain = grain_for(window)
        row_grain = "hour" if grain == "minute" else grain  # minutes live in their hour's row
        A = aggregate_table(row_grain)

        def load(session: Session) -> list[Bucket]:
            start = bucket_start(store_clock(session) - window, grain)
            rows = session.scalars(select(A).where(A.server_id == server_id, A.bucket >= bucket_start(start, row_grain))
                                   .order_by(A.bucket))
            if grain != "minute":
                return [_bucket(grain, r.bucket, r) for r in rows]
            out = []
            for r in rows:
                for minute, tally in sorted(unpack(r.minutes).items()):
                    at = r.bucket + timedelta(minutes=minute)
                    if at >= start:
                        out.append(_bucket("minute", at, tally))
            return out

        return await self.store.run(load)

    async def uptime(self, actor: Actor, *, group: str | None = None) -> list[Uptime]:
        """Every active server (of `group`), by name: uptime over 24 h and 30 d."""
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ServerRow as S, WatchLatestRow as L

        def load(session: Session) -> list[Uptime]:
            stmt = (select(S.id, S.name, S.group_name, L.status, L.checked_at, L.down_since,
                           L.up_24h, L.down_24h, L.up_30d, L.down_30d)
                    .outerjoin(L, L.server_id == S.id).where(S.is_active.is_(True)).order_by(S.name_key))
            if group is not None:
                stmt = stmt.where(S.group_name == group)
            return [Uptime(sid, name, group_name, (up24 or 0) + (down24 or 0), _percent(up24 or 0, down24 or 0),
                           _percent(up30 or 0, down30 or 0), status, checked_at, down_since)
                    for sid, name, group_name, status, checked_at, down_since, up24, down24, up30, down30
                    in session.execute(stmt)]

        return await self.store.run(load)
