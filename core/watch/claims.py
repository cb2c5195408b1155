"""How the watches on one store share the fleet: each server is held by one live watch,
which renews its lease every tick; a lease left to expire (a host stopped, crashed or
cut off) frees the server for any other eligible watch. When hosts come or go each one
evens out towards its share (the servers over the number of live watches).

Rows are taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two watches claiming at
the same moment get disjoint servers without waiting on each other; SQLite has one
writer at a time (and one host), which gives the same. Every time comes from the store's
clock. When a server is next due lives in its claim, not in its holder, so a server that
changes hands is still checked once per interval.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class WatchHost:
    """One running watch: the host, its pid (two watches may share a host) and its site."""

    host: str
    pid: int
    site: str

    @property
    def label(self) -> str:
        return f"{self.host}:{self.pid}"


@dataclass(frozen=True)
class Share:
    """What one tick found: live watches, servers this one holds, how many it took."""

    live_hosts: int
    held: int
    taken: int
    released: int


def _locked(session: Session, stmt):  # noqa: ANN001, ANN202
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True, of=_claims())
    return stmt


def _claims():  # noqa: ANN202
    from jumpdeck.core.store.models import WatchClaimRow

    return WatchClaimRow


def _mine(me: WatchHost):  # noqa: ANN202
    C = _claims()
    return (C.holder_host == me.host) & (C.holder_pid == me.pid)


def _eligible(me: WatchHost):  # noqa: ANN202
    """Active servers this watch may check: not pinned, or pinned to its site."""
    from sqlalchemy import select

    from jumpdeck.core.store.models import ServerRow

    C = _claims()
    active = select(ServerRow.id).where(ServerRow.is_active.is_(True))
    return C.server_id.in_(active) & (C.pinned_site.is_(None) | (C.pinned_site == me.site))


def heartbeat(session: Session, me: WatchHost, now: datetime, lease: float) -> int:
    """Say this watch is alive; forget watches silent for a lease. Live watches, this one included."""
    from sqlalchemy import delete, func, select

    from jumpdeck.core.store.models import WatchHostRow as H

    row = session.get(H, (me.host, me.pid))
    if row is None:
        session.add(H(host=me.host, pid=me.pid, site=me.site, started_at=now, heartbeat_at=now))
    else:
        row.heartbeat_at, row.site = now, me.site
    session.execute(delete(H).where(H.heartbeat_at < now - timedelta(seconds=lease))
                    .execution_options(synchronize_session=False))
    session.flush()
    return session.execute(select(func.count()).select_from(H)).scalar_one()


def add_missing_claims(session: Session, now: datetime, interval: float, rng: random.Random) -> int:
    """A claim for every active server without one, its first check spread over an interval
    so a fleet registered at once is not checked in one burst."""
    from sqlalchemy import select

    from jumpdeck.core.store.models import ServerRow

    C = _claims()
    missing = session.scalars(select(ServerRow.id).where(ServerRow.is_active.is_(True),
                                                         ServerRow.id.not_in(select(C.server_id)))).all()
    for sid in missing:
        session.add(C(server_id=sid, next_due_at=now + timedelta(seconds=rng.random() * interval)))
    session.flush()
    return len(missing)


def balance(session: Session, me: WatchHost, now: datetime, lease: float, live_hosts: int) -> Share:
    """Renew this watch's leases, then take free or expired servers up to its share, or
    give back what it holds beyond it (the servers due last, so none is left unchecked)."""
    from sqlalchemy import func, select, update

    C = _claims()
    until = now + timedelta(seconds=lease)
    held = session.execute(update(C).where(_mine(me)).values(lease_expires_at=until)
                           .execution_options(synchronize_session=False)).rowcount
    total = session.execute(select(func.count()).select_from(C).where(_eligible(me))).scalar_one()
    share = math.ceil(total / max(1, live_hosts))
    taken = released = 0
    if held < share:
        free = (C.holder_host.is_(None) | C.lease_expires_at.is_(None) | (C.lease_expires_at < now))
        ids = session.scalars(_locked(session, select(C.server_id).where(free, _eligible(me))
                                      .order_by(C.next_due_at).limit(share - held))).all()
        if ids:
            taken = session.execute(update(C).where(C.server_id.in_(ids))
                                    .values(holder_host=me.host, holder_pid=me.pid, lease_expires_at=until)
                                    .execution_options(synchronize_session=False)).rowcount
    elif held > share:
        ids = session.scalars(select(C.server_id).where(_mine(me)).order_by(C.next_due_at.desc())
                              .limit(held - share)).all()
        released = _let_go(session, ids)
    return Share(live_hosts, held + taken - released, taken, released)


def _let_go(session: Session, ids) -> int:  # noqa: ANN001
    from sqlalchemy import update

    C = _claims()
    if not ids:
        return 0
    return session.execute(update(C).where(C.server_id.in_(list(ids)))
                           .values(holder_host=None, holder_pid=None, lease_expires_at=None)
                           .execution_options(synchronize_session=False)).rowcount


def take_due(session: Session, me: WatchHost, now: datetime, interval: float, jitter: float,
             rng: random.Random, busy: set[int], limit: int) -> list[int]:
    """The servers this watch holds (lease still good) that are due, each given its next
    due time now: the same server is never handed out twice in an interval."""
    from sqlalchemy import select

    from jumpdeck.core.store.models import ServerRow

    C = _claims()
    rows = session.scalars(_locked(session, select(C).where(
        _mine(me), C.lease_expires_at > now, C.next_due_at <= now,
        C.server_id.in_(select(ServerRow.id).where(ServerRow.is_active.is_(True))))
        .order_by(C.next_due_at).limit(limit + len(busy)))).all()
    due = []
    for row in rows:
        if row.server_id in busy or len(due) >= limit:
            continue  # still being checked (a silent server outlasting its interval)
        row.next_due_at = now + timedelta(seconds=interval * (1 + rng.random() * jitter))
        due.append(row.server_id)
    session.flush()
    return due


def release_all(session: Session, me: WatchHost) -> int:
    """A watch stopping cleanly: its servers free at once, its host row gone."""
    from sqlalchemy import delete, select

    from jumpdeck.core.store.models import WatchHostRow as H

    C = _claims()
    released = _let_go(session, session.scalars(select(C.server_id).where(_mine(me))).all())
    session.execute(delete(H).where(H.host == me.host, H.pid == me.pid).execution_options(synchronize_session=False))
    return released


def pin(session: Session, server_id: int, site: str | None, now: datetime) -> None:
    """Only a watch of `site` checks the server (None: any watch). A holder elsewhere lets go."""
    C = _claims()
    row = session.get(C, server_id)
    if row is None:
        row = C(server_id=server_id, next_due_at=now)
        session.add(row)
    row.pinned_site = site
    if site is not None and row.holder_host is not None:
        from jumpdeck.core.store.models import WatchHostRow as H
        from sqlalchemy import select

        holder_site = session.execute(select(H.site).where(H.host == row.holder_host, H.pid == row.holder_pid)).scalar()
        if holder_site != site:
            row.holder_host = row.holder_pid = row.lease_expires_at = None
    session.flush()
