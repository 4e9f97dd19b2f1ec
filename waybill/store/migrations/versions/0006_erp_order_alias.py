"""order_alias: another system's id of a hub order (the ERP's sale.order of a partner's order
written back), with the last version taken from that system; invoice_order: the orders an invoice
bills when it bills several

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 06:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('order_alias',
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('version', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_alias_order_id_orders')),
    sa.PrimaryKeyConstraint('system', 'external_id', name=op.f('pk_order_alias'))
    )
    with op.batch_alter_table('order_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_alias_order_id'), ['order_id'], unique=False)
    op.create_table('invoice_order',
    sa.Column('invoice_id', ID, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_order_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_invoice_order_order_id_orders')),
    sa.PrimaryKeyConstraint('invoice_id', 'position', name=op.f('pk_invoice_order'))
    )
    with op.batch_alter_table('invoice_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_order_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invoice_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_order_order_id'))
    op.drop_table('invoice_order')
    with op.batch_alter_table('order_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_alias_order_id'))
    op.drop_table('order_alias')
