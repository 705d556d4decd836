"""credit positions count the customer's bounced cheques (the risk published on erp.credit.v1)

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('credit_positions', sa.Column('cheques_bounced', sa.Integer(), server_default='0', nullable=False))
    op.add_column('credit_positions', sa.Column('bounced_total', sa.Numeric(18, 2), server_default='0',
                                                nullable=False))
    op.add_column('credit_positions', sa.Column('last_bounced_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('credit_positions', 'last_bounced_at')
    op.drop_column('credit_positions', 'bounced_total')
    op.drop_column('credit_positions', 'cheques_bounced')
