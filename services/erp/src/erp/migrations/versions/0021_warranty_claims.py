"""warranty claims: serial numbers shipped by deliveries, serial-tracked terms, the replacement policy, claims
booked from CRM tickets and their ledger accounts (accrued labour, costs recoverable from suppliers)

Revision ID: 0021
Revises: 0020
"""

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# (code, name, type, reconcilable, party_required)
ACCOUNTS = (("428600", "Labour accrued for warranty repairs", "liability", False, False),
            ("467100", "Warranty costs recoverable from suppliers", "asset", True, True))
NORMAL_SIDE = {"asset": "debit", "liability": "credit"}
MAPPING = {"accrued_labour": "428600", "warranty_recoverable": "467100"}


def upgrade() -> None:
    op.add_column('warranty_terms', sa.Column('serial_tracked', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('warranty_entitlements', sa.Column('replaces_entitlement_id', sa.UUID(as_uuid=False), nullable=True))
    op.create_foreign_key(op.f('fk_warranty_entitlements_replaces_entitlement_id_warranty_entitlements'),
                          'warranty_entitlements', 'warranty_entitlements', ['replaces_entitlement_id'], ['id'])
    op.drop_constraint(op.f('ck_warranty_entitlements_status'), 'warranty_entitlements', type_='check')
    op.create_check_constraint(op.f('ck_warranty_entitlements_status'), 'warranty_entitlements',
                               "status in ('active', 'void', 'replaced')")
    op.create_table('warranty_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('replacement_policy', sa.String(length=5), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("replacement_policy in ('keep', 'renew')",
                       name=op.f('ck_warranty_settings_replacement_policy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warranty_settings'))
    )
    op.create_table('serial_numbers',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('serial_number', sa.String(length=100), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('delivery_line_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('order_line_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('shipped_on', sa.Date(), nullable=False),
    sa.Column('entitlement_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source in ('delivery', 'replacement')", name=op.f('ck_serial_numbers_source')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_serial_numbers_product_id_products')),
    sa.ForeignKeyConstraint(['delivery_line_id'], ['sales_delivery_lines.id'],
                            name=op.f('fk_serial_numbers_delivery_line_id_sales_delivery_lines')),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_lines.id'],
                            name=op.f('fk_serial_numbers_order_line_id_sales_order_lines')),
    sa.ForeignKeyConstraint(['entitlement_id'], ['warranty_entitlements.id'],
                            name=op.f('fk_serial_numbers_entitlement_id_warranty_entitlements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_serial_numbers')),
    sa.UniqueConstraint('product_id', 'serial_number', name=op.f('uq_serial_numbers_product_id'))
    )
    op.create_index('ix_serial_numbers_order_line', 'serial_numbers', ['order_line_id'], unique=False)
    op.create_index('ix_serial_numbers_serial', 'serial_numbers', ['serial_number'], unique=False)
    op.create_table('warranty_claims',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('ticket_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('ticket_number', sa.String(length=40), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('entitlement_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('faulty_serial', sa.String(length=100), nullable=True),
    sa.Column('replacement_serial', sa.String(length=100), nullable=True),
    sa.Column('replacement_entitlement_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('parts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('issued', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('labour_hours', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('labour_rate', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('parts_cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('labour_cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('supplier_party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('supplier_receivable', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('claimed_on', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('accepted', 'rejected')", name=op.f('ck_warranty_claims_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warranty_claims')),
    sa.UniqueConstraint('number', name=op.f('uq_warranty_claims_number'))
    )
    op.create_index('ix_warranty_claims_claimed_on', 'warranty_claims', ['claimed_on'], unique=False)
    op.create_index('ix_warranty_claims_entitlement', 'warranty_claims', ['entitlement_id'], unique=False)
    op.create_index(op.f('ix_warranty_claims_party_id'), 'warranty_claims', ['party_id'], unique=False)
    op.create_index(op.f('ix_warranty_claims_supplier_party_id'), 'warranty_claims', ['supplier_party_id'],
                    unique=False)
    accounts = sa.table('ledger_accounts', *(sa.column(c) for c in (
        'id', 'code', 'name', 'type', 'normal_side', 'reconcilable', 'party_required', 'active', 'version')))
    for code, name, type_, reconcilable, party_required in ACCOUNTS:
        op.execute(postgresql.insert(accounts).values(
            id=str(uuid.uuid4()), code=code, name=name, type=type_, normal_side=NORMAL_SIDE[type_],
            reconcilable=reconcilable, party_required=party_required, active=True, version=1).on_conflict_do_nothing(
            index_elements=['code']))
    for role, code in MAPPING.items():
        op.execute(sa.text("INSERT INTO ledger_account_mapping (role, account_id) SELECT :role, id FROM "
                           "ledger_accounts WHERE code = :code ON CONFLICT (role) DO NOTHING").bindparams(
                               role=role, code=code))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM ledger_account_mapping WHERE role = ANY(:roles)").bindparams(
        roles=list(MAPPING)))
    op.drop_index(op.f('ix_warranty_claims_supplier_party_id'), table_name='warranty_claims')
    op.drop_index(op.f('ix_warranty_claims_party_id'), table_name='warranty_claims')
    op.drop_index('ix_warranty_claims_entitlement', table_name='warranty_claims')
    op.drop_index('ix_warranty_claims_claimed_on', table_name='warranty_claims')
    op.drop_table('warranty_claims')
    op.drop_index('ix_serial_numbers_serial', table_name='serial_numbers')
    op.drop_index('ix_serial_numbers_order_line', table_name='serial_numbers')
    op.drop_table('serial_numbers')
    op.drop_table('warranty_settings')
    op.drop_constraint(op.f('ck_warranty_entitlements_status'), 'warranty_entitlements', type_='check')
    op.create_check_constraint(op.f('ck_warranty_entitlements_status'), 'warranty_entitlements',
                               "status in ('active', 'void')")
    op.drop_constraint(op.f('fk_warranty_entitlements_replaces_entitlement_id_warranty_entitlements'),
                       'warranty_entitlements', type_='foreignkey')
    op.drop_column('warranty_entitlements', 'replaces_entitlement_id')
    op.drop_column('warranty_terms', 'serial_tracked')
