"""ids the activity log names are never reused: servers, corps and runs on SQLite get AUTOINCREMENT

Without it SQLite hands out the highest id again after that row is deleted, so the log read
`DELETE SERVER:1` and then `CREATE SERVER:1` for another server. PostgreSQL's sequences never
reuse an id, so nothing changes there. Each table is rebuilt with its rows (Alembic's batch
mode; the store runs migrations with SQLite's foreign keys off, so rebuilding a parent
neither fails nor cascades), and its sequence starts past the highest id the log has named.

Revision ID: 0004_ids_never_reused
Revises: 0003_settings_row
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_ids_never_reused'
down_revision = '0003_settings_row'
branch_labels = None
depends_on = None

# table -> the target_type its ids have in the activity log
TABLES = {'servers': 'SERVER', 'corps': 'CORP', 'provision_runs': 'RUN'}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table, target_type in TABLES.items():
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass
        # The highest id the table or the log has ever shown; the next insert goes past it.
        seen = bind.execute(sa.text(
            f"SELECT MAX(m) FROM (SELECT MAX(id) AS m FROM {table} UNION ALL"
            " SELECT MAX(CAST(target_id AS INTEGER)) FROM activity_log"
            " WHERE target_type = :t AND target_id GLOB '[0-9]*')"), {'t': target_type}).scalar() or 0
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :n"), {'n': table})
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:n, :s)"), {'n': table, 's': seen})


def downgrade() -> None:
    pass  # AUTOINCREMENT only keeps ids from coming back; a store without it reads the same
