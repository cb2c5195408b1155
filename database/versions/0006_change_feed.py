"""change feed: every write to a watched table is announced to the other processes

Revision ID: 0006_change_feed
Revises: 0005_store_key

The triggers live in core/store/announcers.py (migrate() reinstalls them after every
upgrade, since SQLite drops them when a table is rebuilt); store_changes holds the
per-table counters SQLite's watcher reads (PostgreSQL announces with NOTIFY instead).
"""
from alembic import op
import sqlalchemy as sa

from jumpdeck.core.store import announcers


revision = '0006_change_feed'
down_revision = '0005_store_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'store_changes',
        sa.Column('topic', sa.String(length=50), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('topic'),
    )
    announcers.install(op.get_bind())


def downgrade() -> None:
    announcers.remove(op.get_bind())
    op.drop_table('store_changes')
