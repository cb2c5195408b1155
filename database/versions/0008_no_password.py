"""no password: a server whose account logs in without one (PostgreSQL trust, an empty MariaDB root password)

Stored as its own flag rather than read from an empty token, so that a password lost on
the way (an import without it, a bad edit) is an error and never a silent "no password".

Revision ID: 0008_no_password
Revises: 0007_run_lease
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_no_password'
down_revision = '0007_run_lease'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not batch mode: a batch rebuild of `servers` on SQLite would drop
    # its AUTOINCREMENT (0004), and ids the activity log named would come back.
    op.add_column('servers', sa.Column('no_password', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('servers', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_column('no_password')
