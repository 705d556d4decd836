"""agenda reminders: the ledger tells a reminder that fired from one that was missed (older than the look-back)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('agenda_fired_reminders',
                  sa.Column('missed', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade() -> None:
    op.drop_column('agenda_fired_reminders', 'missed')
