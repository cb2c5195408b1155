"""One writer at a time for a rule that reads before it writes.

A check such as "fewer than max_concurrent_runs are live" or "this name is free" is only
true until another process (or another jump host) commits. Taking `write_lock(session,
NAME)` first, inside the same transaction, makes the read and the write one step for
every process on the store: the lock is released when the transaction ends.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def write_lock(session: Session, name: str) -> None:
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
    else:
        # SQLite has a single writer: a write as the transaction's first statement takes
        # that lock now (waiting out the busy timeout), so what the reads after it see
        # cannot change before this transaction commits. It matches no row.
        session.execute(text("UPDATE settings SET id = id WHERE 0"))
