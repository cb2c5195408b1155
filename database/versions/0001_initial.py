"""initial schema

Revision ID: 0001_initial
Revises: 
Create Date: 2026-11-23 17:09:13.318695
"""
from alembic import op
import sqlalchemy as sa


revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('origin', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('target_type', sa.String(length=50), nullable=False),
    sa.Column('target_id', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('activity_log', schema=None) as batch_op:
        batch_op.create_index('ix_activity_action_id', ['action', 'id'], unique=False)
        batch_op.create_index('ix_activity_actor_id', ['actor', 'id'], unique=False)
        batch_op.create_index('ix_activity_target_id', ['target_type', 'id'], unique=False)

    op.create_table('provision_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_name', sa.String(length=100), nullable=False),
    sa.Column('template', sa.String(length=50), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('assigned_ip', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('runner', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('provision_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provision_runs_service_name'), ['service_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_provision_runs_status'), ['status'], unique=False)

    op.create_table('servers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=100), nullable=False),
    sa.Column('db_type', sa.String(length=20), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_enc', sa.Text(), nullable=False),
    sa.Column('default_db', sa.String(length=100), nullable=False),
    sa.Column('data_path', sa.String(length=500), nullable=True),
    sa.Column('log_path', sa.String(length=500), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('group_name', sa.String(length=100), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name_key')
    )
    op.create_table('settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('maintenance_mode', sa.Boolean(), nullable=False),
    sa.Column('system_notice', sa.Text(), nullable=False),
    sa.Column('max_vcpu', sa.Integer(), nullable=False),
    sa.Column('max_memory', sa.Integer(), nullable=False),
    sa.Column('max_concurrent_runs', sa.Integer(), nullable=False),
    sa.Column('archive_cutoff_year', sa.Integer(), nullable=True),
    sa.Column('backup_retention_live', sa.Integer(), nullable=False),
    sa.Column('backup_retention_archive', sa.Integer(), nullable=False),
    sa.Column('backup_retention_store', sa.Integer(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('corps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('server_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('db_name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['server_id'], ['servers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('server_id', 'code', name='uq_corps_server_code')
    )
    with op.batch_alter_table('corps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corps_server_id'), ['server_id'], unique=False)

    op.create_table('user_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('comment', sa.String(length=200), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint')
    )
    with op.batch_alter_table('user_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_keys_user_id'), ['user_id'], unique=False)

    op.create_table('workload_pool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vm_name', sa.String(length=100), nullable=False),
    sa.Column('ip_address', sa.String(length=100), nullable=False),
    sa.Column('ssh_user', sa.String(length=100), nullable=False),
    sa.Column('ssh_port', sa.Integer(), nullable=False),
    sa.Column('ssh_password_enc', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('occupy_user', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['provision_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('vm_name')
    )
    with op.batch_alter_table('workload_pool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workload_pool_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('workload_pool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workload_pool_status'))

    op.drop_table('workload_pool')
    with op.batch_alter_table('user_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_keys_user_id'))

    op.drop_table('user_keys')
    with op.batch_alter_table('corps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corps_server_id'))

    op.drop_table('corps')
    op.drop_table('users')
    op.drop_table('settings')
    op.drop_table('servers')
    with op.batch_alter_table('provision_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provision_runs_status'))
        batch_op.drop_index(batch_op.f('ix_provision_runs_service_name'))

    op.drop_table('provision_runs')
    with op.batch_alter_table('activity_log', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_target_id')
        batch_op.drop_index('ix_activity_actor_id')
        batch_op.drop_index('ix_activity_action_id')

    op.drop_table('activity_log')
