"""ticket mail in and out: the mails of each ticket (threading, duplicates), tickets without a party (the sender's
address kept) and follow-ups of closed tickets, and SLA recompute requests served by the worker

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('tickets', 'party_id', existing_type=sa.UUID(as_uuid=False), nullable=True)
    op.add_column('tickets', sa.Column('requester_email', sa.String(length=320), nullable=True))
    op.add_column('tickets', sa.Column('follow_up_of_id', sa.UUID(as_uuid=False), nullable=True))
    op.create_foreign_key(op.f('fk_tickets_follow_up_of_id_tickets'), 'tickets', 'tickets', ['follow_up_of_id'],
                          ['id'])
    op.create_table('ticket_mails',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('ticket_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('ticket_message_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("direction in ('in', 'out')", name=op.f('ck_ticket_mails_direction')),
    sa.CheckConstraint("kind in ('customer', 'reply', 'ack')", name=op.f('ck_ticket_mails_kind')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_mails_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['ticket_message_id'], ['ticket_messages.id'],
                            name=op.f('fk_ticket_mails_ticket_message_id_ticket_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_mails')),
    sa.UniqueConstraint('message_id', name=op.f('uq_ticket_mails_message_id'))
    )
    op.create_index('ix_ticket_mails_ticket', 'ticket_mails', ['ticket_id', 'created_at'], unique=False)
    op.create_index('ix_ticket_mails_acks', 'ticket_mails', ['address', 'created_at'], unique=False,
                    postgresql_where=sa.text("kind = 'ack'"))
    op.create_table('sla_recomputes',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_recomputes'))
    )
    op.create_index('ix_sla_recomputes_pending', 'sla_recomputes', ['id'], unique=False,
                    postgresql_where=sa.text('done_at is null'))


def downgrade() -> None:
    op.drop_index('ix_sla_recomputes_pending', table_name='sla_recomputes', postgresql_where=sa.text('done_at is null'))
    op.drop_table('sla_recomputes')
    op.drop_index('ix_ticket_mails_acks', table_name='ticket_mails', postgresql_where=sa.text("kind = 'ack'"))
    op.drop_index('ix_ticket_mails_ticket', table_name='ticket_mails')
    op.drop_table('ticket_mails')
    op.drop_constraint(op.f('fk_tickets_follow_up_of_id_tickets'), 'tickets', type_='foreignkey')
    op.drop_column('tickets', 'follow_up_of_id')
    op.drop_column('tickets', 'requester_email')
    op.alter_column('tickets', 'party_id', existing_type=sa.UUID(as_uuid=False), nullable=False)
