"""campaigns: per-list unsubscribe, recurring newsletters

Revision ID: 0025
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0022'
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


def downgrade() -> None:
    op.drop_constraint('uq_campaigns_newsletter_issue', 'campaigns', type_='unique')
    op.drop_constraint(op.f('fk_campaigns_newsletter_id_newsletters'), 'campaigns', type_='foreignkey')
    op.drop_column('campaigns', 'issue_at')
    op.drop_column('campaigns', 'newsletter_id')
    op.drop_index('ix_newsletters_due', table_name='newsletters', postgresql_where=sa.text("status = 'active'"))
    op.drop_table('newsletters')
    op.drop_column('campaign_recipients', 'unsubscribe_scope')
    op.drop_column('mailing_list_members', 'unsubscribe_method')
    op.drop_column('mailing_list_members', 'unsubscribed_at')
