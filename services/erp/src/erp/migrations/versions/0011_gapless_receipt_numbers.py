"""receipt and payment numbers from locked counter rows (gapless; a refused payment takes none), seeded from the
numbers the old sequences gave

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for direction, series in (("in", "#RC"), ("out", "#PM")):
        op.execute(f"""
            INSERT INTO invoice_counters (series, fiscal_year, last_number)
            SELECT '{series}', split_part(number, '-', 2)::int, max(split_part(number, '-', 3)::int)
            FROM payments WHERE direction = '{direction}' GROUP BY 2
            ON CONFLICT (series, fiscal_year) DO UPDATE SET last_number = excluded.last_number""")


def downgrade() -> None:
    op.execute("DELETE FROM invoice_counters WHERE series IN ('#RC', '#PM')")
