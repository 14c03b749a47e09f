"""call routing queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('queued_call',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.String(length=32), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('execution_id', sa.String(length=32), nullable=True),
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('route_key', sa.String(length=128), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=True),
    sa.Column('context', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('agent_id', sa.String(length=32), nullable=True),
    sa.Column('enqueued_at', sa.DateTime(), nullable=False),
    sa.Column('offered_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('route_key')
    )
    with op.batch_alter_table('queued_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queued_call_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_queued_call_call_sid'), ['call_sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_queued_call_execution_id'), ['execution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_queued_call_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_queued_call_dispatch', ['tenant_id', 'department_id', 'status', 'priority', 'enqueued_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('queued_call', schema=None) as batch_op:
        batch_op.drop_index('ix_queued_call_dispatch')
        batch_op.drop_index(batch_op.f('ix_queued_call_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_queued_call_execution_id'))
        batch_op.drop_index(batch_op.f('ix_queued_call_call_sid'))
        batch_op.drop_index(batch_op.f('ix_queued_call_agent_id'))

    op.drop_table('queued_call')
