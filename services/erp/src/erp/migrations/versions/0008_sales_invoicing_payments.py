"""sales, invoicing, payments: sales orders and deliveries, invoices and credit notes with their counters, bank
accounts, payments and allocations, number sequences

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 12:19:17.078043
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


SEQUENCES = ("sales_order_number_seq", "sales_delivery_number_seq", "customer_receipt_number_seq",
             "supplier_payment_number_seq")


def upgrade() -> None:
    for name in SEQUENCES:
        op.execute(f"CREATE SEQUENCE {name}")
    op.create_table('bank_accounts',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('ledger_account', sa.String(length=30), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_accounts'))
    )
    op.create_index('uq_bank_accounts_name_lower', 'bank_accounts', [sa.literal_column('lower(name)')], unique=True)
    op.create_table('invoice_counters',
    sa.Column('series', sa.String(length=10), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('last_issue_date', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('series', 'fiscal_year', name=op.f('pk_invoice_counters'))
    )
    op.create_table('payments',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('allocated', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('bank_account_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('cheque_number', sa.String(length=50), nullable=True),
    sa.Column('cheque_bank', sa.String(length=100), nullable=True),
    sa.Column('cheque_status', sa.String(length=10), nullable=True),
    sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bounce_reason', sa.Text(), nullable=True),
    sa.Column('journal_entry_id', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=300), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("cheque_status is null or cheque_status in ('received', 'deposited', 'cleared', 'bounced')", name=op.f('ck_payments_cheque_status')),
    sa.CheckConstraint("direction in ('in', 'out')", name=op.f('ck_payments_direction')),
    sa.CheckConstraint("method in ('bank_transfer', 'card', 'cash', 'cheque', 'direct_debit', 'other')", name=op.f('ck_payments_method')),
    sa.CheckConstraint("status in ('posted', 'bounced')", name=op.f('ck_payments_status')),
    sa.CheckConstraint('amount > 0 and allocated >= 0 and allocated <= amount', name=op.f('ck_payments_amounts')),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], name=op.f('fk_payments_bank_account_id_bank_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('number', name=op.f('uq_payments_number'))
    )
    op.create_index(op.f('ix_payments_bank_account_id'), 'payments', ['bank_account_id'], unique=False)
    op.create_index('ix_payments_party_date', 'payments', ['party_id', 'payment_date'], unique=False)
    op.create_table('sales_orders',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('source', sa.String(length=3), nullable=False),
    sa.Column('crm_order_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('quote_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('quote_number', sa.String(length=50), nullable=True),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('warehouse_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('requested_date', sa.Date(), nullable=True),
    sa.Column('customer_reference', sa.String(length=200), nullable=True),
    sa.Column('shipping_address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('placed_by', sa.String(length=300), nullable=True),
    sa.Column('last_delivery_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source in ('crm', 'erp')", name=op.f('ck_sales_orders_source')),
    sa.CheckConstraint("status in ('accepted', 'rejected', 'partially_delivered', 'delivered', 'cancelled', 'invoiced')", name=op.f('ck_sales_orders_status')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_sales_orders_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_orders')),
    sa.UniqueConstraint('crm_order_id', name=op.f('uq_sales_orders_crm_order_id')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_orders_number'))
    )
    op.create_index('ix_sales_orders_created_at', 'sales_orders', ['created_at'], unique=False)
    op.create_index(op.f('ix_sales_orders_deal_id'), 'sales_orders', ['deal_id'], unique=False)
    op.create_index(op.f('ix_sales_orders_party_id'), 'sales_orders', ['party_id'], unique=False)
    op.create_index(op.f('ix_sales_orders_status'), 'sales_orders', ['status'], unique=False)
    op.create_table('invoices',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('series', sa.String(length=10), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=True),
    sa.Column('sequence_number', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('order_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('crm_order_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('credited_invoice_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('payment_terms_days', sa.Integer(), nullable=True),
    sa.Column('customer_name', sa.String(length=300), nullable=True),
    sa.Column('customer_legal_name', sa.String(length=300), nullable=True),
    sa.Column('customer_tax_id', sa.String(length=50), nullable=True),
    sa.Column('billing_address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount_credited', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('journal_entry_id', sa.String(length=64), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=300), nullable=True),
    sa.Column('issued_by', sa.String(length=300), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'draft') = (number is null)", name=op.f('ck_invoices_numbered_when_issued')),
    sa.CheckConstraint("kind in ('invoice', 'credit_note')", name=op.f('ck_invoices_kind')),
    sa.CheckConstraint("status in ('draft', 'issued', 'partially_paid', 'paid', 'overdue', 'credited')", name=op.f('ck_invoices_status')),
    sa.CheckConstraint('amount_paid >= 0 and amount_credited >= 0', name=op.f('ck_invoices_settled')),
    sa.ForeignKeyConstraint(['credited_invoice_id'], ['invoices.id'], name=op.f('fk_invoices_credited_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_orders.id'], name=op.f('fk_invoices_order_id_sales_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number')),
    sa.UniqueConstraint('series', 'fiscal_year', 'sequence_number', name='uq_invoices_series_year_number')
    )
    op.create_index(op.f('ix_invoices_credited_invoice_id'), 'invoices', ['credited_invoice_id'], unique=False)
    op.create_index(op.f('ix_invoices_issue_date'), 'invoices', ['issue_date'], unique=False)
    op.create_index('ix_invoices_open_due', 'invoices', ['due_date'], unique=False, postgresql_where=sa.text("status in ('issued', 'partially_paid', 'overdue')"))
    op.create_index(op.f('ix_invoices_order_id'), 'invoices', ['order_id'], unique=False)
    op.create_index(op.f('ix_invoices_party_id'), 'invoices', ['party_id'], unique=False)
    op.create_index(op.f('ix_invoices_status'), 'invoices', ['status'], unique=False)
    op.create_table('sales_deliveries',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('delivered_by', sa.String(length=300), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_orders.id'], name=op.f('fk_sales_deliveries_order_id_sales_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_deliveries')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_deliveries_number'))
    )
    op.create_index(op.f('ix_sales_deliveries_order_id'), 'sales_deliveries', ['order_id'], unique=False)
    op.create_table('sales_order_lines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_kind', sa.String(length=12), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('delivered_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('invoiced_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('delivered_quantity >= 0 and delivered_quantity <= quantity and invoiced_quantity >= 0 and invoiced_quantity <= delivered_quantity', name=op.f('ck_sales_order_lines_progress')),
    sa.CheckConstraint('quantity > 0 and unit_price >= 0 and tax_rate >= 0 and tax_rate < 1 and discount_percent >= 0 and discount_percent <= 100', name=op.f('ck_sales_order_lines_amounts')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_orders.id'], name=op.f('fk_sales_order_lines_order_id_sales_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order_lines')),
    sa.UniqueConstraint('order_id', 'line_no', name='uq_sales_order_lines_line_no')
    )
    op.create_index(op.f('ix_sales_order_lines_order_id'), 'sales_order_lines', ['order_id'], unique=False)
    op.create_index(op.f('ix_sales_order_lines_product_id'), 'sales_order_lines', ['product_id'], unique=False)
    op.create_table('invoice_lines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('invoice_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('order_line_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('credited_line_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('revenue_kind', sa.String(length=10), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint("revenue_kind in ('goods', 'services')", name=op.f('ck_invoice_lines_revenue_kind')),
    sa.CheckConstraint('quantity > 0 and unit_price >= 0 and tax_rate >= 0 and tax_rate < 1 and discount_percent >= 0 and discount_percent <= 100', name=op.f('ck_invoice_lines_amounts')),
    sa.ForeignKeyConstraint(['credited_line_id'], ['invoice_lines.id'], name=op.f('fk_invoice_lines_credited_line_id_invoice_lines')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_lines.id'], name=op.f('fk_invoice_lines_order_line_id_sales_order_lines')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_invoice_lines_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'position', name='uq_invoice_lines_position')
    )
    op.create_index(op.f('ix_invoice_lines_credited_line_id'), 'invoice_lines', ['credited_line_id'], unique=False)
    op.create_index(op.f('ix_invoice_lines_invoice_id'), 'invoice_lines', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_invoice_lines_order_line_id'), 'invoice_lines', ['order_line_id'], unique=False)
    op.create_table('payment_allocations',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('payment_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('invoice_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('bill_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('allocated_on', sa.Date(), nullable=False),
    sa.Column('journal_entry_id', sa.String(length=64), nullable=True),
    sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('(invoice_id is null) <> (bill_id is null)', name=op.f('ck_payment_allocations_one_document')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_allocations_amount')),
    sa.ForeignKeyConstraint(['bill_id'], ['supplier_bills.id'], name=op.f('fk_payment_allocations_bill_id_supplier_bills')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payment_allocations_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_allocations_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocations'))
    )
    op.create_index(op.f('ix_payment_allocations_bill_id'), 'payment_allocations', ['bill_id'], unique=False)
    op.create_index(op.f('ix_payment_allocations_invoice_id'), 'payment_allocations', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_payment_allocations_payment_id'), 'payment_allocations', ['payment_id'], unique=False)
    op.create_table('sales_delivery_lines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('delivery_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('order_line_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('stock_move_id', sa.UUID(as_uuid=False), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_sales_delivery_lines_quantity')),
    sa.ForeignKeyConstraint(['delivery_id'], ['sales_deliveries.id'], name=op.f('fk_sales_delivery_lines_delivery_id_sales_deliveries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_lines.id'], name=op.f('fk_sales_delivery_lines_order_line_id_sales_order_lines')),
    sa.ForeignKeyConstraint(['stock_move_id'], ['stock_moves.id'], name=op.f('fk_sales_delivery_lines_stock_move_id_stock_moves')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_delivery_lines'))
    )
    op.create_index(op.f('ix_sales_delivery_lines_delivery_id'), 'sales_delivery_lines', ['delivery_id'], unique=False)
    op.create_index(op.f('ix_sales_delivery_lines_order_line_id'), 'sales_delivery_lines', ['order_line_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sales_delivery_lines_order_line_id'), table_name='sales_delivery_lines')
    op.drop_index(op.f('ix_sales_delivery_lines_delivery_id'), table_name='sales_delivery_lines')
    op.drop_table('sales_delivery_lines')
    op.drop_index(op.f('ix_payment_allocations_payment_id'), table_name='payment_allocations')
    op.drop_index(op.f('ix_payment_allocations_invoice_id'), table_name='payment_allocations')
    op.drop_index(op.f('ix_payment_allocations_bill_id'), table_name='payment_allocations')
    op.drop_table('payment_allocations')
    op.drop_index(op.f('ix_invoice_lines_order_line_id'), table_name='invoice_lines')
    op.drop_index(op.f('ix_invoice_lines_invoice_id'), table_name='invoice_lines')
    op.drop_index(op.f('ix_invoice_lines_credited_line_id'), table_name='invoice_lines')
    op.drop_table('invoice_lines')
    op.drop_index(op.f('ix_sales_order_lines_product_id'), table_name='sales_order_lines')
    op.drop_index(op.f('ix_sales_order_lines_order_id'), table_name='sales_order_lines')
    op.drop_table('sales_order_lines')
    op.drop_index(op.f('ix_sales_deliveries_order_id'), table_name='sales_deliveries')
    op.drop_table('sales_deliveries')
    op.drop_index(op.f('ix_invoices_status'), table_name='invoices')
    op.drop_index(op.f('ix_invoices_party_id'), table_name='invoices')
    op.drop_index(op.f('ix_invoices_order_id'), table_name='invoices')
    op.drop_index('ix_invoices_open_due', table_name='invoices', postgresql_where=sa.text("status in ('issued', 'partially_paid', 'overdue')"))
    op.drop_index(op.f('ix_invoices_issue_date'), table_name='invoices')
    op.drop_index(op.f('ix_invoices_credited_invoice_id'), table_name='invoices')
    op.drop_table('invoices')
    op.drop_index(op.f('ix_sales_orders_status'), table_name='sales_orders')
    op.drop_index(op.f('ix_sales_orders_party_id'), table_name='sales_orders')
    op.drop_index(op.f('ix_sales_orders_deal_id'), table_name='sales_orders')
    op.drop_index('ix_sales_orders_created_at', table_name='sales_orders')
    op.drop_table('sales_orders')
    op.drop_index('ix_payments_party_date', table_name='payments')
    op.drop_index(op.f('ix_payments_bank_account_id'), table_name='payments')
    op.drop_table('payments')
    op.drop_table('invoice_counters')
    op.drop_index('uq_bank_accounts_name_lower', table_name='bank_accounts')
    op.drop_table('bank_accounts')
    for name in SEQUENCES:
        op.execute(f"DROP SEQUENCE {name}")
