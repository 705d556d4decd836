"""invoices.dunning_level and dunned_at: the last reminder an overdue invoice was in

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('invoices', sa.Column('dunning_level', sa.Integer(), server_default='0', nullable=False))
    op.add_column('invoices', sa.Column('dunned_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('invoices', 'dunned_at')
    op.drop_column('invoices', 'dunning_level')
