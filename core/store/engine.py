"""Opening the metadata store: SQLite by default, PostgreSQL when `store_url` is set.

The store is opened once per process, migrated to the newest schema (never dropped),
and used through `Store.run(fn)`, which runs `fn(session)` in a worker thread inside
one transaction, so a blocking driver never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

from jumpdeck.core.errors import ConfigError, StoreError
from jumpdeck.core.package_data import migrations_dir
from jumpdeck.core.store import announcers

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

T = TypeVar("T")
log = logging.getLogger("jumpdeck.store")

# The newest migration; tests/core/test_store.py checks it equals Alembic's head.
HEAD_REVISION = "0007_run_lease"


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL: show only its scheme
        return url.split(":", 1)[0] + "://…"


class Store:
    """The metadata store: open, or opened on first use (`deferred_store`)."""

    def __init__(self, engine: Engine | None = None, url_display: str = "", kind: str = "sqlite",
                 degraded_reason: str | None = None, *, opener: Callable[[Store], Engine] | None = None) -> None:
        self._engine = engine
        self._opener = opener
        self.url_display = url_display  # the URL with any password hidden
        self.kind = kind  # "sqlite" or "postgresql"
        self.degraded_reason = degraded_reason  # set when a configured PostgreSQL was unreachable
        self._engine_lock = threading.Lock()
        # Threads start with the first call, so a store nobody uses costs none.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store")
        self._session_factory: Callable[[], Session] | None = None

    @property
    def degraded(self) -> bool:
        return self.degraded_reason is not None

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
        if self._session_factory is None:
            from sqlalchemy.orm import sessionmaker

            self._session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        return self._session_factory()

    def run_sync(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` in one transaction: committed if it returns, rolled back if it raises."""
        with self.session() as session:
            with session.begin():
                return fn(session)

    async def run(self, fn: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.run_sync, fn)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._engine is not None:
            self._engine.dispose()


def _sqlite_engine(path: Path) -> Engine:
    from sqlalchemy import create_engine, event

    path.parent.mkdir(parents=True, exist_ok=True)
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


def open_store(
    *,
    sqlite_path: Path | str,
    store_url: str | None,
    connect_timeout: float = 3.0,
) -> Store:
    """Open (and migrate) the store. A configured but unreachable PostgreSQL falls back
    to the local SQLite file, loudly: the returned store has `degraded_reason` set."""
    engine, shown, degraded_reason = _open_engine(sqlite_path, store_url, connect_timeout)
    return Store(engine, shown, engine.dialect.name, degraded_reason)


def deferred_store(*, sqlite_path: Path | str, store_url: str | None, connect_timeout: float = 3.0,
                   url_display: str, kind: str, degraded_reason: str | None) -> Store:
    """A store that a serve-ssh session opens on its first use, with what the server
    said of it meanwhile. The session's first screen comes from the server
    (core/serve/session_boot.py), so a session that stays there never loads SQLAlchemy
    (about 20 MB of its memory); the first call opens it in a store thread."""
    def opener(store: Store) -> Engine:
        engine, store.url_display, store.degraded_reason = _open_engine(sqlite_path, store_url, connect_timeout)
        store.kind = engine.dialect.name
        return engine

    return Store(None, url_display, kind, degraded_reason, opener=opener)


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


def _open_engine(sqlite_path: Path | str, store_url: str | None, connect_timeout: float) -> tuple[Engine, str, str | None]:
    """(engine, URL to show, why degraded or None), migrated."""
    from sqlalchemy.exc import SQLAlchemyError

    sqlite_path = Path(sqlite_path)
    backend = _store_backend(store_url) if store_url else "sqlite"
    with _open_lock:
        degraded_reason = None
        if backend == "postgresql":
            try:
                engine = _postgres_engine(store_url, connect_timeout)
                migrate(engine)
                return engine, _redact_url(store_url), None
            except SQLAlchemyError as exc:
                # Only the driver's first line: it names host and port, never the password.
                first_line = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() else type(exc).__name__
                if _REFUSED_BY_CONFIG.search(first_line):
                    # The server answered and said no: a wrong user, password or database
                    # is the configuration's fault, not an outage; a local store would
                    # only take writes that the team never sees.
                    raise ConfigError(
                        f"The shared store {_redact_url(store_url)} refused the connection: {first_line}.",
                        remedy="Correct the user, password or database name in store_url "
                               "(config.toml, JUMPDECK_STORE_URL or --store-url).") from None
                degraded_reason = f"the shared store {_redact_url(store_url)} is unreachable ({first_line})"
                log.warning("store fallback: %s", degraded_reason)
            except ModuleNotFoundError as exc:
                degraded_reason = f"the driver for {_redact_url(store_url)} is not installed ({exc.name})"
        elif store_url:
            sqlite_path = Path(store_url.removeprefix("sqlite:///"))
        try:
            engine = _sqlite_engine(sqlite_path)
            migrate(engine)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"The local store {sqlite_path} cannot be opened: {getattr(exc, 'orig', exc)}.",
                remedy="Check the file's permissions and free disk space, or set JUMPDECK_HOME to another directory.",
            ) from None
        return engine, str(sqlite_path), degraded_reason
