"""agenda day notes, and events linked to a ticket

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('agenda_events', sa.Column('ticket_id', sa.UUID(as_uuid=False), nullable=True))
    op.create_table('agenda_day_notes',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("color is null or color ~ '^#[0-9a-fA-F]{6}$'", name=op.f('ck_agenda_day_notes_color')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agenda_day_notes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'day', name=op.f('pk_agenda_day_notes'))
    )


def downgrade() -> None:
    op.drop_table('agenda_day_notes')
    op.drop_column('agenda_events', 'ticket_id')
