"""leads, lead forms and their capture limits; pipelines with stages (seeded: Sales); deals and their stage history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:09:38.698305
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# the default funnel: (name, position, probability, kind)
SALES_STAGES = [
    ('Qualification', 1, 10, 'open'),
    ('Proposal', 2, 40, 'open'),
    ('Negotiation', 3, 70, 'open'),
    ('Won', 4, 100, 'won'),
    ('Lost', 5, 0, 'lost'),
]


def upgrade() -> None:
    # duplicate detection compares party names without accents (leads/service.py); trusted since PostgreSQL 13
    op.execute('CREATE EXTENSION IF NOT EXISTS unaccent')
    op.create_table('pipelines',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipelines')),
    sa.UniqueConstraint('name', name=op.f('uq_pipelines_name'))
    )
    op.create_index('uq_pipelines_default', 'pipelines', ['is_default'], unique=True, postgresql_where=sa.text('is_default'))
    op.create_table('lead_forms',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('campaign', sa.String(length=150), nullable=True),
    sa.Column('owner_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('allowed_origins', postgresql.ARRAY(sa.String(length=300)), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('key_rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_lead_forms_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_forms')),
    sa.UniqueConstraint('form_key', name=op.f('uq_lead_forms_form_key')),
    sa.UniqueConstraint('name', name=op.f('uq_lead_forms_name'))
    )
    op.create_table('pipeline_stages',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('pipeline_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind in ('open', 'won', 'lost')", name=op.f('ck_pipeline_stages_kind')),
    sa.CheckConstraint('probability between 0 and 100', name=op.f('ck_pipeline_stages_probability')),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_stages_pipeline_id_pipelines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_stages')),
    sa.UniqueConstraint('pipeline_id', 'name', name='uq_pipeline_stages_name')
    )
    op.create_index(op.f('ix_pipeline_stages_pipeline_id'), 'pipeline_stages', ['pipeline_id'], unique=False)
    op.create_table('lead_capture_hits',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('form_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['lead_forms.id'], name=op.f('fk_lead_capture_hits_form_id_lead_forms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_capture_hits'))
    )
    op.create_index('ix_lead_capture_hits_form_address_at', 'lead_capture_hits', ['form_id', 'address', 'at'], unique=False)
    op.create_table('leads',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('display_name', sa.String(length=300), nullable=False),
    sa.Column('first_name', sa.String(length=150), nullable=True),
    sa.Column('last_name', sa.String(length=150), nullable=True),
    sa.Column('company_name', sa.String(length=300), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('job_title', sa.String(length=150), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('campaign', sa.String(length=150), nullable=True),
    sa.Column('utm_source', sa.String(length=200), nullable=True),
    sa.Column('utm_medium', sa.String(length=200), nullable=True),
    sa.Column('utm_campaign', sa.String(length=200), nullable=True),
    sa.Column('utm_term', sa.String(length=200), nullable=True),
    sa.Column('utm_content', sa.String(length=200), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('status', sa.String(length=15), nullable=False),
    sa.Column('disqualify_reason', sa.String(length=500), nullable=True),
    sa.Column('form_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.Column('last_submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_key', sa.String(length=254), nullable=True),
    sa.Column('phone_key', sa.String(length=20), nullable=True),
    sa.Column('name_key', sa.String(length=300), nullable=True),
    sa.Column('company_key', sa.String(length=300), nullable=True),
    sa.Column('qualified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disqualified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('converted_party_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('converted_person_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('converted_deal_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('new', 'contacted', 'qualified', 'disqualified', 'converted')", name=op.f('ck_leads_status')),
    sa.CheckConstraint('score is null or score between 0 and 100', name=op.f('ck_leads_score')),
    sa.ForeignKeyConstraint(['converted_party_id'], ['parties.id'], name=op.f('fk_leads_converted_party_id_parties')),
    sa.ForeignKeyConstraint(['converted_person_id'], ['parties.id'], name=op.f('fk_leads_converted_person_id_parties')),
    sa.ForeignKeyConstraint(['form_id'], ['lead_forms.id'], name=op.f('fk_leads_form_id_lead_forms')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_leads_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads'))
    )
    op.create_index(op.f('ix_leads_campaign'), 'leads', ['campaign'], unique=False)
    op.create_index(op.f('ix_leads_company_key'), 'leads', ['company_key'], unique=False)
    op.create_index('ix_leads_display_name_lower', 'leads', [sa.literal_column('lower(display_name)')], unique=False)
    op.create_index(op.f('ix_leads_email_key'), 'leads', ['email_key'], unique=False)
    op.create_index(op.f('ix_leads_form_id'), 'leads', ['form_id'], unique=False)
    op.create_index(op.f('ix_leads_owner_id'), 'leads', ['owner_id'], unique=False)
    op.create_index('ix_leads_person_company', 'leads', ['name_key', 'company_key'], unique=False)
    op.create_index(op.f('ix_leads_phone_key'), 'leads', ['phone_key'], unique=False)
    op.create_index(op.f('ix_leads_status'), 'leads', ['status'], unique=False)
    op.create_table('deals',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('party_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('contact_person_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('pipeline_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('stage_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('expected_close_date', sa.Date(), nullable=True),
    sa.Column('owner_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('source_lead_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('close_reason', sa.String(length=500), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stage_entered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('open', 'won', 'lost')", name=op.f('ck_deals_status')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_deals_amount')),
    sa.ForeignKeyConstraint(['contact_person_id'], ['parties.id'], name=op.f('fk_deals_contact_person_id_parties')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_deals_owner_id_users')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_deals_party_id_parties')),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_deals_pipeline_id_pipelines')),
    sa.ForeignKeyConstraint(['source_lead_id'], ['leads.id'], name=op.f('fk_deals_source_lead_id_leads')),
    sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'], name=op.f('fk_deals_stage_id_pipeline_stages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deals'))
    )
    op.create_index('ix_deals_name_lower', 'deals', [sa.literal_column('lower(name)')], unique=False)
    op.create_index(op.f('ix_deals_owner_id'), 'deals', ['owner_id'], unique=False)
    op.create_index(op.f('ix_deals_party_id'), 'deals', ['party_id'], unique=False)
    op.create_index('ix_deals_pipeline_stage', 'deals', ['pipeline_id', 'stage_id'], unique=False)
    op.create_index(op.f('ix_deals_source_lead_id'), 'deals', ['source_lead_id'], unique=False)
    op.create_index('ix_deals_status_expected_close', 'deals', ['status', 'expected_close_date'], unique=False)
    op.create_table('deal_stage_changes',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('deal_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('from_stage_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('from_stage_name', sa.String(length=100), nullable=True),
    sa.Column('to_stage_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('to_stage_name', sa.String(length=100), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds_in_previous', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.String(length=100), nullable=True),
    sa.Column('actor', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_deal_stage_changes_deal_id_deals')),
    sa.ForeignKeyConstraint(['from_stage_id'], ['pipeline_stages.id'], name=op.f('fk_deal_stage_changes_from_stage_id_pipeline_stages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['to_stage_id'], ['pipeline_stages.id'], name=op.f('fk_deal_stage_changes_to_stage_id_pipeline_stages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_stage_changes'))
    )
    op.create_index('ix_deal_stage_changes_deal_at', 'deal_stage_changes', ['deal_id', 'changed_at'], unique=False)
    op.create_foreign_key('fk_leads_converted_deal_id_deals', 'leads', 'deals', ['converted_deal_id'], ['id'])
    pipeline_id = 'a7d0c4e2-5b1f-4c3e-9d8a-000000000001'
    op.execute(sa.text("INSERT INTO pipelines (id, name, currency, active, is_default, version) "
                       "VALUES (:id, 'Sales', 'EUR', true, true, 1)").bindparams(id=pipeline_id))
    stages = sa.table('pipeline_stages', sa.column('id', sa.UUID(as_uuid=False)),
                      sa.column('pipeline_id', sa.UUID(as_uuid=False)), sa.column('name', sa.String),
                      sa.column('position', sa.Integer), sa.column('probability', sa.Integer),
                      sa.column('kind', sa.String))
    op.bulk_insert(stages, [
        {'id': f'a7d0c4e2-5b1f-4c3e-9d8a-00000000001{position}', 'pipeline_id': pipeline_id, 'name': name,
         'position': position, 'probability': probability, 'kind': kind}
        for name, position, probability, kind in SALES_STAGES])


def downgrade() -> None:
    op.drop_constraint('fk_leads_converted_deal_id_deals', 'leads', type_='foreignkey')
    op.drop_table('deal_stage_changes')
    op.drop_table('deals')
    op.drop_table('leads')
    op.drop_table('lead_capture_hits')
    op.drop_table('pipeline_stages')
    op.drop_table('lead_forms')
    op.drop_table('pipelines')
    # the unaccent extension stays: dropping it could break other users of the database
