"""warranty settings name the warehouse that parts sent under warranty leave from

Revision ID: 0025
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('warranty_settings', sa.Column('parts_warehouse_id', postgresql.UUID(as_uuid=False), nullable=True))
    op.create_foreign_key(op.f('fk_warranty_settings_parts_warehouse_id_warehouses'), 'warranty_settings',
                          'warehouses', ['parts_warehouse_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_warranty_settings_parts_warehouse_id_warehouses'), 'warranty_settings',
                       type_='foreignkey')
    op.drop_column('warranty_settings', 'parts_warehouse_id')
