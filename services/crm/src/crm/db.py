"""The CRM's tables live on one MetaData; the outbox, inbox and idempotency tables come from the shared kits."""

from servicekit.audit import audit_table
from servicekit.auth.tables import auth_tables
from servicekit.idempotency import idempotency_table
from servicekit.mail_outbox import mail_outbox_table
from shared_events.tables import outbox_table, processed_events_table
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


outbox = outbox_table(Base.metadata)
processed_events = processed_events_table(Base.metadata)
idempotency_keys = idempotency_table(Base.metadata)
mail_outbox = mail_outbox_table(Base.metadata)  # mail leaves after the commit that wrote it (worker)

auth = auth_tables(Base.metadata)
audit_log = audit_table(Base.metadata)
