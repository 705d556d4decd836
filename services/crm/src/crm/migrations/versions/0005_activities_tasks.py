"""activities and their types (built-ins seeded), the timeline, tasks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:07:59.989477
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# the built-in activity types as they were when this migration was written (key, label, icon, has_direction)
BUILTIN_TYPES = (
    ("call", "Call", "phone", True),
    ("email", "Email", "mail", True),
    ("sms", "SMS", "message-square", True),
    ("messenger", "Messenger", "message-circle", True),
    ("meeting", "Meeting", "calendar", False),
    ("note", "Note", "file-text", False),
)


def upgrade() -> None:
    activity_types = op.create_table('activity_types',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('icon', sa.String(length=50), nullable=True),
    sa.Column('color', sa.String(length=7), nullable=True),
    sa.Column('has_direction', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('builtin', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('position', sa.Integer(), server_default=sa.text('100'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("key ~ '^[a-z][a-z0-9_]{1,39}$'", name=op.f('ck_activity_types_key')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_activity_types'))
    )
    op.bulk_insert(activity_types, [
        {"key": key, "label": label, "icon": icon, "has_direction": has_direction, "builtin": True, "active": True,
         "position": (i + 1) * 10}
        for i, (key, label, icon, has_direction) in enumerate(BUILTIN_TYPES)])
    op.create_table('tasks',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('assignee_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('created_by', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('record_type', sa.String(length=30), nullable=True),
    sa.Column('record_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'done') = (completed_at is not null)", name=op.f('ck_tasks_completed')),
    sa.CheckConstraint("priority in ('low', 'normal', 'high', 'urgent')", name=op.f('ck_tasks_priority')),
    sa.CheckConstraint("status in ('open', 'in_progress', 'done', 'cancelled')", name=op.f('ck_tasks_status')),
    sa.CheckConstraint('(record_type is null) = (record_id is null)', name=op.f('ck_tasks_record')),
    sa.CheckConstraint('due_at is null or due_date is null', name=op.f('ck_tasks_one_due')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tasks_assignee_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index('ix_tasks_assignee', 'tasks', ['assignee_id', 'status'], unique=False)
    op.create_index(op.f('ix_tasks_created_by'), 'tasks', ['created_by'], unique=False)
    op.create_index('ix_tasks_pending', 'tasks', ['assignee_id', 'due_at', 'due_date'], unique=False, postgresql_where=sa.text("status in ('open', 'in_progress')"))
    op.create_index('ix_tasks_record', 'tasks', ['record_type', 'record_id'], unique=False)
    op.create_table('activities',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('direction', sa.String(length=10), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=200), nullable=True),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('lead_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('owner_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('participants', postgresql.ARRAY(sa.UUID(as_uuid=False)), nullable=False),
    sa.Column('created_by', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("direction is null or direction in ('inbound', 'outbound')", name=op.f('ck_activities_direction')),
    sa.CheckConstraint('duration_minutes is null or duration_minutes >= 0', name=op.f('ck_activities_duration')),
    sa.CheckConstraint('ends_at is null or ends_at >= occurred_at', name=op.f('ck_activities_ends_after_start')),
    sa.CheckConstraint('num_nonnulls(party_id, deal_id, lead_id) > 0', name=op.f('ck_activities_linked')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_activities_owner_id_users')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_activities_party_id_parties')),
    sa.ForeignKeyConstraint(['type'], ['activity_types.key'], name=op.f('fk_activities_type_activity_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    op.create_index('ix_activities_deal', 'activities', ['deal_id'], unique=False, postgresql_where=sa.text('deal_id is not null'))
    op.create_index('ix_activities_lead', 'activities', ['lead_id'], unique=False, postgresql_where=sa.text('lead_id is not null'))
    op.create_index('ix_activities_owner', 'activities', ['owner_id', 'occurred_at'], unique=False)
    op.create_index('ix_activities_participants', 'activities', ['participants'], unique=False, postgresql_using='gin')
    op.create_index('ix_activities_party', 'activities', ['party_id', 'occurred_at'], unique=False)
    op.create_table('timeline_entries',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('lead_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('ref_type', sa.String(length=40), nullable=True),
    sa.Column('ref_id', sa.String(length=100), nullable=True),
    sa.Column('actor_id', sa.String(length=100), nullable=True),
    sa.Column('actor', sa.String(length=300), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('num_nonnulls(party_id, deal_id, lead_id) > 0', name=op.f('ck_timeline_entries_linked')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_timeline_entries_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_entries'))
    )
    op.create_index('ix_timeline_entries_deal', 'timeline_entries', ['deal_id', 'occurred_at'], unique=False, postgresql_where=sa.text('deal_id is not null'))
    op.create_index('ix_timeline_entries_lead', 'timeline_entries', ['lead_id', 'occurred_at'], unique=False, postgresql_where=sa.text('lead_id is not null'))
    op.create_index('ix_timeline_entries_party', 'timeline_entries', ['party_id', 'occurred_at'], unique=False)
    op.create_index('ix_timeline_entries_ref', 'timeline_entries', ['ref_type', 'ref_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_timeline_entries_ref', table_name='timeline_entries')
    op.drop_index('ix_timeline_entries_party', table_name='timeline_entries')
    op.drop_index('ix_timeline_entries_lead', table_name='timeline_entries', postgresql_where=sa.text('lead_id is not null'))
    op.drop_index('ix_timeline_entries_deal', table_name='timeline_entries', postgresql_where=sa.text('deal_id is not null'))
    op.drop_table('timeline_entries')
    op.drop_index('ix_activities_party', table_name='activities')
    op.drop_index('ix_activities_participants', table_name='activities', postgresql_using='gin')
    op.drop_index('ix_activities_owner', table_name='activities')
    op.drop_index('ix_activities_lead', table_name='activities', postgresql_where=sa.text('lead_id is not null'))
    op.drop_index('ix_activities_deal', table_name='activities', postgresql_where=sa.text('deal_id is not null'))
    op.drop_table('activities')
    op.drop_index('ix_tasks_record', table_name='tasks')
    op.drop_index('ix_tasks_pending', table_name='tasks', postgresql_where=sa.text("status in ('open', 'in_progress')"))
    op.drop_index(op.f('ix_tasks_created_by'), table_name='tasks')
    op.drop_index('ix_tasks_assignee', table_name='tasks')
    op.drop_table('tasks')
    op.drop_table('activity_types')
