"""Run leases on the store's clock (never a host's), so clock skew between jump hosts
does not matter. A worker holds its run while it renews `lease_expires_at`; any host
that sees the lease expired may fail the run (ProvisionService.reap_expired)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jumpdeck.core.identity import this_host as _host

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def this_host() -> str:
    """The name this process writes as a lease holder (with its pid). The tests play
    other jump hosts with processes of their own hostname (`unshare -u`)."""
    return _host()


def store_now(session: Session):  # noqa: ANN201
    """The store's current time as an SQL expression (naive UTC)."""
    from sqlalchemy import literal_column

    if session.get_bind().dialect.name == "postgresql":
        return literal_column("(clock_timestamp() at time zone 'utc')")
    return literal_column("strftime('%Y-%m-%d %H:%M:%f', 'now')")


def store_in(session: Session, seconds: float):  # noqa: ANN201
    """The store's time `seconds` from now, as an SQL expression."""
    from sqlalchemy import literal_column

    secs = f"{float(seconds):.3f}"
    if session.get_bind().dialect.name == "postgresql":
        return literal_column(f"((clock_timestamp() at time zone 'utc') + interval '{secs} seconds')")
    return literal_column(f"strftime('%Y-%m-%d %H:%M:%f', 'now', '+{secs} seconds')")


def renew_in(session: Session, run_id: int, host: str, pid: int, expire: float) -> bool:
    """Extend the lease if this host+pid still holds it on a live run. False: lost."""
    from sqlalchemy import update

    from jumpdeck.core.provision.events import LIVE_STATUSES
    from jumpdeck.core.store.models import ProvisionRunRow as R

    result = session.execute(
        update(R).where(R.id == run_id, R.lease_host == host, R.lease_pid == pid, R.status.in_(LIVE_STATUSES))
        .values(lease_expires_at=store_in(session, expire)).execution_options(synchronize_session=False))
    return result.rowcount == 1
