"""quotes and their lines (every version a row, numbers from quote_number_seq)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:22:33.297416
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence('quote_number_seq')))
    op.create_table('quotes',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('quote_version', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('contact_person_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('requested_date', sa.Date(), nullable=True),
    sa.Column('customer_reference', sa.String(length=100), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('owner_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_to', sa.String(length=320), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reject_reason', sa.String(length=500), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('draft', 'sent', 'accepted', 'rejected', 'expired', 'superseded')", name=op.f('ck_quotes_status')),
    sa.CheckConstraint('quote_version >= 1', name=op.f('ck_quotes_quote_version')),
    sa.ForeignKeyConstraint(['contact_person_id'], ['parties.id'], name=op.f('fk_quotes_contact_person_id_parties')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_quotes_deal_id_deals')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_quotes_owner_id_users')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_quotes_party_id_parties')),
    sa.ForeignKeyConstraint(['previous_id'], ['quotes.id'], name=op.f('fk_quotes_previous_id_quotes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
    sa.UniqueConstraint('number', 'quote_version', name='uq_quotes_number_version'),
    sa.UniqueConstraint('order_id', name=op.f('uq_quotes_order_id'))
    )
    op.create_index(op.f('ix_quotes_deal_id'), 'quotes', ['deal_id'], unique=False)
    op.create_index(op.f('ix_quotes_number'), 'quotes', ['number'], unique=False)
    op.create_index(op.f('ix_quotes_owner_id'), 'quotes', ['owner_id'], unique=False)
    op.create_index(op.f('ix_quotes_party_id'), 'quotes', ['party_id'], unique=False)
    op.create_index('ix_quotes_status_valid_until', 'quotes', ['status', 'valid_until'], unique=False)
    op.create_table('quote_lines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quote_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('uom', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('list_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('price_source', sa.String(length=20), nullable=False),
    sa.Column('price_list_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('price_overridden', sa.Boolean(), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=6, scale=4), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('discount_percent between 0 and 100', name=op.f('ck_quote_lines_discount_percent')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_quote_lines_quantity')),
    sa.CheckConstraint('tax_rate >= 0', name=op.f('ck_quote_lines_tax_rate')),
    sa.CheckConstraint('unit_price >= 0 and list_price >= 0', name=op.f('ck_quote_lines_prices')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_lines_quote_id_quotes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_lines')),
    sa.UniqueConstraint('quote_id', 'line_no', deferrable=True, initially='DEFERRED', name='uq_quote_lines_quote_line_no')
    )
    op.create_index(op.f('ix_quote_lines_product_id'), 'quote_lines', ['product_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_quote_lines_product_id'), table_name='quote_lines')
    op.drop_table('quote_lines')
    op.drop_index('ix_quotes_status_valid_until', table_name='quotes')
    op.drop_index(op.f('ix_quotes_party_id'), table_name='quotes')
    op.drop_index(op.f('ix_quotes_owner_id'), table_name='quotes')
    op.drop_index(op.f('ix_quotes_number'), table_name='quotes')
    op.drop_index(op.f('ix_quotes_deal_id'), table_name='quotes')
    op.drop_table('quotes')
    op.execute(sa.schema.DropSequence(sa.Sequence('quote_number_seq')))
