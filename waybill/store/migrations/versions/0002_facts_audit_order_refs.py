"""customer_fact keeps a version and the message that last changed it, like every canonical table

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('customer_fact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('last_message_id', ID, nullable=True))
    # The facts' version is the day they describe, as model.version_of writes a date.
    facts = sa.table('customer_fact', sa.column('as_of', sa.Date), sa.column('version', sa.String))
    op.execute(facts.update().values(version=sa.cast(facts.c.as_of, sa.String) + 'T00:00:00.000000'))
    with op.batch_alter_table('customer_fact', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.String(length=40), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_fact', schema=None) as batch_op:
        batch_op.drop_column('last_message_id')
        batch_op.drop_column('version')
