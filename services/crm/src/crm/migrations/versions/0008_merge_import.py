"""party merge (status merged, merged_into_id) and imports (imports, import_changes, import_batch_id)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 12:38:26.686905
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('imports',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('target', sa.String(length=10), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_format', sa.String(length=5), nullable=False),
    sa.Column('on_duplicate', sa.String(length=6), nullable=False),
    sa.Column('mapping', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('failure', sa.String(length=2000), nullable=True),
    sa.Column('revert_report', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_by', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reverted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reverted_by', sa.UUID(as_uuid=False), nullable=True),
    sa.CheckConstraint("status in ('running', 'done', 'failed', 'reverted')", name=op.f('ck_imports_status')),
    sa.CheckConstraint("target in ('parties', 'leads')", name=op.f('ck_imports_target')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_imports_created_by_users')),
    sa.ForeignKeyConstraint(['reverted_by'], ['users.id'], name=op.f('fk_imports_reverted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    op.create_index('ix_imports_created_by', 'imports', ['created_by', 'created_at'], unique=False)
    op.create_table('import_changes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('import_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('record_type', sa.String(length=10), nullable=False),
    sa.Column('record_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version_after', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_changes_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_changes'))
    )
    op.create_index('ix_import_changes_import', 'import_changes', ['import_id', 'record_type'], unique=False)
    op.add_column('leads', sa.Column('import_batch_id', sa.UUID(as_uuid=False), nullable=True))
    op.create_index('ix_leads_import_batch_id', 'leads', ['import_batch_id'], unique=False, postgresql_where=sa.text('import_batch_id is not null'))
    op.create_foreign_key(op.f('fk_leads_import_batch_id_imports'), 'leads', 'imports', ['import_batch_id'], ['id'])
    op.add_column('parties', sa.Column('merged_into_id', sa.UUID(as_uuid=False), nullable=True))
    op.add_column('parties', sa.Column('import_batch_id', sa.UUID(as_uuid=False), nullable=True))
    op.create_index('ix_parties_import_batch_id', 'parties', ['import_batch_id'], unique=False, postgresql_where=sa.text('import_batch_id is not null'))
    op.create_index('ix_parties_merged_into_id', 'parties', ['merged_into_id'], unique=False, postgresql_where=sa.text('merged_into_id is not null'))
    op.create_foreign_key(op.f('fk_parties_import_batch_id_imports'), 'parties', 'imports', ['import_batch_id'], ['id'])
    op.create_foreign_key(op.f('fk_parties_merged_into_id_parties'), 'parties', 'parties', ['merged_into_id'], ['id'])
    op.drop_constraint(op.f('ck_parties_status'), 'parties', type_='check')
    op.create_check_constraint(op.f('ck_parties_status'), 'parties', "status in ('active', 'archived', 'merged')")
    op.create_check_constraint(op.f('ck_parties_merged'), 'parties', "(status = 'merged') = (merged_into_id is not null)")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_parties_merged'), 'parties', type_='check')
    op.drop_constraint(op.f('ck_parties_status'), 'parties', type_='check')
    op.execute("update parties set status = 'archived' where status = 'merged'")
    op.create_check_constraint(op.f('ck_parties_status'), 'parties', "status in ('active', 'archived')")
    op.drop_constraint(op.f('fk_parties_merged_into_id_parties'), 'parties', type_='foreignkey')
    op.drop_constraint(op.f('fk_parties_import_batch_id_imports'), 'parties', type_='foreignkey')
    op.drop_index('ix_parties_merged_into_id', table_name='parties', postgresql_where=sa.text('merged_into_id is not null'))
    op.drop_index('ix_parties_import_batch_id', table_name='parties', postgresql_where=sa.text('import_batch_id is not null'))
    op.drop_column('parties', 'import_batch_id')
    op.drop_column('parties', 'merged_into_id')
    op.drop_constraint(op.f('fk_leads_import_batch_id_imports'), 'leads', type_='foreignkey')
    op.drop_index('ix_leads_import_batch_id', table_name='leads', postgresql_where=sa.text('import_batch_id is not null'))
    op.drop_column('leads', 'import_batch_id')
    op.drop_index('ix_import_changes_import', table_name='import_changes')
    op.drop_table('import_changes')
    op.drop_index('ix_imports_created_by', table_name='imports')
    op.drop_table('imports')
