"""A read-only local snapshot of the shared PostgreSQL store.

While the shared store answers, this host keeps a SQLite copy of what operators need
to keep working through an outage: servers (with their encrypted passwords), corps,
users and their keys, the settings row, the workload pool and the most recent
provisioning runs with their events. When the shared store is unreachable the Store
serves reads from this copy and refuses every write (core/store/engine.py).

The copy is built in a temporary file next to the snapshot and moved over it with
`os.replace`, so a reader never sees half a file. The file is 0600: it holds the same
encrypted secrets as the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from jumpdeck.core.store.engine import Store

log = logging.getLogger("jumpdeck.store.snapshot")

# How many of the newest provisioning runs (and their events) the snapshot keeps.
RECENT_RUNS = 200
# Whole tables copied as they are, parents first.
_WHOLE_TABLES = ("servers", "corps", "users", "user_keys", "settings", "workload_pool")
_refresh_lock = threading.Lock()


def snapshot_path(data_dir: Path | str, redacted_url: str) -> Path:
    """One file per shared store, named after a hash of its URL (password hidden)."""
    digest = hashlib.sha256(redacted_url.encode()).hexdigest()[:16]
    return Path(data_dir) / "snapshots" / f"store-{digest}.sqlite"


def _plain_sqlite(path: Path) -> Engine:
    from sqlalchemy import create_engine

    return create_engine(f"sqlite:///{path}")


def read_only_engine(path: Path) -> Engine:
    """The snapshot opened so that any write fails ("attempt to write a readonly database")."""
    from sqlalchemy import create_engine

    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", connect_args={"check_same_thread": False})


def write_snapshot(source: Engine, path: Path) -> None:
    """Copy the shared store into `path`, atomically. Blocking: run it in a store thread."""
    from sqlalchemy import select

    from jumpdeck.core.store.models import Base

    tables = Base.metadata.tables
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _refresh_lock:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
        target = _plain_sqlite(tmp)
        try:
            # The models' schema (tests/core/test_store.py keeps it in step with the
            # migrations), not Alembic: its global context must not run in two threads.
            Base.metadata.create_all(target)
            with source.connect() as src, src.begin(), target.begin() as dst:
                # One read transaction on the source: the copy is of one moment.
                if source.dialect.name == "postgresql":
                    src.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                for name in _WHOLE_TABLES:
                    table = tables[name]
                    dst.execute(table.delete())
                    rows = [dict(r._mapping) for r in src.execute(select(table))]
                    if rows:
                        dst.execute(table.insert(), rows)
                runs, events = tables["provision_runs"], tables["provision_events"]
                run_rows = [dict(r._mapping) for r in
                            src.execute(select(runs).order_by(runs.c.id.desc()).limit(RECENT_RUNS))]
                if run_rows:
                    dst.execute(runs.insert(), run_rows)
                    ids = [r["id"] for r in run_rows]
                    event_rows = [dict(r._mapping) for r in src.execute(select(events).where(events.c.run_id.in_(ids)))]
                    if event_rows:
                        dst.execute(events.insert(), event_rows)
        except BaseException:
            target.dispose()
            tmp.unlink(missing_ok=True)
            raise
        target.dispose()
        os.replace(tmp, path)
    log.info("snapshot of the shared store written to %s", path)


def refresh_snapshot_sync(store: Store) -> bool:
    """Refresh `store`'s snapshot from the shared store; False when there is nothing to
    refresh from (a SQLite-only store, or the shared store is unreachable now)."""
    from sqlalchemy.exc import SQLAlchemyError

    if store.snapshot_path is None or store.read_only_since is not None:
        return False
    try:
        write_snapshot(store.engine, store.snapshot_path)
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()
        log.warning("snapshot not refreshed: %s", first[0] if first else type(exc).__name__)
        return False
    return True


async def refresh_snapshot(store: Store) -> bool:
    """Refresh the snapshot off the event loop (in a store thread). Safe to call often:
    refreshes never overlap."""
    if store.snapshot_path is None:
        return False
    return await asyncio.get_running_loop().run_in_executor(store._executor, refresh_snapshot_sync, store)


# What the snapshot holds, hence what makes it stale.
SNAPSHOT_TOPICS = frozenset({"servers", "corps", "users", "user_keys", "settings", "workload_pool", "provision_runs"})
# A burst of changes (a run moving through its steps) costs one copy per this window.
KEEP_CURRENT_DELAY = 2.0


def keep_current(store: Store, changes) -> Callable[[], None] | None:  # noqa: ANN001 - a ChangeSource
    """Refresh the snapshot shortly after the shared store changes (heard on `changes`),
    so an outage finds it current; None for a store without a snapshot."""
    if store.snapshot_path is None:
        return None
    pending: list[asyncio.TimerHandle] = []

    def copy() -> None:
        pending.clear()
        from jumpdeck.core.store.engine import _refresh_soon

        _refresh_soon(store, max_age=0.0)

    def changed(_topics: frozenset[str]) -> None:
        if not pending and not store.read_only:
            pending.append(asyncio.get_running_loop().call_later(KEEP_CURRENT_DELAY, copy))

    cancel = changes.subscribe(SNAPSHOT_TOPICS, changed)

    def stop() -> None:
        cancel()
        for timer in pending:
            timer.cancel()

    return stop
