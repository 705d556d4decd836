"""optional JSON columns hold SQL NULL, never a JSON null (addresses, revert reports)

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = [("parties", "billing_address"), ("parties", "shipping_address"), ("imports", "revert_report")]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} = 'null'::jsonb")


def downgrade() -> None:
    pass  # SQL NULL is what the code writes either way
