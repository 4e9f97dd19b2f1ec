"""customer_fact keeps a version and the message that last changed it, like every canonical
table; a shipment's order refs move from a JSON column to rows of shipment_order_ref

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 06:00:00
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

shipment = sa.table('shipment', sa.column('id', ID), sa.column('order_refs', sa.Text))
order_ref = sa.table('shipment_order_ref', sa.column('shipment_id', ID), sa.column('position', sa.Integer),
                     sa.column('system', sa.String), sa.column('external_id', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('customer_fact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('last_message_id', ID, nullable=True))
    # The facts' version is the day they describe, as model.version_of writes a date.
    facts = sa.table('customer_fact', sa.column('as_of', sa.Date), sa.column('version', sa.String))
    op.execute(facts.update().values(version=sa.cast(facts.c.as_of, sa.String) + 'T00:00:00.000000'))
    with op.batch_alter_table('customer_fact', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.String(length=40), nullable=False)

    op.create_table('shipment_order_ref',
    sa.Column('shipment_id', ID, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_order_ref_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('shipment_id', 'position', name=op.f('pk_shipment_order_ref'))
    )
    with op.batch_alter_table('shipment_order_ref', schema=None) as batch_op:
        batch_op.create_index('ix_shipment_order_ref_order', ['system', 'external_id'], unique=False)
    conn = op.get_bind()
    rows = [
        {'shipment_id': sid, 'position': i, **_parse(text)}
        for sid, refs in conn.execute(sa.select(shipment.c.id, shipment.c.order_refs)
                                      .where(shipment.c.order_refs.is_not(None)))
        for i, text in enumerate(json.loads(refs))
    ]
    if rows:
        conn.execute(order_ref.insert(), rows)
    # In place, not by copying the table: SQLite (3.35+) drops the column itself, and a copy would
    # have to drop the old shipment table under the rows that reference it.
    with op.batch_alter_table('shipment', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('order_refs')


def _parse(text: str) -> dict[str, str]:
    """A stored "system:external id" as its two columns; the systems of EDI partners hold one ':'
    themselves ("edi:acme:850/1" is system "edi:acme", id "850/1")."""
    family, rest = text.split(':', 1)
    if family == 'edi':
        partner, ext = rest.split(':', 1)
        return {'system': f'edi:{partner}', 'external_id': ext}
    return {'system': family, 'external_id': rest}


def downgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_refs', sa.Text(), nullable=True))
    conn = op.get_bind()
    refs: dict[int, list[str]] = {}
    q = sa.select(order_ref.c.shipment_id, order_ref.c.system, order_ref.c.external_id).order_by(
        order_ref.c.shipment_id, order_ref.c.position)
    for sid, system, ext in conn.execute(q):
        refs.setdefault(sid, []).append(f'{system}:{ext}')
    if refs:
        conn.execute(shipment.update().where(shipment.c.id == sa.bindparam('sid')),
                     [{'sid': sid, 'order_refs': json.dumps(texts, separators=(',', ':'))}
                      for sid, texts in refs.items()])
    with op.batch_alter_table('shipment_order_ref', schema=None) as batch_op:
        batch_op.drop_index('ix_shipment_order_ref_order')
    op.drop_table('shipment_order_ref')

    with op.batch_alter_table('customer_fact', schema=None) as batch_op:
        batch_op.drop_column('last_message_id')
        batch_op.drop_column('version')
