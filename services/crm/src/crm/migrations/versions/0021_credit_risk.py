"""credit replicas keep the customer's bounced cheques (erp.credit.v1's risk fields)

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('credit_replicas', sa.Column('cheques_bounced', sa.Integer(), server_default='0', nullable=False))
    op.add_column('credit_replicas', sa.Column('bounced_total', sa.Numeric(18, 2), server_default='0',
                                               nullable=False))
    op.add_column('credit_replicas', sa.Column('last_bounced_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('credit_replicas', 'last_bounced_at')
    op.drop_column('credit_replicas', 'bounced_total')
    op.drop_column('credit_replicas', 'cheques_bounced')
