"""watch: the fleet watch's claims, hosts, latest result, incidents and aggregates

Rows stay few per server: one claim, one latest result, an incident per state change and
aggregates per hour and per day, a table each (pruned by retention), the hour rows carrying their minutes
packed for the last 24 h (core/watch/minute_slots.py); never a row per check.

Revision ID: 0009_watch
Revises: 0008_no_password
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_watch'
down_revision = '0008_no_password'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'watch_hosts',
        sa.Column('host', sa.String(length=200), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('site', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('host', 'pid'),
    )
    op.create_table(
        'watch_claims',
        sa.Column('server_id', sa.Integer(), nullable=False),
        sa.Column('pinned_site', sa.String(length=200), nullable=True),
        sa.Column('holder_host', sa.String(length=200), nullable=True),
        sa.Column('holder_pid', sa.Integer(), nullable=True),
        sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
        sa.Column('next_due_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['server_id'], ['servers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('server_id'),
    )
    op.create_index('ix_watch_claims_holder', 'watch_claims', ['holder_host', 'holder_pid'])
    op.create_table(
        'watch_latest',
        sa.Column('server_id', sa.Integer(), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.Column('checked_by', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('error_kind', sa.String(length=30), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('latency_ms', sa.Float(), nullable=True),
        sa.Column('version', sa.Text(), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('down_since', sa.DateTime(), nullable=True),
        sa.Column('up_24h', sa.Integer(), nullable=False),
        sa.Column('down_24h', sa.Integer(), nullable=False),
        sa.Column('up_30d', sa.Integer(), nullable=False),
        sa.Column('down_30d', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['server_id'], ['servers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('server_id'),
    )
    op.create_table(
        'watch_incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('server_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('error_kind', sa.String(length=30), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('acknowledged_by', sa.String(length=100), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['server_id'], ['servers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_watch_incidents_server_started', 'watch_incidents', ['server_id', 'started_at'])
    op.create_index('ix_watch_incidents_ended', 'watch_incidents', ['ended_at'])
    for table, extra in (('watch_hours', [sa.Column('minutes', sa.LargeBinary(), nullable=True)]),
                         ('watch_days', [])):
        op.create_table(
            table,
            sa.Column('server_id', sa.Integer(), nullable=False),
            sa.Column('bucket', sa.DateTime(), nullable=False),
            sa.Column('up', sa.Integer(), nullable=False),
            sa.Column('down', sa.Integer(), nullable=False),
            sa.Column('latency_sum', sa.Float(), nullable=False),
            sa.Column('latency_min', sa.Float(), nullable=True),
            sa.Column('latency_max', sa.Float(), nullable=True),
            *extra,
            sa.ForeignKeyConstraint(['server_id'], ['servers.id'], ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('server_id', 'bucket'),
        )
        # Retention deletes by age across all servers.
        op.create_index(f'ix_{table}_bucket', table, ['bucket'])


def downgrade() -> None:
    op.drop_table('watch_days')
    op.drop_table('watch_hours')
    op.drop_table('watch_incidents')
    op.drop_table('watch_latest')
    op.drop_table('watch_claims')
    op.drop_table('watch_hosts')
