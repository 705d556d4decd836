"""company settings (who the seller is on every document); invoices keep the customer's PO number, an ISO 11649
payment reference and when they were mailed; the mail outbox (invoices by mail, sent by the worker)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('company_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('trade_name', sa.String(length=200), nullable=True),
    sa.Column('address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('vat_id', sa.String(length=30), nullable=True),
    sa.Column('registration', sa.String(length=100), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sa.String(length=20), nullable=True),
    sa.Column('bank_accounts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payment_terms_text', sa.Text(), nullable=True),
    sa.Column('document_footer', sa.Text(), nullable=True),
    sa.Column('dunning_texts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_company_settings_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_settings'))
    )
    op.add_column('invoices', sa.Column('customer_reference', sa.String(length=200), nullable=True))
    op.add_column('invoices', sa.Column('payment_reference', sa.String(length=25), nullable=True))
    op.add_column('invoices', sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('invoices', sa.Column('sent_to', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('invoices', sa.Column('times_sent', sa.Integer(), server_default='0', nullable=False))
    op.create_unique_constraint(op.f('uq_invoices_payment_reference'), 'invoices', ['payment_reference'])
    op.create_table('mail_outbox',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('sender', sa.String(length=300), nullable=False),
    sa.Column('recipients', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('message', sa.LargeBinary(), nullable=False),
    sa.Column('ref_type', sa.String(length=50), nullable=True),
    sa.Column('ref_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'queued'"), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('queued', 'sent', 'failed')", name=op.f('ck_mail_outbox_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_mail_outbox_message_id'))
    )
    op.create_index('ix_mail_outbox_due', 'mail_outbox', ['next_attempt_at'], unique=False,
                    postgresql_where=sa.text("status = 'queued'"))
    op.create_index('ix_mail_outbox_ref', 'mail_outbox', ['ref_type', 'ref_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_mail_outbox_ref', table_name='mail_outbox')
    op.drop_index('ix_mail_outbox_due', table_name='mail_outbox', postgresql_where=sa.text("status = 'queued'"))
    op.drop_table('mail_outbox')
    op.drop_constraint(op.f('uq_invoices_payment_reference'), 'invoices', type_='unique')
    for column in ('times_sent', 'sent_to', 'sent_at', 'payment_reference', 'customer_reference'):
        op.drop_column('invoices', column)
    op.drop_table('company_settings')
