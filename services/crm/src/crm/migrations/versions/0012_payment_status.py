"""payment_replicas.status: posted, or bounced (a cheque the bank returned)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('payment_replicas', sa.Column('status', sa.String(length=10), server_default='posted',
                                                nullable=False))


def downgrade() -> None:
    op.drop_column('payment_replicas', 'status')
