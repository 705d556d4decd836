"""fulfilment: how products are obtained (product_supplies, bom_components, routing_operations), work orders with
their operations and materials, purchase needs, the installers' reports from the CRM (installation_records), and the work order numbers' sequence

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 17:46:08.363639
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("work_order_number_seq")))
    op.create_table('bom_components',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('component_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('component_id <> product_id', name=op.f('ck_bom_components_not_itself')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_bom_components_quantity')),
    sa.ForeignKeyConstraint(['component_id'], ['products.id'], name=op.f('fk_bom_components_component_id_products')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_bom_components_product_id_products')),
    sa.PrimaryKeyConstraint('product_id', 'component_id', name=op.f('pk_bom_components'))
    )
    op.create_index(op.f('ix_bom_components_component_id'), 'bom_components', ['component_id'], unique=False)
    op.create_table('product_supplies',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('procurement', sa.String(length=14), nullable=False),
    sa.Column('preferred_supplier_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('supplier_price', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("procurement in ('make_to_order', 'buy')", name=op.f('ck_product_supplies_procurement')),
    sa.CheckConstraint('lead_time_days >= 0 and (supplier_price is null or supplier_price >= 0)', name=op.f('ck_product_supplies_terms')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_supplies_product_id_products')),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_product_supplies'))
    )
    op.create_index(op.f('ix_product_supplies_preferred_supplier_id'), 'product_supplies', ['preferred_supplier_id'], unique=False)
    op.create_table('routing_operations',
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('planned_hours', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.CheckConstraint('planned_hours >= 0', name=op.f('ck_routing_operations_planned_hours')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_routing_operations_product_id_products')),
    sa.PrimaryKeyConstraint('product_id', 'position', name=op.f('pk_routing_operations'))
    )
    op.create_table('work_orders',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('sales_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sales_order_line_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('warehouse_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('expected_date', sa.Date(), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('planned', 'in_progress', 'done')", name=op.f('ck_work_orders_status')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_work_orders_quantity')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_work_orders_product_id_products')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_orders.id'], name=op.f('fk_work_orders_sales_order_id_sales_orders')),
    sa.ForeignKeyConstraint(['sales_order_line_id'], ['sales_order_lines.id'], name=op.f('fk_work_orders_sales_order_line_id_sales_order_lines')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_work_orders_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_work_orders_number')),
    sa.UniqueConstraint('sales_order_line_id', name=op.f('uq_work_orders_sales_order_line_id'))
    )
    op.create_index(op.f('ix_work_orders_deal_id'), 'work_orders', ['deal_id'], unique=False)
    op.create_index(op.f('ix_work_orders_product_id'), 'work_orders', ['product_id'], unique=False)
    op.create_index(op.f('ix_work_orders_sales_order_id'), 'work_orders', ['sales_order_id'], unique=False)
    op.create_index(op.f('ix_work_orders_status'), 'work_orders', ['status'], unique=False)
    op.create_table('purchase_needs',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sales_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('work_order_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('supplier_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('purchase_order_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('expected_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('draft', 'ordered', 'received', 'cancelled', 'no_supplier')", name=op.f('ck_purchase_needs_status')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchase_needs_quantity')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_purchase_needs_product_id_products')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_needs_purchase_order_id_purchase_orders')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_orders.id'], name=op.f('fk_purchase_needs_sales_order_id_sales_orders')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_purchase_needs_work_order_id_work_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_needs'))
    )
    op.create_index(op.f('ix_purchase_needs_deal_id'), 'purchase_needs', ['deal_id'], unique=False)
    op.create_index(op.f('ix_purchase_needs_purchase_order_id'), 'purchase_needs', ['purchase_order_id'], unique=False)
    op.create_index(op.f('ix_purchase_needs_sales_order_id'), 'purchase_needs', ['sales_order_id'], unique=False)
    op.create_index(op.f('ix_purchase_needs_status'), 'purchase_needs', ['status'], unique=False)
    op.create_table('work_order_materials',
    sa.Column('work_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('consumed_value', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('stock_move_id', sa.UUID(as_uuid=False), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_work_order_materials_product_id_products')),
    sa.ForeignKeyConstraint(['stock_move_id'], ['stock_moves.id'], name=op.f('fk_work_order_materials_stock_move_id_stock_moves')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_work_order_materials_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_order_id', 'product_id', name=op.f('pk_work_order_materials'))
    )
    op.create_table('work_order_operations',
    sa.Column('work_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('planned_hours', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.CheckConstraint("status in ('planned', 'in_progress', 'done')", name=op.f('ck_work_order_operations_status')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_work_order_operations_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_order_id', 'position', name=op.f('pk_work_order_operations'))
    )

    op.create_table('installation_records',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('sales_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sales_order_number', sa.String(length=50), nullable=False),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('serials', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('signed_by', sa.String(length=200), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installation_records'))
    )
    op.create_index(op.f('ix_installation_records_sales_order_id'), 'installation_records', ['sales_order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_installation_records_sales_order_id'), table_name='installation_records')
    op.drop_table('installation_records')
    op.drop_table('work_order_operations')
    op.drop_table('work_order_materials')
    op.drop_index(op.f('ix_purchase_needs_status'), table_name='purchase_needs')
    op.drop_index(op.f('ix_purchase_needs_sales_order_id'), table_name='purchase_needs')
    op.drop_index(op.f('ix_purchase_needs_purchase_order_id'), table_name='purchase_needs')
    op.drop_index(op.f('ix_purchase_needs_deal_id'), table_name='purchase_needs')
    op.drop_table('purchase_needs')
    op.drop_index(op.f('ix_work_orders_status'), table_name='work_orders')
    op.drop_index(op.f('ix_work_orders_sales_order_id'), table_name='work_orders')
    op.drop_index(op.f('ix_work_orders_product_id'), table_name='work_orders')
    op.drop_index(op.f('ix_work_orders_deal_id'), table_name='work_orders')
    op.drop_table('work_orders')
    op.drop_table('routing_operations')
    op.drop_index(op.f('ix_product_supplies_preferred_supplier_id'), table_name='product_supplies')
    op.drop_table('product_supplies')
    op.drop_index(op.f('ix_bom_components_component_id'), table_name='bom_components')
    op.drop_table('bom_components')
    op.execute(sa.schema.DropSequence(sa.Sequence("work_order_number_seq")))
