"""initial schema: canonical model, message log, outbox, cursors, EDI state

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 19:47:14.773805
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('control_number',
    sa.Column('partner', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('last_value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('partner', 'kind', name=op.f('pk_control_number'))
    )
    op.create_table('cursor',
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('stream', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('system', 'stream', name=op.f('pk_cursor'))
    )
    op.create_table('customer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tax_id', sa.String(length=40), nullable=True),
    sa.Column('gln', sa.String(length=13), nullable=True),
    sa.Column('industry', sa.String(length=80), nullable=True),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('payment_terms', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('contacts_enc', sa.Text(), nullable=True),
    sa.Column('addresses', sa.Text(), nullable=True),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('last_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer'))
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_gln'), ['gln'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_tax_id'), ['tax_id'], unique=False)

    op.create_table('flow_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('flow', sa.String(length=60), nullable=False),
    sa.Column('run_id', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('counts', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_run'))
    )
    with op.batch_alter_table('flow_run', schema=None) as batch_op:
        batch_op.create_index('ix_flow_run_flow', ['flow', 'at'], unique=False)

    op.create_table('interchange',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('standard', sa.String(length=10), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('receiver', sa.String(length=40), nullable=False),
    sa.Column('control_number', sa.String(length=20), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('messages', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('ack', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interchange')),
    sa.UniqueConstraint('direction', 'level', 'standard', 'sender', 'receiver', 'control_number', name='uq_interchange_ref')
    )
    op.create_table('message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('stream', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('archive_path', sa.Text(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('field_path', sa.String(length=200), nullable=True),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['message.id'], name=op.f('fk_message_parent_id_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_sha', ['system', 'stream', 'sha256'], unique=False)
        batch_op.create_index('ix_message_state', ['state', 'system', 'stream'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['target', 'state', 'id'], unique=False)

    op.create_table('stock_level',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=80), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('location', sa.String(length=80), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('allocated', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('available', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('as_of', sa.DateTime(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('last_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_level')),
    sa.UniqueConstraint('system', 'external_id', name='uq_stock_level_ref')
    )
    op.create_table('customer_fact',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tier', sa.String(length=1), nullable=False),
    sa.Column('revenue_12m', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('lifetime_value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('churn_warning', sa.Boolean(), nullable=False),
    sa.Column('overdue_total', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('aging', sa.Text(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_fact_customer_id_customer')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_fact'))
    )
    op.create_table('customer_identity',
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=True),
    sa.Column('row_hash', sa.String(length=32), nullable=True),
    sa.Column('matched_by', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_identity_customer_id_customer')),
    sa.PrimaryKeyConstraint('system', 'external_id', name=op.f('pk_customer_identity'))
    )
    with op.batch_alter_table('customer_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_identity_customer_id'), ['customer_id'], unique=False)

    op.create_table('invoice',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_total', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('amount_open', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('last_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_invoice_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('system', 'external_id', name='uq_invoice_ref')
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_customer_id'), ['customer_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('po_number', sa.String(length=80), nullable=True),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('requested_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_untaxed', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('amount_total', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('ship_to', sa.Text(), nullable=True),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('last_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_orders_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('system', 'external_id', name='uq_orders_ref')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_po_number'), ['po_number'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payment_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('last_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_payment_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('system', 'external_id', name='uq_payment_ref')
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('shipment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('carrier', sa.String(length=40), nullable=False),
    sa.Column('tracking_number', sa.String(length=60), nullable=True),
    sa.Column('sscc', sa.String(length=18), nullable=True),
    sa.Column('order_refs', sa.Text(), nullable=True),
    sa.Column('ship_date', sa.Date(), nullable=True),
    sa.Column('packages', sa.Integer(), nullable=False),
    sa.Column('eta', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_at', sa.DateTime(), nullable=True),
    sa.Column('status_code', sa.String(length=20), nullable=True),
    sa.Column('last_place', sa.String(length=120), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('row_hash', sa.String(length=32), nullable=False),
    sa.Column('last_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_shipment_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment')),
    sa.UniqueConstraint('system', 'external_id', name='uq_shipment_ref')
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_tracking_number'), ['tracking_number'], unique=False)

    op.create_table('delivery_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shipment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('raw_code', sa.String(length=20), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=True),
    sa.Column('estimate_only', sa.Boolean(), nullable=False),
    sa.Column('eta', sa.DateTime(), nullable=True),
    sa.Column('last_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_delivery_event_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_event')),
    sa.UniqueConstraint('source', 'event_id', name='uq_delivery_event_ref')
    )
    with op.batch_alter_table('delivery_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_event_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=80), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice')),
    sa.PrimaryKeyConstraint('invoice_id', 'line_no', name=op.f('pk_invoice_line'))
    )
    op.create_table('order_line',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=80), nullable=True),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('uom', sa.String(length=10), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('quantity_shipped', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_line_order_id_orders')),
    sa.PrimaryKeyConstraint('order_id', 'line_no', name=op.f('pk_order_line'))
    )


def downgrade() -> None:
    op.drop_table('order_line')
    op.drop_table('invoice_line')
    with op.batch_alter_table('delivery_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_event_shipment_id'))

    op.drop_table('delivery_event')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_tracking_number'))
        batch_op.drop_index(batch_op.f('ix_shipment_customer_id'))

    op.drop_table('shipment')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_payment_customer_id'))

    op.drop_table('payment')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_po_number'))
        batch_op.drop_index(batch_op.f('ix_orders_customer_id'))

    op.drop_table('orders')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_customer_id'))

    op.drop_table('invoice')
    with op.batch_alter_table('customer_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_identity_customer_id'))

    op.drop_table('customer_identity')
    op.drop_table('customer_fact')
    op.drop_table('stock_level')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_state')
        batch_op.drop_index('ix_message_sha')

    op.drop_table('message')
    op.drop_table('interchange')
    with op.batch_alter_table('flow_run', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_run_flow')

    op.drop_table('flow_run')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_tax_id'))
        batch_op.drop_index(batch_op.f('ix_customer_gln'))

    op.drop_table('customer')
    op.drop_table('cursor')
    op.drop_table('control_number')
