"""replica change actor as text

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:47:15.073253
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('party_replica_changes', 'actor',
               existing_type=sa.VARCHAR(length=200),
               type_=sa.Text(),
               existing_nullable=True)


def downgrade() -> None:
    op.alter_column('party_replica_changes', 'actor',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=200),
               existing_nullable=True)
