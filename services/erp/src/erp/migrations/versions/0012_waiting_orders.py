"""waiting_orders: CRM orders that arrived before their customer's party (placed when the party arrives)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('waiting_orders',
    sa.Column('crm_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('crm_order_id', name=op.f('pk_waiting_orders'))
    )
    op.create_index(op.f('ix_waiting_orders_party_id'), 'waiting_orders', ['party_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_waiting_orders_party_id'), table_name='waiting_orders')
    op.drop_table('waiting_orders')
