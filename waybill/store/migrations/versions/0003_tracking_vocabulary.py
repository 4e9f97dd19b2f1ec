"""Delivery statuses move to the industry's tracking vocabulary (pre_transit, in_transit, ...,
return_to_sender, unknown) with a substatus beside them: stored events and shipments are rewritten
(created -> pre_transit, picked_up -> in_transit/picked_up, returned -> return_to_sender)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

#: old status -> (new status, substatus)
RENAMED = {'created': ('pre_transit', 'info_received'), 'picked_up': ('in_transit', 'picked_up'),
           'returned': ('return_to_sender', None)}
#: new statuses the old vocabulary lacked -> the old status nearest in meaning (downgrade only)
NARROWED = {'available_for_pickup': 'out_for_delivery', 'attempt_failed': 'exception', 'unknown': 'in_transit'}
TABLES = ('shipment', 'delivery_event')


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None, recreate='never') as batch_op:
            batch_op.add_column(sa.Column('substatus', sa.String(length=40), nullable=True))
        table = sa.table(name, sa.column('status', sa.String), sa.column('substatus', sa.String))
        for old, (new, sub) in RENAMED.items():
            op.execute(table.update().where(table.c.status == old).values(status=new, substatus=sub))


def downgrade() -> None:
    for name in TABLES:
        table = sa.table(name, sa.column('status', sa.String), sa.column('substatus', sa.String))
        op.execute(table.update().where(table.c.status == 'pre_transit').values(status='created'))
        op.execute(table.update().where((table.c.status == 'in_transit') & (table.c.substatus == 'picked_up'))
                   .values(status='picked_up'))
        op.execute(table.update().where(table.c.status == 'return_to_sender').values(status='returned'))
        for new, old in NARROWED.items():
            op.execute(table.update().where(table.c.status == new).values(status=old))
        # In place (SQLite 3.35+), not by copying: a copy would drop shipment under its events' rows.
        with op.batch_alter_table(name, schema=None, recreate='never') as batch_op:
            batch_op.drop_column('substatus')
