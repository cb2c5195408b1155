"""provisioning: worker pid, artifact dir and cancel flag on runs; persisted run events

Revision ID: 0002_provision
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_provision'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('provision_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('artifact_dir', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cancel_requested', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('provision_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('task', sa.String(length=300), nullable=False),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['provision_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('provision_events', schema=None) as batch_op:
        batch_op.create_index('ix_provision_events_run_id', ['run_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('provision_events', schema=None) as batch_op:
        batch_op.drop_index('ix_provision_events_run_id')
    op.drop_table('provision_events')
    with op.batch_alter_table('provision_runs', schema=None) as batch_op:
        batch_op.drop_column('cancel_requested')
        batch_op.drop_column('artifact_dir')
        batch_op.drop_column('worker_pid')
