"""settings: the single row is created with the schema, never lazily by whoever reads first

Two serve-ssh sessions (or two jump hosts) reading the settings of a fresh store at the
same moment both inserted row 1, and one failed with a duplicate key. The row now exists
from this migration on; ON CONFLICT keeps the insert harmless on a store that has it.

Revision ID: 0003_settings_row
Revises: 0002_provision
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0003_settings_row'
down_revision = '0002_provision'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "INSERT INTO settings (id, maintenance_mode, system_notice, max_vcpu, max_memory, max_concurrent_runs,"
            " backup_retention_live, backup_retention_archive, backup_retention_store, extra, updated_at)"
            " VALUES (1, :off, '', 100, 256, 4, 30, 12, 10, '{}', :now) ON CONFLICT (id) DO NOTHING"
        ),
        {"off": False, "now": datetime.now(timezone.utc).replace(tzinfo=None)},
    )


def downgrade() -> None:
    pass  # the row is data the store keeps; 0002 read it the same way
