"""a fetched mail marked read or unread in the CRM waits for the worker to set or clear \\Seen on the server

Revision ID: 0029
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('mail_messages', sa.Column('flag_pending', sa.Boolean(), server_default=sa.text('false'),
                                             nullable=False))


def downgrade() -> None:
    op.drop_column('mail_messages', 'flag_pending')
