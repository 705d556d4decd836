"""A new party written without the ORM: its row, its crm.party.created outbox row, the relay's wake-up and its
audit entry go to PostgreSQL as one multi-statement string, one round trip, in the caller's transaction.

Every value is known in Python before the write (the id, the timestamps, the event), so nothing is read back:
POST /parties answers from the values in hand. The SQL text is built once from the tables' own names.
"""

import json
import uuid
from datetime import UTC, datetime

from shared_events import envelope
from shared_events.actors import actor_extensions
from shared_events.catalogue import event_type
from shared_events.outbox import NOTIFY_CHANNEL
from sqlalchemy.orm import Session

from ..db import audit_log, outbox
from .models import Party

_JSON = ("emails", "phones", "billing_address", "shipping_address")
_COLUMNS = ("id", "kind", "display_name", "legal_name", "first_name", "last_name", "company_id", "job_title",
            "roles", "tax_id", "emails", "phones", "website", "billing_address", "shipping_address", "owner_id",
            "status", "version", "created_at", "updated_at")
_CAST = {**{c: "::jsonb" for c in _JSON}, "roles": "::varchar(20)[]"}
_AUDIT = ("id", "actor_id", "actor", "token_id", "action", "entity_type", "entity_id", "changes")
_TOPIC = event_type("crm.party.created").topic


def _placeholders(columns, prefix: str, casts: dict) -> str:
    return ", ".join(f"%({prefix}{c})s{casts.get(c, '')}" for c in columns)


CREATE_SQL = (
    f"INSERT INTO {Party.__tablename__} ({', '.join(_COLUMNS)}) VALUES ({_placeholders(_COLUMNS, 'p_', _CAST)});\n"
    f"INSERT INTO {outbox.name} (event_id, aggregatetype, aggregateid, type, topic, payload) "
    "VALUES (%(o_event_id)s, 'party', %(p_id)s, 'crm.party.created', %(o_topic)s, %(o_payload)s::jsonb);\n"
    f"NOTIFY {NOTIFY_CHANNEL};\n"
    f"INSERT INTO {audit_log.name} ({', '.join(_AUDIT)}) VALUES ({_placeholders(_AUDIT, 'a_', {'changes': '::jsonb'})})"
)
STATEMENTS = CREATE_SQL.count(";") + 1  # what one create sends (the bench prints it)

_dumps = json.JSONEncoder(separators=(", ", ": ")).encode  # what SQLAlchemy's JSONB would have sent


def new_party_row(data: dict, display_name: str) -> dict:
    """The row of a new party from normalized input: every column a view shows, defaults included."""
    now = datetime.now(UTC)
    return {
        "id": str(uuid.uuid4()), "kind": data["kind"], "display_name": display_name,
        "legal_name": data.get("legal_name"), "first_name": data.get("first_name"),
        "last_name": data.get("last_name"), "company_id": data.get("company_id"),
        "job_title": data.get("job_title"), "roles": data.get("roles") or [], "tax_id": data.get("tax_id"),
        "emails": data.get("emails") or [], "phones": data.get("phones") or [], "website": data.get("website"),
        "billing_address": data.get("billing_address"), "shipping_address": data.get("shipping_address"),
        "owner_id": data["owner_id"], "status": "active", "version": 1, "created_at": now, "updated_at": now,
        "archived_at": None, "merged_into_id": None, "import_batch_id": None,
    }


def insert_new_party(session: Session, row: dict, state: dict, actor) -> None:
    """Write the party `row` (new_party_row), its created event carrying `state` (party_state of the row) and the
    audit entry of its creation, in one round trip."""
    record = envelope.new_record("crm.party.created", row["id"], state, 1, **actor_extensions(actor))
    params = {f"p_{c}": row[c] for c in _COLUMNS}
    for c in _JSON:
        value = row[c]
        params[f"p_{c}"] = None if value is None else _dumps(value)
    params["o_event_id"] = record["attributes"]["id"]
    params["o_topic"] = _TOPIC
    params["o_payload"] = _dumps(record)
    params.update(
        a_id=str(uuid.uuid4()), a_actor_id=getattr(actor, "user_id", None),
        a_actor=getattr(actor, "label", None) or (actor if isinstance(actor, str) else "system"),
        a_token_id=getattr(actor, "token_id", None), a_action="create", a_entity_type="party", a_entity_id=row["id"],
        # audit.diff(None, state) of a state in JSON types: every field that has a value, sorted
        a_changes=_dumps({k: {"before": None, "after": v} for k, v in sorted(state.items()) if v is not None}))
    session.connection().exec_driver_sql(CREATE_SQL, params)
