"""What the file at the store's path must be before jumpdeck opens it as its store.

SQLite opens an empty file, or any SQLite database, without complaint, and migrating
it would make a new store there: every server seemingly gone, and the next person to
run jumpdeck its admin. A fresh store is made only where no file exists; anything else
that is not a jumpdeck store stops here, before a byte is written.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from jumpdeck.core.errors import ConfigError, StoreError
from jumpdeck.core.package_data import migrations_dir
from jumpdeck.core.private_files import touch_private

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

SQLITE_HEADER = b"SQLite format 3\x00"
_KEEP_IT = "jumpdeck changed nothing."


def _known_revisions() -> set[str]:
    return {p.stem for p in (migrations_dir() / "versions").glob("[0-9]*.py")}


def check_store_file(path: Path) -> None:
    """Create a 0600 file for a fresh store where none exists; otherwise make sure the
    file is a jumpdeck store (a `ConfigError`, exit 2 in the CLI, if it is not). Call it
    under the migration lock: a file that another jumpdeck is creating is then complete."""
    if not path.exists() and not path.is_symlink():
        touch_private(path)
        return
    if path.is_dir():
        raise ConfigError(f"The store path {path} is a directory, not a store file; {_KEEP_IT}",
                          remedy="Move that directory away, or set JUMPDECK_HOME to another data directory.")
    size = path.stat().st_size
    if size == 0:
        raise ConfigError(f"The store file {path} is empty (0 bytes), so it holds no servers and no users; {_KEEP_IT}",
                          remedy="Restore it from a backup (database/backups/store_*.db), or delete the empty file "
                                 "to start a new store.")
    with open(path, "rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise ConfigError(f"The store file {path} is not a SQLite database; {_KEEP_IT}",
                          remedy="Restore it from a backup (database/backups/store_*.db), or move it away to start a new store.")
    revision, tables = _read_identity(path)
    if revision is None:
        what = f"a SQLite database with {tables} table(s) of another program" if tables else "an empty SQLite database"
        raise ConfigError(f"The store file {path} is {what}, not a jumpdeck store; {_KEEP_IT}",
                          remedy="Restore the store from a backup (database/backups/store_*.db), or move that file away "
                                 "to start a new store.")
    if revision not in _known_revisions():
        raise ConfigError(f"The store file {path} has the schema version {revision}, which this jumpdeck does not know; "
                          f"{_KEEP_IT}", remedy="Run the newer jumpdeck that wrote it, or restore an older backup of the store.")


def _read_identity(path: Path) -> tuple[str | None, int]:
    """(the Alembic revision or None, how many tables), read without writing. Without a
    -wal beside it every committed page is in the file itself, and it is read as
    immutable: a read-only reader of a WAL database would otherwise create -wal and -shm
    beside a file that may not be jumpdeck's."""
    wal = path.with_name(path.name + "-wal")
    conn = sqlite3.connect(f"file:{path}?mode=ro" + ("" if wal.exists() else "&immutable=1"), uri=True, timeout=10)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if "alembic_version" not in names:
            return None, len(names)
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return (str(row[0]) if row else None), len(names)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"The store file {path} cannot be read as a SQLite database ({exc}); {_KEEP_IT}",
                          remedy="Restore it from a backup (database/backups/store_*.db).") from None
    finally:
        conn.close()


def check_database_store(engine: Engine, shown: str) -> None:
    """The same for a PostgreSQL store: a database holding another program's tables and
    no jumpdeck schema is refused before a table is created in it (an empty database is
    a fresh store). Connection errors go to the caller, which knows an outage."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        inspector = inspect(conn)
        if inspector.has_table("alembic_version"):
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if revision is not None and str(revision) not in _known_revisions():
                raise ConfigError(f"The store {shown} has the schema version {revision}, which this jumpdeck does not "
                                  f"know; {_KEEP_IT}", remedy="Run the newer jumpdeck that wrote it, or point store_url "
                                                              "at another database.")
            return
        tables = inspector.get_table_names()
    if tables:
        raise ConfigError(f"The database {shown} holds {len(tables)} table(s) of another program and no jumpdeck "
                          f"store; {_KEEP_IT}", remedy="Point store_url at an empty database of its own "
                                                       "(CREATE DATABASE jumpdeck).")


def on_read_only_disk(path: Path) -> bool:
    """Whether the store's folder is on a file system mounted read-only: then nobody can
    change the file while jumpdeck reads it."""
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def read_only_url(path: Path) -> str | None:
    """An SQLAlchemy URL that reads a store on a read-only disk, or None where that is not
    safe. SQLite cannot open a WAL database read-only without creating its -shm; with no
    -wal beside it every committed page is in the file, and nobody can write it, so it is
    read as immutable (no -shm, no locks)."""
    wal = path.with_name(path.name + "-wal")
    if not path.is_file() or not on_read_only_disk(path) or (wal.exists() and wal.stat().st_size):
        return None
    check_store_file(path)  # the file is there: this only reads it
    return f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true"


def not_writable(path: Path) -> StoreError | None:
    """The sentence for a store whose folder cannot be written (a read-only home), else None."""
    folder = path.parent
    if folder.is_dir() and not os.access(folder, os.W_OK):
        return StoreError(f"The data directory {folder} is not writable, so jumpdeck cannot open its store {path.name} there.",
                          remedy="Run jumpdeck as the directory's owner, or set JUMPDECK_HOME to a writable directory.")
    return None
