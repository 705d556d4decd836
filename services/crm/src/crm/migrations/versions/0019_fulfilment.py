"""fulfilment: fulfilment_replicas (the ERP's work orders and purchase needs on erp.fulfilment.v1), installations
with their photos, the rate-limit hits of the installer's public form, stage task templates, deal estimates and
task escalations

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 17:49:54.026356
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
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

    op.create_table('stage_task_templates',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('stage_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('assignee_kind', sa.String(length=12), nullable=False),
    sa.Column('assignee_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('due_in_days', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.CheckConstraint("(assignee_kind = 'deal_owner') = (assignee_id is null)", name=op.f('ck_stage_task_templates_assignee')),
    sa.CheckConstraint("assignee_kind in ('deal_owner', 'user', 'team')", name=op.f('ck_stage_task_templates_assignee_kind')),
    sa.CheckConstraint("kind in ('task', 'estimate_request')", name=op.f('ck_stage_task_templates_kind')),
    sa.CheckConstraint("priority in ('low', 'normal', 'high', 'urgent')", name=op.f('ck_stage_task_templates_priority')),
    sa.CheckConstraint('due_in_days >= 0', name=op.f('ck_stage_task_templates_due_in_days')),
    sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'], name=op.f('fk_stage_task_templates_stage_id_pipeline_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_task_templates'))
    )
    op.create_index(op.f('ix_stage_task_templates_stage_id'), 'stage_task_templates', ['stage_id'], unique=False)
    op.create_table('task_escalations',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('task_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('escalated_to', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('follow_up_task_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_escalations_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_escalations')),
    sa.UniqueConstraint('task_id', name=op.f('uq_task_escalations_task_id'))
    )
    op.create_table('deal_estimates',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('task_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('requested_from', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('hours', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('materials', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('submitted_by', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('requested', 'submitted')", name=op.f('ck_deal_estimates_status')),
    sa.CheckConstraint('hours is null or hours >= 0', name=op.f('ck_deal_estimates_hours')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_deal_estimates_deal_id_deals')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_deal_estimates_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_estimates')),
    sa.UniqueConstraint('task_id', name=op.f('uq_deal_estimates_task_id'))
    )
    op.create_index(op.f('ix_deal_estimates_deal_id'), 'deal_estimates', ['deal_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_deal_estimates_deal_id'), table_name='deal_estimates')
    op.drop_table('deal_estimates')
    op.drop_table('task_escalations')
    op.drop_index(op.f('ix_stage_task_templates_stage_id'), table_name='stage_task_templates')
    op.drop_table('stage_task_templates')
    op.drop_index(op.f('ix_installation_photos_installation_id'), table_name='installation_photos')
    op.drop_table('installation_photos')
    op.drop_index(op.f('ix_installations_deal_id'), table_name='installations')
    op.drop_table('installations')
    op.drop_index('ix_installation_form_hits_address_at', table_name='installation_form_hits')
    op.drop_table('installation_form_hits')
    op.drop_index(op.f('ix_fulfilment_replicas_sales_order_id'), table_name='fulfilment_replicas')
    op.drop_index(op.f('ix_fulfilment_replicas_deal_id'), table_name='fulfilment_replicas')
    op.drop_table('fulfilment_replicas')
