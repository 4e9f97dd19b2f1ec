"""delivery_case: one row per shipment and problem the delivery-exception rules found, the CRM's
Case about it (opened, updated, closed when the parcel is delivered)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('delivery_case',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('shipment_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('problem', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('last_message_id', ID, nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_delivery_case_customer_id_customer')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_delivery_case_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_case')),
    sa.UniqueConstraint('system', 'external_id', name='uq_delivery_case_ref')
    )
    with op.batch_alter_table('delivery_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_case_shipment_id'), ['shipment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_case_shipment_id'))
    op.drop_table('delivery_case')
