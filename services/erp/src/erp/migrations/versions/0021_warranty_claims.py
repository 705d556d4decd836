"""warranty claims: serial numbers shipped by deliveries, serial-tracked terms, the replacement policy

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


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


def downgrade() -> None:
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
