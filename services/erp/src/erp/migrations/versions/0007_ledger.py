"""ledger: chart of accounts and role mapping (seeded), journals, journal entries and lines (immutable once posted),
gapless numbering counters, the hash chain's head, ledger settings (lock date)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:25:32.725423
"""

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# (code, name, type, reconcilable, party_required): a small, generic chart; accountants extend it through the API
CHART = (
    ("101000", "Share capital", "equity", False, False),
    ("120000", "Retained earnings", "equity", False, False),
    ("310000", "Stock of goods", "asset", False, False),
    ("401000", "Suppliers (accounts payable)", "liability", True, True),
    ("408000", "Goods received not invoiced", "liability", False, False),
    ("409000", "Advances paid to suppliers", "asset", True, True),
    ("411000", "Customers (accounts receivable)", "asset", True, True),
    ("419000", "Customer advances and credits", "liability", True, True),
    ("445660", "VAT deductible", "asset", False, False),
    ("445710", "VAT collected", "liability", False, False),
    ("512000", "Bank", "asset", True, False),
    ("530000", "Cash", "asset", False, False),
    ("603700", "Change in stock of goods (cost of goods sold)", "expense", False, False),
    ("607000", "Purchases of goods", "expense", False, False),
    ("615000", "Warranty and repair costs", "expense", False, False),
    ("627000", "Bank charges", "expense", False, False),
    ("658000", "Rounding differences (charge)", "expense", False, False),
    ("706000", "Service revenue", "income", False, False),
    ("707000", "Sales of goods", "income", False, False),
    ("758000", "Rounding differences (gain)", "income", False, False),
    ("890000", "Opening balance equity", "equity", False, False),
)
NORMAL_SIDE = {"asset": "debit", "expense": "debit", "liability": "credit", "equity": "credit", "income": "credit"}
MAPPING = {
    "receivable": "411000", "payable": "401000", "revenue_goods": "707000", "revenue_services": "706000",
    "vat_collected": "445710", "vat_deductible": "445660", "bank": "512000", "cash": "530000", "stock": "310000",
    "cogs": "603700", "stock_variation": "603700", "grni": "408000", "purchases": "607000",
    "price_variance": "607000", "customer_credit": "419000", "supplier_advance": "409000",
    "warranty_cost": "615000", "rounding": "658000", "rounding_gain": "758000", "retained_earnings": "120000",
    "opening_balance": "890000",
}
JOURNALS = (("SAL", "Sales", "sales"), ("PUR", "Purchases", "purchases"), ("BNK", "Bank", "bank"),
            ("CSH", "Cash", "cash"), ("GEN", "General", "general"), ("STK", "Stock valuation", "stock"))
SEAL_COLUMNS = "ARRAY['number', 'fiscal_year', 'sequence_number', 'chain_seq', 'hash']"


def upgrade() -> None:
    op.create_table('ledger_accounts',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('normal_side', sa.String(length=6), nullable=False),
    sa.Column('reconcilable', sa.Boolean(), nullable=False),
    sa.Column('party_required', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('parent_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("normal_side in ('debit', 'credit')", name=op.f('ck_ledger_accounts_normal_side')),
    sa.CheckConstraint("type in ('asset', 'liability', 'equity', 'income', 'expense')", name=op.f('ck_ledger_accounts_type')),
    sa.ForeignKeyConstraint(['parent_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_accounts_parent_id_ledger_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_accounts_code'))
    )
    op.create_index(op.f('ix_ledger_accounts_parent_id'), 'ledger_accounts', ['parent_id'], unique=False)
    op.create_table('ledger_chain',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_ledger_chain_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_chain'))
    )
    op.create_table('ledger_journals',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("type in ('sales', 'purchases', 'bank', 'cash', 'general', 'stock')", name=op.f('ck_ledger_journals_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_journals')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_journals_code'))
    )
    op.create_table('ledger_settings',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('lock_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.String(length=300), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_ledger_settings_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_settings'))
    )
    op.create_table('journal_entries',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('journal_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('status', sa.String(length=6), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('source_type', sa.String(length=50), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.String(length=100), nullable=False),
    sa.Column('reversal_of_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('draft_lines', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('fiscal_year', sa.Integer(), nullable=True),
    sa.Column('sequence_number', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=30), nullable=True),
    sa.Column('chain_seq', sa.BigInteger(), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=300), nullable=True),
    sa.Column('posted_by', sa.String(length=300), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status = 'posted' or (number is null and hash is null)", name=op.f('ck_journal_entries_draft_unsealed')),
    sa.CheckConstraint("status in ('draft', 'posted')", name=op.f('ck_journal_entries_status')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journals.id'], name=op.f('fk_journal_entries_journal_id_ledger_journals')),
    sa.ForeignKeyConstraint(['reversal_of_id'], ['journal_entries.id'], name=op.f('fk_journal_entries_reversal_of_id_journal_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entries')),
    sa.UniqueConstraint('chain_seq', name=op.f('uq_journal_entries_chain_seq')),
    sa.UniqueConstraint('journal_id', 'fiscal_year', 'sequence_number', name='uq_journal_entries_journal_number'),
    sa.UniqueConstraint('number', name=op.f('uq_journal_entries_number')),
    sa.UniqueConstraint('reversal_of_id', name=op.f('uq_journal_entries_reversal_of_id')),
    sa.UniqueConstraint('source_type', 'source_id', 'purpose', name='uq_journal_entries_source')
    )
    op.create_index('ix_journal_entries_entry_date', 'journal_entries', ['entry_date'], unique=False)
    op.create_index('ix_journal_entries_journal_date', 'journal_entries', ['journal_id', 'entry_date'], unique=False)
    op.create_index('ix_journal_entries_status', 'journal_entries', ['status'], unique=False, postgresql_where=sa.text("status = 'draft'"))
    op.create_table('ledger_account_mapping',
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_account_mapping_account_id_ledger_accounts')),
    sa.PrimaryKeyConstraint('role', name=op.f('pk_ledger_account_mapping'))
    )
    op.create_index(op.f('ix_ledger_account_mapping_account_id'), 'ledger_account_mapping', ['account_id'], unique=False)
    op.create_table('ledger_journal_sequences',
    sa.Column('journal_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journals.id'], name=op.f('fk_ledger_journal_sequences_journal_id_ledger_journals')),
    sa.PrimaryKeyConstraint('journal_id', 'fiscal_year', name=op.f('pk_ledger_journal_sequences'))
    )
    op.create_table('journal_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('entry_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('debit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('credit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('journal_id', sa.UUID(as_uuid=False), nullable=False),
    sa.CheckConstraint('debit >= 0 and credit >= 0 and (debit > 0) <> (credit > 0)', name=op.f('ck_journal_lines_one_side')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_journal_lines_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_journal_lines_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journals.id'], name=op.f('fk_journal_lines_journal_id_ledger_journals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_lines')),
    sa.UniqueConstraint('entry_id', 'position', name='uq_journal_lines_position')
    )
    op.create_index('ix_journal_lines_account_date', 'journal_lines', ['account_id', 'entry_date', 'id'], unique=False, postgresql_include=['debit', 'credit'])
    op.create_index('ix_journal_lines_party_account', 'journal_lines', ['party_id', 'account_id', 'entry_date'], unique=False, postgresql_where=sa.text('party_id is not null'))
    # posted entries are history: a correction is a reversing entry, never an edit. A posted entry is sealed once
    # (number and hash) in the transaction that posts it; after that nothing about it changes.
    op.execute(f"""
        CREATE FUNCTION journal_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status = 'posted' AND (TG_OP = 'DELETE' OR OLD.hash IS NOT NULL
                    OR (to_jsonb(NEW) - {SEAL_COLUMNS}) IS DISTINCT FROM (to_jsonb(OLD) - {SEAL_COLUMNS})) THEN
                RAISE EXCEPTION 'journal entry % is posted: posted entries are immutable, reverse it instead', OLD.id
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute("CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries "
               "FOR EACH ROW EXECUTE FUNCTION journal_entries_immutable()")
    op.execute("""
        CREATE FUNCTION journal_lines_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the journal is append-only: reverse the entry instead'
                USING ERRCODE = 'restrict_violation';
        END $$
    """)
    op.execute("CREATE TRIGGER journal_lines_immutable BEFORE UPDATE OR DELETE ON journal_lines "
               "FOR EACH ROW EXECUTE FUNCTION journal_lines_immutable()")
    for table in ("journal_entries", "journal_lines"):
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION journal_lines_immutable()")

    accounts = {code: str(uuid.uuid4()) for code, *_ in CHART}
    op.bulk_insert(sa.table('ledger_accounts', *(sa.column(c) for c in (
        'id', 'code', 'name', 'type', 'normal_side', 'reconcilable', 'party_required', 'active', 'version'))), [
        {"id": accounts[code], "code": code, "name": name, "type": type_, "normal_side": NORMAL_SIDE[type_],
         "reconcilable": reconcilable, "party_required": party_required, "active": True, "version": 1}
        for code, name, type_, reconcilable, party_required in CHART])
    op.bulk_insert(sa.table('ledger_account_mapping', sa.column('role'), sa.column('account_id')),
                   [{"role": role, "account_id": accounts[code]} for role, code in MAPPING.items()])
    op.bulk_insert(sa.table('ledger_journals', *(sa.column(c) for c in ('id', 'code', 'name', 'type', 'active'))),
                   [{"id": str(uuid.uuid4()), "code": code, "name": name, "type": type_, "active": True}
                    for code, name, type_ in JOURNALS])
    op.execute("INSERT INTO ledger_chain (id, last_seq, last_hash) VALUES (1, 0, repeat('0', 64))")
    op.execute("INSERT INTO ledger_settings (id, currency, lock_date, version) VALUES (1, 'EUR', NULL, 1)")


def downgrade() -> None:
    for table in ("journal_entries", "journal_lines"):
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_immutable ON {table}")
    op.execute("DROP FUNCTION journal_entries_immutable()")
    op.execute("DROP FUNCTION journal_lines_immutable()")
    for table in ("journal_lines", "ledger_journal_sequences", "ledger_account_mapping", "journal_entries",
                  "ledger_settings", "ledger_journals", "ledger_chain", "ledger_accounts"):
        op.drop_table(table)
