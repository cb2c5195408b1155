"""settings: the store records which key encrypts it (key id and a check token, never the key)

Revision ID: 0005_store_key
Revises: 0004_ids_never_reused
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_store_key'
down_revision = '0004_ids_never_reused'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An existing store adopts the key of the first process that opens it after this.
    with op.batch_alter_table('settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('key_check', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('settings', schema=None) as batch_op:
        batch_op.drop_column('key_check')
        batch_op.drop_column('key_id')
