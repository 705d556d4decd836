"""company_replica: the ERP's company settings (erp.company.v1) that quotes print as the seller

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
    op.create_table('company_replica',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('state', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sa.String(length=20), nullable=True),
    sa.Column('erp_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replicated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_company_replica_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_replica'))
    )


def downgrade() -> None:
    op.drop_table('company_replica')
