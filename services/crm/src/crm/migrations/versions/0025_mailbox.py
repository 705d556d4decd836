"""campaigns: per-list unsubscribe, recurring newsletters; the CRM mailbox

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('mailing_list_members', sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('mailing_list_members', sa.Column('unsubscribe_method', sa.String(length=30), nullable=True))
    op.add_column('campaign_recipients', sa.Column('unsubscribe_scope', sa.String(length=4), nullable=True))
    op.create_table('newsletters',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=True),
    sa.Column('from_name', sa.String(length=150), nullable=True),
    sa.Column('reply_to', sa.String(length=254), nullable=True),
    sa.Column('segment_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('list_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('require_consent', sa.Boolean(), nullable=False),
    sa.Column('tracking', sa.Boolean(), nullable=False),
    sa.Column('rate_per_second', sa.Integer(), nullable=True),
    sa.Column('rrule', sa.String(length=500), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('first_issue_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_issue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('owner_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('active', 'paused', 'ended')", name=op.f('ck_newsletters_status')),
    sa.CheckConstraint('(segment_id is null) <> (list_id is null)', name=op.f('ck_newsletters_one_audience')),
    sa.ForeignKeyConstraint(['list_id'], ['mailing_lists.id'], name=op.f('fk_newsletters_list_id_mailing_lists')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_newsletters_owner_id_users')),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_newsletters_segment_id_segments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_newsletters')),
    sa.UniqueConstraint('name', name=op.f('uq_newsletters_name'))
    )
    op.create_index('ix_newsletters_due', 'newsletters', ['next_issue_at'], unique=False,
                    postgresql_where=sa.text("status = 'active'"))
    op.add_column('campaigns', sa.Column('newsletter_id', sa.UUID(as_uuid=False), nullable=True))
    op.add_column('campaigns', sa.Column('issue_at', sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(op.f('fk_campaigns_newsletter_id_newsletters'), 'campaigns', 'newsletters',
                          ['newsletter_id'], ['id'])
    op.create_unique_constraint('uq_campaigns_newsletter_issue', 'campaigns', ['newsletter_id', 'issue_at'])
    op.create_table('mail_accounts',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=150), nullable=True),
    sa.Column('smtp_host', sa.String(length=253), nullable=False),
    sa.Column('smtp_port', sa.Integer(), nullable=False),
    sa.Column('smtp_security', sa.String(length=10), nullable=False),
    sa.Column('smtp_username', sa.String(length=254), nullable=False),
    sa.Column('smtp_secret', sa.Text(), nullable=False),
    sa.Column('imap_host', sa.String(length=253), nullable=True),
    sa.Column('imap_port', sa.Integer(), nullable=True),
    sa.Column('imap_security', sa.String(length=10), nullable=False),
    sa.Column('imap_username', sa.String(length=254), nullable=False),
    sa.Column('imap_secret', sa.Text(), nullable=False),
    sa.Column('imap_folders', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('last_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("imap_security in ('none', 'starttls', 'tls')", name=op.f('ck_mail_accounts_imap_security')),
    sa.CheckConstraint("smtp_security in ('none', 'starttls', 'tls')", name=op.f('ck_mail_accounts_smtp_security')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_accounts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_accounts')),
    sa.UniqueConstraint('user_id', 'email', name='uq_mail_accounts_user_email')
    )
    op.create_index(op.f('ix_mail_accounts_user_id'), 'mail_accounts', ['user_id'], unique=False)
    op.create_table('mail_templates',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=150), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=True),
    sa.Column('marketing', sa.Boolean(), nullable=False),
    sa.Column('owner_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_mail_templates_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_templates')),
    sa.UniqueConstraint('name', name=op.f('uq_mail_templates_name'))
    )
    op.create_table('mail_folders',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role in ('inbox', 'sent', 'user')", name=op.f('ck_mail_folders_role')),
    sa.ForeignKeyConstraint(['account_id'], ['mail_accounts.id'], name=op.f('fk_mail_folders_account_id_mail_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_folders')),
    sa.UniqueConstraint('account_id', 'name', name='uq_mail_folders_account_name')
    )
    op.create_index(op.f('ix_mail_folders_account_id'), 'mail_folders', ['account_id'], unique=False)
    op.create_table('mail_imap_positions',
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('remote_folder', sa.String(length=200), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['mail_accounts.id'], name=op.f('fk_mail_imap_positions_account_id_mail_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'remote_folder', name=op.f('pk_mail_imap_positions'))
    )
    op.create_table('mail_messages',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('folder_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('thread_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('header_message_id', sa.String(length=500), nullable=True),
    sa.Column('in_reply_to', sa.String(length=500), nullable=True),
    sa.Column('references', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('subject', sa.String(length=1000), nullable=False),
    sa.Column('normalized_subject', sa.String(length=1000), nullable=False),
    sa.Column('from_address', sa.String(length=254), nullable=True),
    sa.Column('from_name', sa.String(length=300), nullable=True),
    sa.Column('to', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('cc', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('has_html', sa.Boolean(), nullable=False),
    sa.Column('attachments', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('auto_reply', sa.Boolean(), nullable=False),
    sa.Column('is_read', sa.Boolean(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('remote_folder', sa.String(length=200), nullable=True),
    sa.Column('remote_uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('remote_uid', sa.BigInteger(), nullable=True),
    sa.Column('template_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("direction in ('in', 'out')", name=op.f('ck_mail_messages_direction')),
    sa.CheckConstraint("status in ('received', 'queued', 'sent', 'failed')", name=op.f('ck_mail_messages_status')),
    sa.ForeignKeyConstraint(['account_id'], ['mail_accounts.id'], name=op.f('fk_mail_messages_account_id_mail_accounts')),
    sa.ForeignKeyConstraint(['folder_id'], ['mail_folders.id'], name=op.f('fk_mail_messages_folder_id_mail_folders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_messages')),
    sa.UniqueConstraint('account_id', 'remote_folder', 'remote_uidvalidity', 'remote_uid', name='uq_mail_messages_remote')
    )
    op.create_index('ix_mail_messages_due', 'mail_messages', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'queued'"))
    op.create_index('ix_mail_messages_folder', 'mail_messages', ['folder_id', 'date'], unique=False)
    op.create_index('ix_mail_messages_header_id', 'mail_messages', ['account_id', 'header_message_id'], unique=False)
    op.create_index('ix_mail_messages_subject', 'mail_messages', ['account_id', 'normalized_subject'], unique=False)
    op.create_index('ix_mail_messages_thread', 'mail_messages', ['thread_id', 'date'], unique=False)
    op.create_table('mail_links',
    sa.Column('message_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('record_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('found_by', sa.String(length=20), nullable=False),
    sa.CheckConstraint("kind in ('party', 'lead', 'deal', 'ticket')", name=op.f('ck_mail_links_kind')),
    sa.ForeignKeyConstraint(['message_id'], ['mail_messages.id'], name=op.f('fk_mail_links_message_id_mail_messages')),
    sa.PrimaryKeyConstraint('message_id', 'kind', 'record_id', name=op.f('pk_mail_links'))
    )
    op.create_index('ix_mail_links_record', 'mail_links', ['kind', 'record_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_mail_links_record', table_name='mail_links')
    op.drop_table('mail_links')
    op.drop_index('ix_mail_messages_thread', table_name='mail_messages')
    op.drop_index('ix_mail_messages_subject', table_name='mail_messages')
    op.drop_index('ix_mail_messages_header_id', table_name='mail_messages')
    op.drop_index('ix_mail_messages_folder', table_name='mail_messages')
    op.drop_index('ix_mail_messages_due', table_name='mail_messages', postgresql_where=sa.text("status = 'queued'"))
    op.drop_table('mail_messages')
    op.drop_table('mail_imap_positions')
    op.drop_index(op.f('ix_mail_folders_account_id'), table_name='mail_folders')
    op.drop_table('mail_folders')
    op.drop_table('mail_templates')
    op.drop_index(op.f('ix_mail_accounts_user_id'), table_name='mail_accounts')
    op.drop_table('mail_accounts')
    op.drop_constraint('uq_campaigns_newsletter_issue', 'campaigns', type_='unique')
    op.drop_constraint(op.f('fk_campaigns_newsletter_id_newsletters'), 'campaigns', type_='foreignkey')
    op.drop_column('campaigns', 'issue_at')
    op.drop_column('campaigns', 'newsletter_id')
    op.drop_index('ix_newsletters_due', table_name='newsletters', postgresql_where=sa.text("status = 'active'"))
    op.drop_table('newsletters')
    op.drop_column('campaign_recipients', 'unsubscribe_scope')
    op.drop_column('mailing_list_members', 'unsubscribe_method')
    op.drop_column('mailing_list_members', 'unsubscribed_at')
