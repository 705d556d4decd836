"""party merge: the replica's merged_into_id (status 'merged' comes from the CRM)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 12:38:43.137049
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('party_replicas', sa.Column('merged_into_id', sa.UUID(as_uuid=False), nullable=True))


def downgrade() -> None:
    op.drop_column('party_replicas', 'merged_into_id')
