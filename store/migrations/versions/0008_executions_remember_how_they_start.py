"""executions remember how their workflow starts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('execution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('launch', sa.JSON(), nullable=True))
    # Rows a crash left pending before this migration: the start sweeper takes them up too.
    op.execute(sa.text("UPDATE execution SET launch = '{}' WHERE status = 'pending'"))


def downgrade() -> None:
    with op.batch_alter_table('execution', schema=None) as batch_op:
        batch_op.drop_column('launch')
