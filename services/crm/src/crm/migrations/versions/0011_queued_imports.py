"""queued imports: large files wait in import_files for the worker; started_at, progress_at and attempts for
progress, rate and ETA

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint(op.f('ck_imports_status'), 'imports', type_='check')
    op.create_check_constraint(op.f('ck_imports_status'), 'imports',
                               "status in ('queued', 'running', 'done', 'failed', 'reverted')")
    op.add_column('imports', sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('imports', sa.Column('progress_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('imports', sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.create_table('import_files',
    sa.Column('import_id', postgresql.UUID(as_uuid=False), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('token_id', postgresql.UUID(as_uuid=False), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_files_import_id_imports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_import_files'))
    )
    op.create_index('ix_imports_queued', 'imports', ['created_at'], unique=False,
                    postgresql_where=sa.text("status in ('queued', 'running')"))


def downgrade() -> None:
    op.drop_index('ix_imports_queued', table_name='imports', postgresql_where=sa.text("status in ('queued', 'running')"))
    op.drop_table('import_files')
    op.drop_column('imports', 'attempts')
    op.drop_column('imports', 'progress_at')
    op.drop_column('imports', 'started_at')
    op.execute("update imports set status = 'failed', failure = 'queued when the schema was downgraded' "
               "where status = 'queued'")
    op.drop_constraint(op.f('ck_imports_status'), 'imports', type_='check')
    op.create_check_constraint(op.f('ck_imports_status'), 'imports',
                               "status in ('running', 'done', 'failed', 'reverted')")
