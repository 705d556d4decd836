"""stock: warehouses, locations, moves (immutable), quants, levels, valuation layers, reservations, counts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 11:58:34.970973
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warehouses',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouses'))
    )
    op.create_index('uq_warehouses_code_lower', 'warehouses', [sa.literal_column('lower(code)')], unique=True)
    op.create_table('inventory_counts',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('warehouse_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('validated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('draft', 'validated', 'cancelled')", name=op.f('ck_inventory_counts_status')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_inventory_counts_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_counts')),
    sa.UniqueConstraint('number', name=op.f('uq_inventory_counts_number'))
    )
    op.create_index(op.f('ix_inventory_counts_warehouse_id'), 'inventory_counts', ['warehouse_id'], unique=False)
    op.create_table('stock_locations',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('warehouse_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('parent_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['stock_locations.id'], name=op.f('fk_stock_locations_parent_id_stock_locations')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_locations_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_locations')),
    sa.UniqueConstraint('warehouse_id', 'code', name='uq_stock_locations_warehouse_code')
    )
    op.create_index(op.f('ix_stock_locations_warehouse_id'), 'stock_locations', ['warehouse_id'], unique=False)
    op.create_index('uq_stock_locations_default', 'stock_locations', ['warehouse_id'], unique=True, postgresql_where=sa.text('is_default'))
    op.create_table('stock_levels',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('warehouse_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_levels_product_id_products')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_levels_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('product_id', 'warehouse_id', name=op.f('pk_stock_levels'))
    )
    op.create_index(op.f('ix_stock_levels_warehouse_id'), 'stock_levels', ['warehouse_id'], unique=False)
    op.create_table('stock_moves',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('from_location_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('to_location_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('from_warehouse_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('to_warehouse_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('source_type', sa.String(length=50), nullable=True),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=100), nullable=True),
    sa.Column('actor_name', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'receipt' and from_location_id is null and to_location_id is not null) or (kind = 'delivery' and from_location_id is not null and to_location_id is null) or (kind = 'transfer' and from_location_id is not null and to_location_id is not null and from_location_id <> to_location_id) or (kind = 'adjustment' and (from_location_id is null) <> (to_location_id is null) and reason is not null)", name=op.f('ck_stock_moves_locations')),
    sa.CheckConstraint("kind in ('receipt', 'delivery', 'transfer', 'adjustment')", name=op.f('ck_stock_moves_kind')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_moves_quantity')),
    sa.ForeignKeyConstraint(['from_location_id'], ['stock_locations.id'], name=op.f('fk_stock_moves_from_location_id_stock_locations')),
    sa.ForeignKeyConstraint(['from_warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_moves_from_warehouse_id_warehouses')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_moves_product_id_products')),
    sa.ForeignKeyConstraint(['to_location_id'], ['stock_locations.id'], name=op.f('fk_stock_moves_to_location_id_stock_locations')),
    sa.ForeignKeyConstraint(['to_warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_moves_to_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_moves'))
    )
    op.create_index('ix_stock_moves_done_at', 'stock_moves', ['done_at'], unique=False)
    op.create_index(op.f('ix_stock_moves_from_warehouse_id'), 'stock_moves', ['from_warehouse_id'], unique=False)
    op.create_index(op.f('ix_stock_moves_party_id'), 'stock_moves', ['party_id'], unique=False)
    op.create_index('ix_stock_moves_product_done', 'stock_moves', ['product_id', 'done_at'], unique=False)
    op.create_index('ix_stock_moves_source', 'stock_moves', ['source_type', 'source_id'], unique=False)
    op.create_index(op.f('ix_stock_moves_to_warehouse_id'), 'stock_moves', ['to_warehouse_id'], unique=False)
    # moves are history: a correction is a counter move, never an edit
    op.execute("""
        CREATE FUNCTION stock_moves_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'stock moves are immutable: record a counter move instead';
        END $$
    """)
    op.execute("CREATE TRIGGER stock_moves_immutable BEFORE UPDATE OR DELETE ON stock_moves "
               "FOR EACH ROW EXECUTE FUNCTION stock_moves_immutable()")
    op.create_table('stock_products',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('average_cost', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('last_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_products_product_id_products')),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_stock_products'))
    )
    op.create_table('stock_quants',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('location_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('warehouse_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name=op.f('fk_stock_quants_location_id_stock_locations')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_quants_product_id_products')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_quants_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('product_id', 'location_id', name=op.f('pk_stock_quants'))
    )
    op.create_index(op.f('ix_stock_quants_location_id'), 'stock_quants', ['location_id'], unique=False)
    op.create_index(op.f('ix_stock_quants_warehouse_id'), 'stock_quants', ['warehouse_id'], unique=False)
    op.create_table('stock_reservations',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('warehouse_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('source_type', sa.String(length=50), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('remaining', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.String(length=100), nullable=True),
    sa.Column('actor_name', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('active', 'consumed', 'released')", name=op.f('ck_stock_reservations_status')),
    sa.CheckConstraint('quantity > 0 and remaining >= 0 and remaining <= quantity', name=op.f('ck_stock_reservations_quantities')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_reservations_product_id_products')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_reservations_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_reservations'))
    )
    op.create_index('ix_stock_reservations_product_warehouse', 'stock_reservations', ['product_id', 'warehouse_id'], unique=False)
    op.create_index('ix_stock_reservations_source', 'stock_reservations', ['source_type', 'source_id'], unique=False)
    op.create_table('inventory_count_lines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('count_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('location_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('counted_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('system_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('move_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('counted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('counted_by', sa.String(length=300), nullable=True),
    sa.CheckConstraint('counted_quantity >= 0', name=op.f('ck_inventory_count_lines_counted_quantity')),
    sa.ForeignKeyConstraint(['count_id'], ['inventory_counts.id'], name=op.f('fk_inventory_count_lines_count_id_inventory_counts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name=op.f('fk_inventory_count_lines_location_id_stock_locations')),
    sa.ForeignKeyConstraint(['move_id'], ['stock_moves.id'], name=op.f('fk_inventory_count_lines_move_id_stock_moves')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_inventory_count_lines_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_count_lines')),
    sa.UniqueConstraint('count_id', 'product_id', 'location_id', name='uq_inventory_count_lines_item')
    )
    op.create_index(op.f('ix_inventory_count_lines_count_id'), 'inventory_count_lines', ['count_id'], unique=False)
    op.create_table('stock_valuation_layers',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('move_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('remaining_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('remaining_value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['move_id'], ['stock_moves.id'], name=op.f('fk_stock_valuation_layers_move_id_stock_moves')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_valuation_layers_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_valuation_layers'))
    )
    op.create_index(op.f('ix_stock_valuation_layers_move_id'), 'stock_valuation_layers', ['move_id'], unique=False)
    op.create_index('ix_stock_valuation_layers_open', 'stock_valuation_layers', ['product_id', 'id'], unique=False, postgresql_where=sa.text('remaining_quantity <> 0'))
    op.create_index('ix_stock_valuation_layers_product_done', 'stock_valuation_layers', ['product_id', 'done_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_stock_valuation_layers_product_done', table_name='stock_valuation_layers')
    op.drop_index('ix_stock_valuation_layers_open', table_name='stock_valuation_layers', postgresql_where=sa.text('remaining_quantity <> 0'))
    op.drop_index(op.f('ix_stock_valuation_layers_move_id'), table_name='stock_valuation_layers')
    op.drop_table('stock_valuation_layers')
    op.drop_index(op.f('ix_inventory_count_lines_count_id'), table_name='inventory_count_lines')
    op.drop_table('inventory_count_lines')
    op.drop_index('ix_stock_reservations_source', table_name='stock_reservations')
    op.drop_index('ix_stock_reservations_product_warehouse', table_name='stock_reservations')
    op.drop_table('stock_reservations')
    op.drop_index(op.f('ix_stock_quants_warehouse_id'), table_name='stock_quants')
    op.drop_index(op.f('ix_stock_quants_location_id'), table_name='stock_quants')
    op.drop_table('stock_quants')
    op.drop_table('stock_products')
    op.execute("DROP TRIGGER stock_moves_immutable ON stock_moves")
    op.execute("DROP FUNCTION stock_moves_immutable()")
    op.drop_index(op.f('ix_stock_moves_to_warehouse_id'), table_name='stock_moves')
    op.drop_index('ix_stock_moves_source', table_name='stock_moves')
    op.drop_index('ix_stock_moves_product_done', table_name='stock_moves')
    op.drop_index(op.f('ix_stock_moves_party_id'), table_name='stock_moves')
    op.drop_index(op.f('ix_stock_moves_from_warehouse_id'), table_name='stock_moves')
    op.drop_index('ix_stock_moves_done_at', table_name='stock_moves')
    op.drop_table('stock_moves')
    op.drop_index(op.f('ix_stock_levels_warehouse_id'), table_name='stock_levels')
    op.drop_table('stock_levels')
    op.drop_index('uq_stock_locations_default', table_name='stock_locations', postgresql_where=sa.text('is_default'))
    op.drop_index(op.f('ix_stock_locations_warehouse_id'), table_name='stock_locations')
    op.drop_table('stock_locations')
    op.drop_index(op.f('ix_inventory_counts_warehouse_id'), table_name='inventory_counts')
    op.drop_table('inventory_counts')
    op.drop_index('uq_warehouses_code_lower', table_name='warehouses')
    op.drop_table('warehouses')
