"""campaigns and recordings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_campaign_name')
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('recording',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=True),
    sa.Column('flow_id', sa.String(length=32), nullable=False),
    sa.Column('execution_id', sa.String(length=32), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('recording_sid', sa.String(length=64), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('source_url', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['execution_id'], ['execution.id'], ),
    sa.ForeignKeyConstraint(['flow_id'], ['flow.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('recording_sid')
    )
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_call_sid'), ['call_sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_execution_id'), ['execution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_flow_id'), ['flow_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_ids', sa.JSON(), nullable=True))

    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_deployment_campaign_id'), ['campaign_id'], unique=False)

    with op.batch_alter_table('execution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_execution_campaign_id'), ['campaign_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('execution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_execution_campaign_id'))
        batch_op.drop_column('campaign_id')

    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deployment_campaign_id'))
        batch_op.drop_column('campaign_id')

    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('campaign_ids')

    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_recording_flow_id'))
        batch_op.drop_index(batch_op.f('ix_recording_execution_id'))
        batch_op.drop_index(batch_op.f('ix_recording_created_at'))
        batch_op.drop_index(batch_op.f('ix_recording_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_recording_call_sid'))

    op.drop_table('recording')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_tenant_id'))

    op.drop_table('campaign')
