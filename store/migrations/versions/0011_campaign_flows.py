"""campaign flows: flows assigned to a campaign's triggers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign_flow',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=False),
    sa.Column('flow_id', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['flow_id'], ['flow.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'flow_id', 'trigger', name='uq_campaign_flow')
    )
    with op.batch_alter_table('campaign_flow', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_flow_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_flow_flow_id'), ['flow_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_flow_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('campaign_flow', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_flow_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_flow_flow_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_flow_campaign_id'))
    op.drop_table('campaign_flow')
