"""Opening the metadata store: SQLite by default, PostgreSQL when `store_url` is set.

The store is opened once per process, migrated to the newest schema (never dropped),
and used through `Store.run(fn)`, which runs `fn(session)` in a worker thread inside
one transaction, so a blocking driver never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

from jumpdeck.core.errors import ConfigError, StoreError, StoreReadOnly, StoreUnreachable
from jumpdeck.core.package_data import migrations_dir
from jumpdeck.core.store import announcers

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

T = TypeVar("T")
log = logging.getLogger("jumpdeck.store")

# The newest migration; tests/core/test_store.py checks it equals Alembic's head.
HEAD_REVISION = "0009_watch"


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL: show only its scheme
        return url.split(":", 1)[0] + "://…"


class Store:
    """The metadata store: open, or opened on first use (`deferred_store`).

    A store on a shared PostgreSQL that stops answering turns read-only: reads come
    from this host's snapshot of it (core/store/snapshot.py), writes raise
    `StoreReadOnly`, and a probe thread turns it back as soon as the store answers.
    Faces learn of both through `on_change`."""

    PROBE_SECONDS = 2.0

    def __init__(self, engine: Engine | None = None, url_display: str = "", kind: str = "sqlite",
                 degraded_reason: str | None = None, *, opener: Callable[[Store], Engine] | None = None,
                 snapshot_path: Path | None = None, read_only_since: datetime | None = None) -> None:
        self._engine = engine
        self._opener = opener
        self.url_display = url_display  # the URL with any password hidden
        self.kind = kind  # "sqlite" or "postgresql"
        self.snapshot_path = snapshot_path  # set for a shared PostgreSQL store
        self.read_only_since: datetime | None = None
        self._ro_engine: Engine | None = None
        self._listeners: list[Callable[[Store], None]] = []
        self._deferred: list[Callable[[Session], None]] = []  # audit rows written when back
        self._refresh_queued = False
        self._state_lock = threading.Lock()
        self._closed = threading.Event()
        self._engine_lock = threading.Lock()
        # Threads start with the first call, so a store nobody uses costs none.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store")
        self._session_factory: Callable[[], Session] | None = None
        self._ro_session_factory: Callable[[], Session] | None = None
        if read_only_since is not None:
            self._enter_read_only(read_only_since)

    @property
    def read_only(self) -> bool:
        return self.read_only_since is not None

    @property
    def degraded(self) -> bool:
        return self.read_only

    @property
    def degraded_reason(self) -> str | None:
        """What the banner and the CLI's warning line say while read-only, else None."""
        if self.read_only_since is None:
            return None
        return (f"read-only since {self.read_only_since.astimezone():%H:%M}: the shared store {self.url_display} "
                "is unreachable; checks, dashboards, SSH and logs work, changes are refused")

    def on_change(self, callback: Callable[[Store], None]) -> Callable[[], None]:
        """Call `callback(store)` when the store turns read-only or back (from a store or
        probe thread: a face hands it to its loop). Returns a function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _notify(self) -> None:
        for callback in list(self._listeners):
            try:
                callback(self)
            except Exception:  # noqa: BLE001 - a face's mistake must not break the store
                log.exception("store state listener failed")

    def _enter_read_only(self, since: datetime | None = None) -> None:
        from jumpdeck.core.store.snapshot import read_only_engine

        with self._state_lock:
            if self.read_only_since is not None:
                return
            assert self.snapshot_path is not None
            if self._ro_engine is not None:
                # The snapshot may have been replaced since the last outage: new connections.
                self._ro_engine.dispose()
            self._ro_engine = read_only_engine(self.snapshot_path)
            self._ro_session_factory = None
            self.read_only_since = since or datetime.now(timezone.utc)
        log.warning("store read-only: %s", self.degraded_reason)
        threading.Thread(target=self._probe, name="store-probe", daemon=True).start()
        self._notify()

    def _probe(self) -> None:
        """While read-only: try the shared store every few seconds; when it answers,
        bring its schema up to date, record the outage in its activity log and turn back."""
        from sqlalchemy.exc import SQLAlchemyError

        while not self._closed.wait(self.PROBE_SECONDS):
            try:
                with _open_lock:  # Alembic's context is global: one migration at a time
                    migrate(self.engine)  # one connect and one SELECT when already at head
            except (SQLAlchemyError, OSError):
                continue
            with self._state_lock:
                since, self.read_only_since = self.read_only_since, None
            back = datetime.now(timezone.utc)
            log.warning("store back: %s answers again (read-only since %s)", self.url_display, since)
            self._record_outage(since, back)
            _refresh_soon(self, max_age=0.0)
            self._notify()
            return

    def defer_until_back(self, fn: Callable[[Session], None]) -> None:
        """Run `fn(session)` in the transaction that records the outage once the store is back
        (an audit row of something allowed meanwhile). Lost if the process ends first."""
        self._deferred.append(fn)

    def _record_outage(self, since: datetime | None, back: datetime) -> None:
        from jumpdeck.core.identity import local_origin
        from jumpdeck.core.store.models import ActivityRow

        def audit(session: Session, action: str, text: str, at: datetime | None) -> None:
            # The store's own rows (the activity service sits above the store): the
            # same columns core/activity.py `record` writes.
            session.add(ActivityRow(actor="jumpdeck", origin=local_origin(), action=action, target_type="STORE",
                                    target_id=self.url_display, detail=text, **({"at": at} if at else {})))

        detail = f"read-only since {since:%Y-%m-%d %H:%M:%S} UTC" if since else "read-only"
        try:
            deferred, self._deferred = self._deferred, []

            def write(session: Session) -> None:
                audit(session, "STORE_READ_ONLY", detail, since.replace(tzinfo=None) if since else None)
                for fn in deferred:
                    fn(session)
                audit(session, "STORE_BACK", f"back at {back:%Y-%m-%d %H:%M:%S} UTC", back.replace(tzinfo=None))

            self.run_sync(write)
        except StoreError as exc:
            log.warning("outage not recorded: %s", exc)

    def _refresh_snapshot(self) -> None:
        from jumpdeck.core.store.snapshot import refresh_snapshot_sync

        try:
            refresh_snapshot_sync(self)
        finally:
            self._refresh_queued = False

    def refused(self) -> StoreReadOnly:
        since = self.read_only_since.astimezone() if self.read_only_since else datetime.now().astimezone()
        return StoreReadOnly(
            f"The shared store {self.url_display} is unreachable since {since:%H:%M}; nothing can be changed until it is back.",
            remedy="Wait for the store to answer again (jumpdeck notices by itself) or ask whoever runs its PostgreSQL.")

    @property
    def opened(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._engine_lock:  # the store threads may ask at once
                if self._engine is None:
                    assert self._opener is not None
                    self._engine = self._opener(self)
        return self._engine

    async def ready(self) -> None:
        """Open a deferred store off the event loop: importing SQLAlchemy and the models
        takes most of a second, and the services import it on the loop when first
        called. A no-op once open."""
        if self._engine is None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._open_now)

    def _open_now(self) -> None:
        import sqlalchemy.orm  # noqa: F401 - what the services import next, on the loop
        import jumpdeck.core.store.models  # noqa: F401

        self.engine  # noqa: B018 - opening is the point

    def session(self) -> Session:
        from sqlalchemy.orm import sessionmaker

        if self.read_only_since is not None and self._ro_engine is not None:
            if self._ro_session_factory is None:
                self._ro_session_factory = sessionmaker(bind=self._ro_engine, expire_on_commit=False)
            return self._ro_session_factory()
        if self._session_factory is None:
            self._session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        return self._session_factory()

    def _once(self, fn: Callable[[Session], T]) -> T:
        with self.session() as session:
            with session.begin():
                return fn(session)

    def run_sync(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` in one transaction: committed if it returns, rolled back if it raises.
        SQLAlchemy's errors never leave here: a lost shared store turns the store
        read-only (and `fn` is served by the snapshot), a write meanwhile is
        `StoreReadOnly`, anything else a `StoreError` with one sentence."""
        from sqlalchemy.exc import SQLAlchemyError

        self.engine  # noqa: B018 - a deferred store opens first (its own errors are sentences)
        was_read_only = self.read_only
        try:
            result = self._once(fn)
            if not was_read_only and self.snapshot_path is not None:
                _refresh_soon(self, max_age=60.0)  # a stat; a copy in a store thread at most once a minute
            return result
        except SQLAlchemyError as exc:
            if was_read_only or self.read_only:
                raise self._read_only_error(exc) from None
            if not self._lost_connection(exc):
                raise self._store_error(exc) from None
        self._enter_read_only()
        try:
            return self._once(fn)
        except SQLAlchemyError as exc:
            raise self._read_only_error(exc) from None

    def _read_only_error(self, exc: Exception) -> StoreError:
        if "readonly database" in str(exc):
            return self.refused()
        return self._store_error(exc)

    def _lost_connection(self, exc: Exception) -> bool:
        """Whether `exc` means the shared store is gone (not a bad statement)."""
        from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

        if self.kind != "postgresql" or self.snapshot_path is None or not self.snapshot_path.exists():
            return False
        if not isinstance(exc, (OperationalError, InterfaceError)) and not (
                isinstance(exc, DBAPIError) and exc.connection_invalidated):
            return False
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except (SQLAlchemyError, OSError):
            return True
        return False

    def _store_error(self, exc: Exception) -> StoreError:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()
        if self.kind == "sqlite" and first and "readonly database" in first[0]:
            return StoreReadOnly(f"The store {self.url_display} is on a read-only disk, so nothing can be changed; "
                                 "reading works.", remedy="Make the change where the data directory is writable.")
        return StoreError(f"The store {self.url_display} refused the operation: {first[0] if first else type(exc).__name__}.",
                          remedy="Try again; if it keeps failing, see jumpdeck.log in the data directory.")

    async def run(self, fn: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.run_sync, fn)

    def close(self) -> None:
        self._closed.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._engine is not None:
            self._engine.dispose()
        if self._ro_engine is not None:
            self._ro_engine.dispose()


def _sqlite_engine(path: Path) -> Engine:
    from sqlalchemy import create_engine, event

    from jumpdeck.core.private_files import private_dir

    private_dir(path.parent)
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 10})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        # WAL lets readers (the TUI) and a writer (a CLI in cron) work at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _read_only_sqlite(path: Path, url: str) -> Engine:
    """A store on a read-only disk (a mounted copy, a home made read-only): reading
    commands work; a write is refused with a sentence (`Store._store_error`). Its schema
    must be the newest: it cannot be migrated there."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, connect_args={"check_same_thread": False})
    try:
        revision = _current_revision(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"The local store {path} on a read-only disk cannot be read: {getattr(exc, 'orig', exc)}.",
                         remedy="Set JUMPDECK_HOME to a writable copy of the data directory.") from None
    if revision != HEAD_REVISION:
        raise StoreError(f"The local store {path} is on a read-only disk and needs an upgrade of its schema "
                         f"({revision} to {HEAD_REVISION}), which cannot be written there.",
                         remedy="Open it once where it is writable, or set JUMPDECK_HOME to a writable copy.")
    return engine


def _postgres_engine(url: str, connect_timeout: float) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; jumpdeck ships psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": max(1, int(round(connect_timeout)))},
    )


def _current_revision(engine: Engine) -> str | None:
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the store to the newest schema. Cheap when it is already there."""
    if _current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir()))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # Alembic changes a SQLite table by rebuilding it; with foreign keys on, dropping
            # the old parent would fail or cascade (a run's events). The pragma only takes
            # effect outside a transaction, and the check below proves nothing broke.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    # Two jump hosts starting at once must not both migrate.
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                # SQLite drops a table's triggers when a migration rebuilds it.
                announcers.install(conn)
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise StoreError("Upgrading the store would leave rows pointing at rows that do not exist; "
                                     "nothing was changed.",
                                     remedy="Restore the store from a backup (jumpdeck backup --list), then start again.")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


_open_lock = threading.Lock()


@contextlib.contextmanager
def _migration_lock(sqlite_path: Path) -> Iterator[None]:
    """One process at a time migrates a SQLite store (PostgreSQL has its advisory lock):
    two jumpdecks opening a brand-new file at once would both create its tables. The
    kernel releases the lock if its holder dies."""
    import fcntl

    fd = os.open(sqlite_path.with_name(sqlite_path.name + ".migrate-lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def open_store(
    *,
    sqlite_path: Path | str,
    store_url: str | None,
    connect_timeout: float = 3.0,
) -> Store:
    """Open (and migrate) the store. A configured PostgreSQL that does not answer opens
    read-only on this host's snapshot of it; with no snapshot yet, a StoreError."""
    engine, shown, snapshot, since = _open_engine(sqlite_path, store_url, connect_timeout)
    store = Store(engine, shown, engine.dialect.name, snapshot_path=snapshot, read_only_since=since)
    _refresh_soon(store)
    return store


def _refresh_soon(store: Store, max_age: float = 30.0) -> None:
    """Refresh the snapshot in a store thread when it is missing or older than `max_age`
    seconds (a CLI run every minute from cron need not copy the store each time)."""
    import time

    path = store.snapshot_path
    if path is None or store.read_only:
        return
    try:
        fresh = time.time() - path.stat().st_mtime < max_age
    except OSError:
        fresh = False
    if not fresh and not store._refresh_queued:
        store._refresh_queued = True
        try:
            store._executor.submit(store._refresh_snapshot)
        except RuntimeError:  # the store is closing
            store._refresh_queued = False


def deferred_store(*, sqlite_path: Path | str, store_url: str | None, connect_timeout: float = 3.0,
                   url_display: str, kind: str, degraded_reason: str | None = None) -> Store:
    """A store that a serve-ssh session opens on its first use, with what the server
    said of it meanwhile. The session's first screen comes from the server
    (core/serve/session_boot.py), so a session that stays there never loads SQLAlchemy
    (about 20 MB of its memory); the first call opens it in a store thread."""
    def opener(store: Store) -> Engine:
        engine, store.url_display, store.snapshot_path, since = _open_engine(sqlite_path, store_url, connect_timeout)
        store.kind = engine.dialect.name
        if since is not None:
            store._engine = engine  # the probe needs it; the snapshot serves meanwhile
            store._enter_read_only(since)
        return engine

    return Store(None, url_display, kind, opener=opener)


# What PostgreSQL says when it answers but will not let this URL in.
_REFUSED_BY_CONFIG = re.compile(
    r"authentication failed|role \"[^\"]*\" does not exist|database \"[^\"]*\" does not exist"
    r"|no password supplied|no pg_hba\.conf entry", re.IGNORECASE)
_STORE_URL_FORM = "postgresql://USER@HOST:5432/DBNAME (or sqlite:///PATH)"


def _store_backend(store_url: str) -> str:
    """"postgresql" or "sqlite" for a store_url that jumpdeck can use; a ConfigError (exit
    2 in the CLI) for one it cannot, before anything is opened or written."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(store_url).get_backend_name()
    except (ArgumentError, ValueError):
        # Not echoed: a URL that does not parse may still hold a password.
        raise ConfigError("The store_url is not a database URL.",
                          remedy=f"Write it as {_STORE_URL_FORM} in config.toml, JUMPDECK_STORE_URL or --store-url.") from None
    if backend in ("postgresql", "postgres"):
        return "postgresql"
    if backend == "sqlite":
        return "sqlite"
    raise ConfigError(f"The store_url {_redact_url(store_url)} names {backend}; jumpdeck's store runs on PostgreSQL or SQLite.",
                      remedy=f"Write it as {_STORE_URL_FORM}.")


def _open_engine(sqlite_path: Path | str, store_url: str | None,
                 connect_timeout: float) -> tuple[Engine, str, Path | None, datetime | None]:
    """(engine, URL to show, snapshot path or None, read-only since or None), migrated
    unless read-only. Nothing falls back to a local file that the team would not see."""
    from sqlalchemy.exc import SQLAlchemyError

    from jumpdeck.core.store.snapshot import snapshot_path

    sqlite_path = Path(sqlite_path)
    backend = _store_backend(store_url) if store_url else "sqlite"
    with _open_lock:
        if backend == "postgresql":
            shown = _redact_url(store_url)
            snapshot = snapshot_path(sqlite_path.parent, shown)
            try:
                engine = _postgres_engine(store_url, connect_timeout)
            except ModuleNotFoundError as exc:
                raise ConfigError(f"The driver for the shared store {shown} is not installed ({exc.name}).",
                                  remedy="Install jumpdeck with its PostgreSQL driver (pip install psycopg2-binary).") from None
            try:
                from jumpdeck.core.store.store_file import check_database_store

                check_database_store(engine, shown)
                migrate(engine)
                return engine, shown, snapshot, None
            except SQLAlchemyError as exc:
                # Only the driver's first line: it names host and port, never the password.
                first_line = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() else type(exc).__name__
                if _REFUSED_BY_CONFIG.search(first_line):
                    # The server answered and said no: a wrong user, password or database
                    # is the configuration's fault, not an outage; a local store would
                    # only take writes that the team never sees.
                    raise ConfigError(
                        f"The shared store {shown} refused the connection: {first_line}.",
                        remedy="Correct the user, password or database name in store_url "
                               "(config.toml, JUMPDECK_STORE_URL or --store-url).") from None
                if not snapshot.exists():
                    raise StoreUnreachable(
                        f"The shared store {shown} is unreachable ({first_line}) and this host has no snapshot of it yet.",
                        remedy="Start jumpdeck again once the store answers; from then on this host keeps a "
                               "read-only snapshot for outages.") from None
                log.warning("store unreachable at open, read-only on %s: %s", snapshot, first_line)
                return engine, shown, snapshot, datetime.now(timezone.utc)
        elif store_url:
            sqlite_path = Path(store_url.removeprefix("sqlite:///"))
        from jumpdeck.core.private_files import make_private
        from jumpdeck.core.store.store_file import check_store_file, not_writable, read_only_url

        read_only = read_only_url(sqlite_path)
        if read_only is not None:
            return _read_only_sqlite(sqlite_path, read_only), str(sqlite_path), None, None
        try:
            engine = _sqlite_engine(sqlite_path)
            with _migration_lock(sqlite_path):
                check_store_file(sqlite_path)
                migrate(engine)
        except SQLAlchemyError as exc:
            raise not_writable(sqlite_path) or StoreError(
                f"The local store {sqlite_path} cannot be opened: {getattr(exc, 'orig', exc)}.",
                remedy="Check the file's permissions and free disk space, or set JUMPDECK_HOME to another directory.",
            ) from None
        except OSError as exc:
            raise not_writable(sqlite_path) or StoreError(
                f"The local store {sqlite_path} cannot be opened: {exc.strerror}.",
                remedy="Check the file's permissions and free disk space, or set JUMPDECK_HOME to another directory.",
            ) from None
        # A store made by an older jumpdeck (or copied) may still be 0644, with its WAL.
        make_private(sqlite_path)
        return engine, str(sqlite_path), None, None
