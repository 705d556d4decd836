"""warranty claims of tickets resolved under warranty (parts, labour, serials, revision, the ERP's answer)

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warranty_claims',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('ticket_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('entitlement_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('faulty_serial', sa.String(length=100), nullable=True),
    sa.Column('replacement_serial', sa.String(length=100), nullable=True),
    sa.Column('parts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('labour_hours', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('labour_rate', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('labour_cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('answered_revision', sa.Integer(), nullable=True),
    sa.Column('erp_number', sa.String(length=40), nullable=True),
    sa.Column('erp_total_cost', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('erp_version', sa.BigInteger(), nullable=False),
    sa.Column('claimed_by', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('submitted', 'accepted', 'rejected')", name=op.f('ck_warranty_claims_status')),
    sa.CheckConstraint('labour_hours >= 0 and labour_rate >= 0', name=op.f('ck_warranty_claims_labour')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_warranty_claims_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warranty_claims')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_warranty_claims_ticket_id'))
    )
    op.create_index(op.f('ix_warranty_claims_party_id'), 'warranty_claims', ['party_id'], unique=False)
    op.create_index(op.f('ix_warranty_claims_entitlement_id'), 'warranty_claims', ['entitlement_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_warranty_claims_entitlement_id'), table_name='warranty_claims')
    op.drop_index(op.f('ix_warranty_claims_party_id'), table_name='warranty_claims')
    op.drop_table('warranty_claims')
