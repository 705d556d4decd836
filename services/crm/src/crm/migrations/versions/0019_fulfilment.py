"""fulfilment: fulfilment_replicas (the ERP's work orders and purchase needs on erp.fulfilment.v1), installations
with their photos, and the rate-limit hits of the installer's public form

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-05 17:49:54.026356
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fulfilment_replicas',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('sales_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sales_order_number', sa.String(length=50), nullable=False),
    sa.Column('number', sa.String(length=50), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('product_name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fulfilment_replicas'))
    )
    op.create_index(op.f('ix_fulfilment_replicas_deal_id'), 'fulfilment_replicas', ['deal_id'], unique=False)
    op.create_index(op.f('ix_fulfilment_replicas_sales_order_id'), 'fulfilment_replicas', ['sales_order_id'], unique=False)

    op.create_table('installation_form_hits',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installation_form_hits'))
    )
    op.create_index('ix_installation_form_hits_address_at', 'installation_form_hits', ['address', 'at'], unique=False)
    op.create_table('installations',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('sales_order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sales_order_number', sa.String(length=50), nullable=False),
    sa.Column('task_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('link_key', sa.String(length=64), nullable=True),
    sa.Column('link_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=10), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('signed_by', sa.String(length=200), nullable=True),
    sa.Column('serials', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("result is null or result in ('done', 'problem')", name=op.f('ck_installations_result')),
    sa.CheckConstraint("status in ('open', 'done', 'problem')", name=op.f('ck_installations_status')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_installations_deal_id_deals')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_installations_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installations')),
    sa.UniqueConstraint('sales_order_id', name=op.f('uq_installations_sales_order_id'))
    )
    op.create_index(op.f('ix_installations_deal_id'), 'installations', ['deal_id'], unique=False)
    op.create_table('installation_photos',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('installation_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['installation_id'], ['installations.id'], name=op.f('fk_installation_photos_installation_id_installations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installation_photos'))
    )
    op.create_index(op.f('ix_installation_photos_installation_id'), 'installation_photos', ['installation_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_installation_photos_installation_id'), table_name='installation_photos')
    op.drop_table('installation_photos')
    op.drop_index(op.f('ix_installations_deal_id'), table_name='installations')
    op.drop_table('installations')
    op.drop_index('ix_installation_form_hits_address_at', table_name='installation_form_hits')
    op.drop_table('installation_form_hits')
    op.drop_index(op.f('ix_fulfilment_replicas_sales_order_id'), table_name='fulfilment_replicas')
    op.drop_index(op.f('ix_fulfilment_replicas_deal_id'), table_name='fulfilment_replicas')
    op.drop_table('fulfilment_replicas')
