"""campaigns: per-list unsubscribe

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


def downgrade() -> None:
    op.drop_column('campaign_recipients', 'unsubscribe_scope')
    op.drop_column('mailing_list_members', 'unsubscribe_method')
    op.drop_column('mailing_list_members', 'unsubscribed_at')
