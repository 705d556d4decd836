"""billing replicas

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:37:12.617408
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('invoice_replicas',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('order_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('balance_due', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_replicas'))
    )
    op.create_index(op.f('ix_invoice_replicas_deal_id'), 'invoice_replicas', ['deal_id'], unique=False)
    op.create_index('ix_invoice_replicas_party_status', 'invoice_replicas', ['party_id', 'status'], unique=False)
    op.create_table('order_replicas',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=50), nullable=False),
    sa.Column('crm_order_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('last_delivery_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_replicas'))
    )
    op.create_index(op.f('ix_order_replicas_crm_order_id'), 'order_replicas', ['crm_order_id'], unique=False)
    op.create_index(op.f('ix_order_replicas_deal_id'), 'order_replicas', ['deal_id'], unique=False)
    op.create_index(op.f('ix_order_replicas_party_id'), 'order_replicas', ['party_id'], unique=False)
    op.create_table('payment_replicas',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=50), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=False),
    sa.Column('allocations', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('unallocated', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('party_balance', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_replicas'))
    )
    op.create_index(op.f('ix_payment_replicas_party_id'), 'payment_replicas', ['party_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_payment_replicas_party_id'), table_name='payment_replicas')
    op.drop_table('payment_replicas')
    op.drop_index(op.f('ix_order_replicas_party_id'), table_name='order_replicas')
    op.drop_index(op.f('ix_order_replicas_deal_id'), table_name='order_replicas')
    op.drop_index(op.f('ix_order_replicas_crm_order_id'), table_name='order_replicas')
    op.drop_table('order_replicas')
    op.drop_index('ix_invoice_replicas_party_status', table_name='invoice_replicas')
    op.drop_index(op.f('ix_invoice_replicas_deal_id'), table_name='invoice_replicas')
    op.drop_table('invoice_replicas')
