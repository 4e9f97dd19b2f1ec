"""inbound interchanges are registered per partner (the inbox they came through), so a file with
another partner's envelope cannot make that partner's genuine interchange a duplicate

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 06:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD = ['direction', 'level', 'standard', 'sender', 'receiver', 'control_number']


def upgrade() -> None:
    with op.batch_alter_table('interchange', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner', sa.String(length=60), nullable=False, server_default=''))
        batch_op.drop_constraint('uq_interchange_ref', type_='unique')
        batch_op.create_unique_constraint('uq_interchange_ref', ['partner', *OLD])


def downgrade() -> None:
    with op.batch_alter_table('interchange', schema=None) as batch_op:
        batch_op.drop_constraint('uq_interchange_ref', type_='unique')
        batch_op.create_unique_constraint('uq_interchange_ref', OLD)
        batch_op.drop_column('partner')
