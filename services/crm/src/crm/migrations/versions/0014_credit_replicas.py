"""credit_replicas: each customer's credit position from erp.credit.v1 (quotes warn before they are sent)

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
    op.create_table('credit_replicas',
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('open_balance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('overdue_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('available_credit', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('party_id', name=op.f('pk_credit_replicas'))
    )


def downgrade() -> None:
    op.drop_table('credit_replicas')
