"""fulfilment: fulfilment_replicas (the ERP's work orders and purchase needs on erp.fulfilment.v1)

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-05 17:49:54.026356
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fulfilment_replicas',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('sales_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sales_order_number', sa.String(length=50), nullable=False),
    sa.Column('number', sa.String(length=50), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('product_name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fulfilment_replicas'))
    )
    op.create_index(op.f('ix_fulfilment_replicas_deal_id'), 'fulfilment_replicas', ['deal_id'], unique=False)
    op.create_index(op.f('ix_fulfilment_replicas_sales_order_id'), 'fulfilment_replicas', ['sales_order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_fulfilment_replicas_sales_order_id'), table_name='fulfilment_replicas')
    op.drop_index(op.f('ix_fulfilment_replicas_deal_id'), table_name='fulfilment_replicas')
    op.drop_table('fulfilment_replicas')
