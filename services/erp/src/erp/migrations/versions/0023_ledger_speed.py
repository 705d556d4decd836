"""the chart's version: a number drawn from a sequence each time the accounts, the role mapping or the journals
change (statement triggers), so a process may keep the chart in memory and a posting checks in its own statement,
under the settings row's share lock, that the chart it used is still the current one (see ledger/service.py)

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

CHART_TABLES = ("ledger_accounts", "ledger_account_mapping", "ledger_journals")


def upgrade() -> None:
    # a sequence, not a counter: numbers never come back, even from a transaction that rolled back, so a version
    # seen once names one state of the chart
    op.execute("CREATE SEQUENCE ledger_chart_version_seq")
    # started at the clock's microseconds, so a sequence created again (a reinstalled database) does not hand out
    # the numbers of an earlier one to a process that still remembers them
    op.execute("SELECT setval('ledger_chart_version_seq', (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)")
    op.add_column('ledger_settings', sa.Column('chart_version', sa.BigInteger(), nullable=False,
                                               server_default=sa.text("nextval('ledger_chart_version_seq')")))
    op.execute("""
        CREATE FUNCTION ledger_chart_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE ledger_settings SET chart_version = nextval('ledger_chart_version_seq') WHERE id = 1;
            RETURN NULL;
        END $$
    """)
    for table in CHART_TABLES:
        op.execute(f"CREATE TRIGGER {table}_chart_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_chart_changed()")


def downgrade() -> None:
    for table in CHART_TABLES:
        op.execute(f"DROP TRIGGER {table}_chart_version ON {table}")
    op.execute("DROP FUNCTION ledger_chart_changed()")
    op.drop_column('ledger_settings', 'chart_version')
    op.execute("DROP SEQUENCE ledger_chart_version_seq")
