"""delivery numbers from a locked counter row per year (gapless; a refused delivery takes none), seeded from the
numbers the old sequence gave

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        INSERT INTO invoice_counters (series, fiscal_year, last_number)
        SELECT '#DL', split_part(number, '-', 2)::int, max(split_part(number, '-', 3)::int)
        FROM sales_deliveries GROUP BY 2
        ON CONFLICT (series, fiscal_year) DO UPDATE SET last_number = excluded.last_number""")


def downgrade() -> None:
    op.execute("DELETE FROM invoice_counters WHERE series = '#DL'")
