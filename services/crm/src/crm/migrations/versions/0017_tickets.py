"""tickets: numbered per year without gaps, their facts (the SLA clock's history), replies and notes,
attachments, SLA calendars and policies; the replica of the ERP's warranty entitlements

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warranty_replicas',
    sa.Column('entitlement_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('invoice_number', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('serial_number', sa.String(length=100), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('covers_parts', sa.Boolean(), nullable=False),
    sa.Column('covers_labour', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entitlement_id', name=op.f('pk_warranty_replicas'))
    )
    op.create_index('ix_warranty_replicas_party_product', 'warranty_replicas', ['party_id', 'product_id'], unique=False)
    op.create_table('sla_calendars',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('zone', sa.String(length=60), nullable=False),
    sa.Column('windows', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('holiday_country', sa.String(length=10), nullable=True),
    sa.Column('holiday_subdivision', sa.String(length=10), nullable=True),
    sa.Column('closed_days', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('half_days', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_calendars')),
    sa.UniqueConstraint('name', name=op.f('uq_sla_calendars_name'))
    )
    op.create_table('ticket_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_ticket_counters'))
    )
    op.create_table('sla_policies',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('priorities', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('categories', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('channels', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('segments', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('calendar_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('first_response_minutes', sa.Integer(), nullable=True),
    sa.Column('next_response_minutes', sa.Integer(), nullable=True),
    sa.Column('resolution_minutes', sa.Integer(), nullable=True),
    sa.Column('pause_statuses', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'], name=op.f('fk_sla_policies_calendar_id_sla_calendars')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('position', name='uq_sla_policies_position')
    )
    op.create_table('tickets',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('contact_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('product_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('serial_number', sa.String(length=100), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('assignee_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('created_by', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('merged_into_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('sla_policy_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('sla_policy_override', sa.Boolean(), nullable=False),
    sa.Column('sla_reason', sa.String(length=300), nullable=True),
    sa.Column('first_response_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_response_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_seconds', sa.BigInteger(), nullable=False),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_breached', sa.Boolean(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_state', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('first_responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel in ('email', 'phone', 'web_form', 'api')", name=op.f('ck_tickets_channel')),
    sa.CheckConstraint("priority in ('low', 'normal', 'high', 'urgent')", name=op.f('ck_tickets_priority')),
    sa.CheckConstraint("status in ('new', 'open', 'pending', 'on_hold', 'resolved', 'closed')", name=op.f('ck_tickets_status')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tickets_assignee_id_users')),
    sa.ForeignKeyConstraint(['contact_id'], ['parties.id'], name=op.f('fk_tickets_contact_id_parties')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tickets.id'], name=op.f('fk_tickets_merged_into_id_tickets')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_tickets_party_id_parties')),
    sa.ForeignKeyConstraint(['sla_policy_id'], ['sla_policies.id'], name=op.f('fk_tickets_sla_policy_id_sla_policies')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_tickets_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('number', name=op.f('uq_tickets_number'))
    )
    op.create_index('ix_tickets_assignee_open', 'tickets', ['assignee_id'], unique=False, postgresql_where=sa.text("status not in ('resolved', 'closed')"))
    op.create_index('ix_tickets_due_open', 'tickets', ['resolution_due_at'], unique=False, postgresql_where=sa.text("status not in ('resolved', 'closed')"))
    op.create_index(op.f('ix_tickets_party_id'), 'tickets', ['party_id'], unique=False)
    op.create_index('ix_tickets_team_open', 'tickets', ['team_id'], unique=False, postgresql_where=sa.text("status not in ('resolved', 'closed')"))
    op.create_table('ticket_attachments',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('ticket_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_attachments_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachments'))
    )
    op.create_index('ix_ticket_attachments_ticket', 'ticket_attachments', ['ticket_id'], unique=False)
    op.create_table('ticket_facts',
    sa.Column('seq', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('actor_id', sa.String(length=100), nullable=True),
    sa.Column('actor', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_facts_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_ticket_facts'))
    )
    op.create_index('ix_ticket_facts_ticket', 'ticket_facts', ['ticket_id', 'occurred_at', 'seq'], unique=False)
    op.create_table('ticket_messages',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('ticket_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('author_type', sa.String(length=10), nullable=False),
    sa.Column('author_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("author_type in ('agent', 'customer')", name=op.f('ck_ticket_messages_author_type')),
    sa.CheckConstraint("kind = 'reply' or author_type = 'agent'", name=op.f('ck_ticket_messages_customer_replies_only')),
    sa.CheckConstraint("kind in ('reply', 'note')", name=op.f('ck_ticket_messages_kind')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_messages_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_messages'))
    )
    op.create_index('ix_ticket_messages_ticket', 'ticket_messages', ['ticket_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_warranty_replicas_party_product', table_name='warranty_replicas')
    op.drop_table('warranty_replicas')
    op.drop_index('ix_ticket_messages_ticket', table_name='ticket_messages')
    op.drop_table('ticket_messages')
    op.drop_index('ix_ticket_facts_ticket', table_name='ticket_facts')
    op.drop_table('ticket_facts')
    op.drop_index('ix_ticket_attachments_ticket', table_name='ticket_attachments')
    op.drop_table('ticket_attachments')
    op.drop_index('ix_tickets_team_open', table_name='tickets', postgresql_where=sa.text("status not in ('resolved', 'closed')"))
    op.drop_index(op.f('ix_tickets_party_id'), table_name='tickets')
    op.drop_index('ix_tickets_due_open', table_name='tickets', postgresql_where=sa.text("status not in ('resolved', 'closed')"))
    op.drop_index('ix_tickets_assignee_open', table_name='tickets', postgresql_where=sa.text("status not in ('resolved', 'closed')"))
    op.drop_table('tickets')
    op.drop_table('sla_policies')
    op.drop_table('ticket_counters')
    op.drop_table('sla_calendars')
