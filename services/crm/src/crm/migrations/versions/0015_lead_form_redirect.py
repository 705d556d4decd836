"""lead_forms.redirect_url: where a visitor's browser goes after a plain HTML form post

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('lead_forms', sa.Column('redirect_url', sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column('lead_forms', 'redirect_url')
