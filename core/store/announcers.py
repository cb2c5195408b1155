"""The triggers that announce every write to a watched table (migration 0006).

PostgreSQL: a statement trigger sends `NOTIFY jumpdeck_changes, '<table>'`; PostgreSQL
delivers it when the transaction commits, to every process LISTENing, and drops it on
rollback. SQLite has no NOTIFY: a row trigger bumps the table's counter in
`store_changes`, and a watcher that sees `PRAGMA data_version` move reads those rows.

Triggers rather than a call in each service, so a write nobody thought to announce (a
worker's event, a restore, a hand-run UPDATE) is announced all the same. `install` is
idempotent and `migrate()` runs it after every upgrade: SQLite drops a table's
triggers when Alembic rebuilds the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

CHANNEL = "jumpdeck_changes"
# Each table is a topic: what a face listens for.
WATCHED_TABLES: tuple[str, ...] = (
    "servers", "corps", "users", "user_keys", "settings", "provision_runs",
    "provision_events", "workload_pool", "activity_log",
    # The fleet watch (migration 0009): a flush of results, an incident opened, closed or
    # acknowledged, a watch host starting or stopping. Claims and aggregates are left out:
    # they move every tick and nobody draws them directly.
    "watch_latest", "watch_incidents", "watch_hosts",
)
_EVENTS = ("insert", "update", "delete")


def _present(conn: Connection) -> tuple[str, ...]:
    """The watched tables this store has so far: migration 0006 installs the triggers
    before later migrations create their tables; migrate() adds those after the upgrade."""
    from sqlalchemy import inspect

    names = set(inspect(conn).get_table_names())
    return tuple(table for table in WATCHED_TABLES if table in names)


def install(conn: Connection) -> None:
    dialect = conn.dialect.name
    tables = _present(conn)
    if dialect == "postgresql":
        conn.exec_driver_sql(f"""
            CREATE OR REPLACE FUNCTION jumpdeck_announce() RETURNS trigger AS $$
            BEGIN
                PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql""")
        for table in tables:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS jumpdeck_announce_{table} ON {table}")
            conn.exec_driver_sql(f"CREATE TRIGGER jumpdeck_announce_{table} AFTER INSERT OR UPDATE OR DELETE "
                                 f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION jumpdeck_announce()")
    elif dialect == "sqlite":
        for table in tables:
            conn.exec_driver_sql("INSERT OR IGNORE INTO store_changes (topic, version) VALUES (?, 0)", (table,))
            for event in _EVENTS:
                conn.exec_driver_sql(
                    f"CREATE TRIGGER IF NOT EXISTS jumpdeck_announce_{table}_{event} AFTER {event.upper()} ON {table} "
                    f"BEGIN UPDATE store_changes SET version = version + 1 WHERE topic = '{table}'; END")


def remove(conn: Connection) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        for table in _present(conn):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS jumpdeck_announce_{table} ON {table}")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS jumpdeck_announce()")
    elif dialect == "sqlite":
        for table in WATCHED_TABLES:  # DROP TRIGGER IF EXISTS needs no table
            for event in _EVENTS:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS jumpdeck_announce_{table}_{event}")
