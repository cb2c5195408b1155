"""The store's clock as a Python value: every host writes times from it, never its own,
so watches on hosts whose clocks disagree still agree on what is due and expired."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def store_clock(session: Session) -> datetime:
    """Now on the store, naive UTC."""
    from sqlalchemy import select

    from jumpdeck.core.provision.lease import store_now

    value = session.execute(select(store_now(session))).scalar()
    # SQLite answers with text, PostgreSQL with a timestamp.
    return datetime.fromisoformat(value) if isinstance(value, str) else value
