"""the last pass over each stream that read it to its end, so that a feed built from the hub (finance's
open items of a day) waits until the hub has read its sources past that day

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stream_pass',
        sa.Column('system', sa.String(length=40), nullable=False),
        sa.Column('stream', sa.String(length=60), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('system', 'stream', name=op.f('pk_stream_pass')),
    )


def downgrade() -> None:
    op.drop_table('stream_pass')
