"""optional JSON columns hold SQL NULL, never a JSON null, as the CRM (the owner) does for addresses

Journal entries are immutable and keep what they were written with; invoices keep their legal snapshot.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

COLUMNS = [("party_replicas", "billing_address"), ("party_replicas", "shipping_address"),
           ("sales_orders", "shipping_address")]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} = 'null'::jsonb")


def downgrade() -> None:
    pass  # SQL NULL is what the code writes either way
