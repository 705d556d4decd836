"""a user rule's booking may carry tax: the rule's tax rate and tax account, and the tax a movement split off

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
    op.add_column('bank_rules', sa.Column('tax_rate', sa.Numeric(6, 4), nullable=True))
    op.add_column('bank_rules', sa.Column('tax_account', sa.String(length=30), nullable=True))
    op.create_check_constraint(op.f('ck_bank_rules_tax_rate'), 'bank_rules',
                               'tax_rate is null or (tax_rate > 0 and tax_rate < 1)')
    op.add_column('bank_movements', sa.Column('tax_rate', sa.Numeric(6, 4), nullable=True))
    op.add_column('bank_movements', sa.Column('tax_amount', sa.Numeric(18, 2), nullable=True))
    op.add_column('bank_movements', sa.Column('tax_account', sa.String(length=30), nullable=True))
    op.create_check_constraint(op.f('ck_bank_movements_tax'), 'bank_movements',
                               'tax_amount is null or (tax_amount >= 0 and tax_amount < amount)')


def downgrade() -> None:
    op.drop_constraint(op.f('ck_bank_movements_tax'), 'bank_movements', type_='check')
    op.drop_column('bank_movements', 'tax_account')
    op.drop_column('bank_movements', 'tax_amount')
    op.drop_column('bank_movements', 'tax_rate')
    op.drop_constraint(op.f('ck_bank_rules_tax_rate'), 'bank_rules', type_='check')
    op.drop_column('bank_rules', 'tax_account')
    op.drop_column('bank_rules', 'tax_rate')
