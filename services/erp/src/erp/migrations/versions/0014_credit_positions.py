"""credit_positions: each customer's credit position as last published on erp.credit.v1

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_positions',
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('open_balance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('overdue_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('party_id', name=op.f('pk_credit_positions'))
    )


def downgrade() -> None:
    op.drop_table('credit_positions')
