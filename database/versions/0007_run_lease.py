"""run lease: a run's worker renews a lease on its row; any host fails a run whose lease expired

Revision ID: 0007_run_lease
Revises: 0006_change_feed
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_run_lease'
down_revision = '0006_change_feed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('provision_runs') as batch:
        batch.add_column(sa.Column('lease_host', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('lease_pid', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('lease_expires_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('provision_runs') as batch:
        batch.drop_column('lease_expires_at')
        batch.drop_column('lease_pid')
        batch.drop_column('lease_host')
