"""raw messages sealed under a key with an id (message.key_id), raw bytes purged by retention or
erasure (message.purged_at), and the privacy audit trail; carrier requests logged before the
connector redacted them held credentials: their raw bytes are purged

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 06:40:00
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(), nullable=True))
    op.create_table('privacy_audit',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_audit'))
    )
    with op.batch_alter_table('privacy_audit', schema=None) as batch_op:
        batch_op.create_index('ix_privacy_audit_at', ['action', 'at'], unique=False)
    message = sa.table('message', sa.column('stream', sa.String), sa.column('raw', sa.LargeBinary),
                       sa.column('archive_path', sa.Text), sa.column('purged_at', sa.DateTime))
    op.execute(message.update().where(message.c.stream == 'track-request', message.c.raw.is_not(None))
               .values(raw=None, archive_path=None, purged_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))


def downgrade() -> None:
    with op.batch_alter_table('privacy_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_privacy_audit_at')
    op.drop_table('privacy_audit')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
        batch_op.drop_column('key_id')
