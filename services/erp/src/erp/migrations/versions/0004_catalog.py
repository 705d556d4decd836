"""catalog

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:51:59.636481
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('categories',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('parent_id', 'name', name='uq_categories_parent_name')
    )
    op.create_index(op.f('ix_categories_parent_id'), 'categories', ['parent_id'], unique=False)
    op.create_index(op.f('ix_categories_path'), 'categories', ['path'], unique=False)
    op.create_table('price_lists',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('customer_group', sa.String(length=50), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('not (customer_group is not null and party_id is not null)', name=op.f('ck_price_lists_one_target')),
    sa.CheckConstraint('valid_to is null or valid_from is null or valid_to >= valid_from', name=op.f('ck_price_lists_validity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_lists'))
    )
    op.create_index(op.f('ix_price_lists_customer_group'), 'price_lists', ['customer_group'], unique=False)
    op.create_index(op.f('ix_price_lists_party_id'), 'price_lists', ['party_id'], unique=False)
    op.create_table('products',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('uom', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('sale_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('cost', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('warranty_months', sa.Integer(), nullable=False),
    sa.Column('allow_backorder', sa.Boolean(), nullable=False),
    sa.Column('valuation_method', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind in ('stockable', 'consumable', 'service')", name=op.f('ck_products_kind')),
    sa.CheckConstraint("valuation_method in ('average', 'fifo')", name=op.f('ck_products_valuation_method')),
    sa.CheckConstraint('sale_price >= 0 and cost >= 0', name=op.f('ck_products_prices')),
    sa.CheckConstraint('tax_rate >= 0 and tax_rate < 1', name=op.f('ck_products_tax_rate')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_products_category_id_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products'))
    )
    op.create_index(op.f('ix_products_category_id'), 'products', ['category_id'], unique=False)
    op.create_index('ix_products_name_lower', 'products', [sa.literal_column('lower(name)')], unique=False)
    op.create_index('uq_products_sku_lower', 'products', [sa.literal_column('lower(sku)')], unique=True)
    op.create_table('price_list_items',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('price_list_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('min_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('price >= 0 and min_quantity >= 0', name=op.f('ck_price_list_items_amounts')),
    sa.ForeignKeyConstraint(['price_list_id'], ['price_lists.id'], name=op.f('fk_price_list_items_price_list_id_price_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_price_list_items_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list_items')),
    sa.UniqueConstraint('price_list_id', 'product_id', 'min_quantity', name='uq_price_list_items_break')
    )
    op.create_index(op.f('ix_price_list_items_price_list_id'), 'price_list_items', ['price_list_id'], unique=False)
    op.create_index(op.f('ix_price_list_items_product_id'), 'price_list_items', ['product_id'], unique=False)
    op.add_column('party_accounts', sa.Column('customer_group', sa.String(length=50), nullable=True))
    op.create_index(op.f('ix_party_accounts_customer_group'), 'party_accounts', ['customer_group'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_party_accounts_customer_group'), table_name='party_accounts')
    op.drop_column('party_accounts', 'customer_group')
    op.drop_index(op.f('ix_price_list_items_product_id'), table_name='price_list_items')
    op.drop_index(op.f('ix_price_list_items_price_list_id'), table_name='price_list_items')
    op.drop_table('price_list_items')
    op.drop_index('uq_products_sku_lower', table_name='products')
    op.drop_index('ix_products_name_lower', table_name='products')
    op.drop_index(op.f('ix_products_category_id'), table_name='products')
    op.drop_table('products')
    op.drop_index(op.f('ix_price_lists_party_id'), table_name='price_lists')
    op.drop_index(op.f('ix_price_lists_customer_group'), table_name='price_lists')
    op.drop_table('price_lists')
    op.drop_index(op.f('ix_categories_path'), table_name='categories')
    op.drop_index(op.f('ix_categories_parent_id'), table_name='categories')
    op.drop_table('categories')
