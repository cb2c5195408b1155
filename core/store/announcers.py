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
)
_EVENTS = ("insert", "update", "delete")


def install(conn: Connection) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql(f"""
            CREATE OR REPLACE FUNCTION jumpdeck_announce() RETURNS trigger AS $$
            BEGIN
                PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql""")
        for table in WATCHED_TABLES:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS jumpdeck_announce_{table} ON {table}")
            conn.exec_driver_sql(f"CREATE TRIGGER jumpdeck_announce_{table} AFTER INSERT OR UPDATE OR DELETE "
                                 f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION jumpdeck_announce()")
    elif dialect == "sqlite":
        for table in WATCHED_TABLES:
            conn.exec_driver_sql("INSERT OR IGNORE INTO store_changes (topic, version) VALUES (?, 0)", (table,))
            for event in _EVENTS:
                conn.exec_driver_sql(
                    f"CREATE TRIGGER IF NOT EXISTS jumpdeck_announce_{table}_{event} AFTER {event.upper()} ON {table} "
                    f"BEGIN UPDATE store_changes SET version = version + 1 WHERE topic = '{table}'; END")


def remove(conn: Connection) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        for table in WATCHED_TABLES:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS jumpdeck_announce_{table} ON {table}")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS jumpdeck_announce()")
    elif dialect == "sqlite":
        for table in WATCHED_TABLES:
            for event in _EVENTS:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS jumpdeck_announce_{table}_{event}")
