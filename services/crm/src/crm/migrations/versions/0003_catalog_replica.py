"""catalog replica: categories, products, price lists and stock availability from the ERP

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:38.282972
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('category_replicas',
    sa.Column('category_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('category_id', name=op.f('pk_category_replicas'))
    )
    op.create_index(op.f('ix_category_replicas_parent_id'), 'category_replicas', ['parent_id'], unique=False)
    op.create_table('price_list_replicas',
    sa.Column('price_list_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('customer_group', sa.String(length=50), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('price_list_id', name=op.f('pk_price_list_replicas'))
    )
    op.create_index('ix_price_list_replicas_items', 'price_list_replicas', ['items'], unique=False, postgresql_using='gin', postgresql_ops={'items': 'jsonb_path_ops'})
    op.create_index(op.f('ix_price_list_replicas_party_id'), 'price_list_replicas', ['party_id'], unique=False)
    op.create_table('product_replicas',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('category_path', sa.Text(), nullable=True),
    sa.Column('uom', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('sale_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('warranty_months', sa.Integer(), nullable=False),
    sa.Column('allow_backorder', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_product_replicas'))
    )
    op.create_index(op.f('ix_product_replicas_category_id'), 'product_replicas', ['category_id'], unique=False)
    op.create_index('ix_product_replicas_name_lower', 'product_replicas', [sa.literal_column('lower(name)')], unique=False)
    op.create_index('ix_product_replicas_sku_lower', 'product_replicas', [sa.literal_column('lower(sku)')], unique=False)
    op.create_table('stock_replicas',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('available', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('warehouses', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_stock_replicas'))
    )
    op.create_index(op.f('ix_stock_replicas_available'), 'stock_replicas', ['available'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_stock_replicas_available'), table_name='stock_replicas')
    op.drop_table('stock_replicas')
    op.drop_index('ix_product_replicas_sku_lower', table_name='product_replicas')
    op.drop_index('ix_product_replicas_name_lower', table_name='product_replicas')
    op.drop_index(op.f('ix_product_replicas_category_id'), table_name='product_replicas')
    op.drop_table('product_replicas')
    op.drop_index(op.f('ix_price_list_replicas_party_id'), table_name='price_list_replicas')
    op.drop_index('ix_price_list_replicas_items', table_name='price_list_replicas', postgresql_using='gin', postgresql_ops={'items': 'jsonb_path_ops'})
    op.drop_table('price_list_replicas')
    op.drop_index(op.f('ix_category_replicas_parent_id'), table_name='category_replicas')
    op.drop_table('category_replicas')
