"""warranty: terms on products and the entitlements issued invoices create (terms copied at the sale)

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warranty_terms',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('starts_from', sa.String(length=10), nullable=False),
    sa.Column('covers_parts', sa.Boolean(), nullable=False),
    sa.Column('covers_labour', sa.Boolean(), nullable=False),
    sa.Column('supplier_party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('supplier_months', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("starts_from in ('invoice', 'delivery')", name=op.f('ck_warranty_terms_starts_from')),
    sa.CheckConstraint('(supplier_party_id is null) = (supplier_months is null)', name=op.f('ck_warranty_terms_supplier')),
    sa.CheckConstraint('covers_parts or covers_labour', name=op.f('ck_warranty_terms_covers')),
    sa.CheckConstraint('months > 0 and months <= 240', name=op.f('ck_warranty_terms_months')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_warranty_terms_product_id_products')),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_warranty_terms'))
    )
    op.create_table('warranty_entitlements',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('invoice_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('invoice_number', sa.String(length=40), nullable=False),
    sa.Column('invoice_line_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('serial_number', sa.String(length=100), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('covers_parts', sa.Boolean(), nullable=False),
    sa.Column('covers_labour', sa.Boolean(), nullable=False),
    sa.Column('supplier_party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('supplier_end_date', sa.Date(), nullable=True),
    sa.Column('terms', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('active', 'void')", name=op.f('ck_warranty_entitlements_status')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_warranty_entitlements_quantity')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_warranty_entitlements_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['invoice_line_id'], ['invoice_lines.id'], name=op.f('fk_warranty_entitlements_invoice_line_id_invoice_lines')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_warranty_entitlements_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warranty_entitlements'))
    )
    op.create_index('ix_warranty_entitlements_line', 'warranty_entitlements', ['invoice_line_id'], unique=False)
    op.create_index('ix_warranty_entitlements_party_product', 'warranty_entitlements', ['party_id', 'product_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_warranty_entitlements_party_product', table_name='warranty_entitlements')
    op.drop_index('ix_warranty_entitlements_line', table_name='warranty_entitlements')
    op.drop_table('warranty_entitlements')
    op.drop_table('warranty_terms')
