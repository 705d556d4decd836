"""purchasing: purchase orders and lines, goods receipts and lines, supplier bills and lines, number sequences

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:01:38.162092
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


SEQUENCES = ("purchase_order_number_seq", "goods_receipt_number_seq", "supplier_bill_number_seq")


def upgrade() -> None:
    for name in SEQUENCES:
        op.execute(f"CREATE SEQUENCE {name}")
    op.create_table('supplier_bills',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('supplier_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('supplier_invoice_number', sa.String(length=64), nullable=False),
    sa.Column('bill_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('match_status', sa.String(length=12), nullable=False),
    sa.Column('match', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('subtotal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=300), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("match_status in ('matched', 'discrepancy')", name=op.f('ck_supplier_bills_match_status')),
    sa.CheckConstraint("status in ('awaiting_approval', 'approved', 'rejected')", name=op.f('ck_supplier_bills_status')),
    sa.CheckConstraint('due_date >= bill_date', name=op.f('ck_supplier_bills_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_bills')),
    sa.UniqueConstraint('number', name=op.f('uq_supplier_bills_number')),
    sa.UniqueConstraint('seq', name=op.f('uq_supplier_bills_seq'))
    )
    op.create_index(op.f('ix_supplier_bills_bill_date'), 'supplier_bills', ['bill_date'], unique=False)
    op.create_index(op.f('ix_supplier_bills_match_status'), 'supplier_bills', ['match_status'], unique=False)
    op.create_index(op.f('ix_supplier_bills_status'), 'supplier_bills', ['status'], unique=False)
    op.create_index(op.f('ix_supplier_bills_supplier_id'), 'supplier_bills', ['supplier_id'], unique=False)
    op.create_index('uq_supplier_bills_supplier_invoice', 'supplier_bills', ['supplier_id', sa.literal_column('lower(supplier_invoice_number)')], unique=True, postgresql_where=sa.text("status <> 'rejected'"))
    op.create_table('purchase_orders',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('supplier_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=True),
    sa.Column('warehouse_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('subtotal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state in ('draft', 'sent', 'partially_received', 'received', 'billed', 'cancelled')", name=op.f('ck_purchase_orders_state')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_purchase_orders_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_orders_number'))
    )
    op.create_index('ix_purchase_orders_order_date', 'purchase_orders', ['order_date'], unique=False)
    op.create_index(op.f('ix_purchase_orders_state'), 'purchase_orders', ['state'], unique=False)
    op.create_index(op.f('ix_purchase_orders_supplier_id'), 'purchase_orders', ['supplier_id'], unique=False)
    op.create_index(op.f('ix_purchase_orders_warehouse_id'), 'purchase_orders', ['warehouse_id'], unique=False)
    op.create_table('goods_receipts',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('purchase_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('received_by', sa.String(length=300), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_goods_receipts_purchase_order_id_purchase_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_receipts')),
    sa.UniqueConstraint('number', name=op.f('uq_goods_receipts_number'))
    )
    op.create_index(op.f('ix_goods_receipts_purchase_order_id'), 'goods_receipts', ['purchase_order_id'], unique=False)
    op.create_table('purchase_order_lines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('purchase_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('subtotal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('quantity_received', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('quantity_cancelled', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('quantity_billed', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0 and unit_price >= 0 and tax_rate >= 0 and tax_rate < 1', name=op.f('ck_purchase_order_lines_amounts')),
    sa.CheckConstraint('quantity_received >= 0 and quantity_cancelled >= 0 and quantity_billed >= 0 and quantity_received + quantity_cancelled <= quantity', name=op.f('ck_purchase_order_lines_progress')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_purchase_order_lines_product_id_products')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_lines_purchase_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines')),
    sa.UniqueConstraint('purchase_order_id', 'position', name='uq_purchase_order_lines_position')
    )
    op.create_index(op.f('ix_purchase_order_lines_product_id'), 'purchase_order_lines', ['product_id'], unique=False)
    op.create_index(op.f('ix_purchase_order_lines_purchase_order_id'), 'purchase_order_lines', ['purchase_order_id'], unique=False)
    op.create_table('goods_receipt_lines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('receipt_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('po_line_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('location_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('stock_move_id', sa.UUID(as_uuid=False), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_goods_receipt_lines_quantity')),
    sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name=op.f('fk_goods_receipt_lines_location_id_stock_locations')),
    sa.ForeignKeyConstraint(['po_line_id'], ['purchase_order_lines.id'], name=op.f('fk_goods_receipt_lines_po_line_id_purchase_order_lines')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_goods_receipt_lines_product_id_products')),
    sa.ForeignKeyConstraint(['receipt_id'], ['goods_receipts.id'], name=op.f('fk_goods_receipt_lines_receipt_id_goods_receipts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stock_move_id'], ['stock_moves.id'], name=op.f('fk_goods_receipt_lines_stock_move_id_stock_moves')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_receipt_lines'))
    )
    op.create_index(op.f('ix_goods_receipt_lines_po_line_id'), 'goods_receipt_lines', ['po_line_id'], unique=False)
    op.create_index(op.f('ix_goods_receipt_lines_receipt_id'), 'goods_receipt_lines', ['receipt_id'], unique=False)
    op.create_table('supplier_bill_lines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('bill_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('subtotal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('quantity > 0 and unit_price >= 0 and tax_rate >= 0 and tax_rate < 1', name=op.f('ck_supplier_bill_lines_amounts')),
    sa.ForeignKeyConstraint(['bill_id'], ['supplier_bills.id'], name=op.f('fk_supplier_bill_lines_bill_id_supplier_bills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['po_line_id'], ['purchase_order_lines.id'], name=op.f('fk_supplier_bill_lines_po_line_id_purchase_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_bill_lines')),
    sa.UniqueConstraint('bill_id', 'position', name='uq_supplier_bill_lines_position')
    )
    op.create_index(op.f('ix_supplier_bill_lines_bill_id'), 'supplier_bill_lines', ['bill_id'], unique=False)
    op.create_index(op.f('ix_supplier_bill_lines_po_line_id'), 'supplier_bill_lines', ['po_line_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_supplier_bill_lines_po_line_id'), table_name='supplier_bill_lines')
    op.drop_index(op.f('ix_supplier_bill_lines_bill_id'), table_name='supplier_bill_lines')
    op.drop_table('supplier_bill_lines')
    op.drop_index(op.f('ix_goods_receipt_lines_receipt_id'), table_name='goods_receipt_lines')
    op.drop_index(op.f('ix_goods_receipt_lines_po_line_id'), table_name='goods_receipt_lines')
    op.drop_table('goods_receipt_lines')
    op.drop_index(op.f('ix_purchase_order_lines_purchase_order_id'), table_name='purchase_order_lines')
    op.drop_index(op.f('ix_purchase_order_lines_product_id'), table_name='purchase_order_lines')
    op.drop_table('purchase_order_lines')
    op.drop_index(op.f('ix_goods_receipts_purchase_order_id'), table_name='goods_receipts')
    op.drop_table('goods_receipts')
    op.drop_index(op.f('ix_purchase_orders_warehouse_id'), table_name='purchase_orders')
    op.drop_index(op.f('ix_purchase_orders_supplier_id'), table_name='purchase_orders')
    op.drop_index(op.f('ix_purchase_orders_state'), table_name='purchase_orders')
    op.drop_index('ix_purchase_orders_order_date', table_name='purchase_orders')
    op.drop_table('purchase_orders')
    op.drop_index('uq_supplier_bills_supplier_invoice', table_name='supplier_bills', postgresql_where=sa.text("status <> 'rejected'"))
    op.drop_index(op.f('ix_supplier_bills_supplier_id'), table_name='supplier_bills')
    op.drop_index(op.f('ix_supplier_bills_status'), table_name='supplier_bills')
    op.drop_index(op.f('ix_supplier_bills_match_status'), table_name='supplier_bills')
    op.drop_index(op.f('ix_supplier_bills_bill_date'), table_name='supplier_bills')
    op.drop_table('supplier_bills')
    for name in SEQUENCES:
        op.execute(f"DROP SEQUENCE {name}")
