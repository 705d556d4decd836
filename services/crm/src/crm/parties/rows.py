"""A party's writes in the fewest round trips, without the ORM's unit of work.

A new party: its row, its crm.party.created outbox row, the relay's wake-up (NOTIFY) and its audit entry go to
PostgreSQL as one multi-statement string, one round trip, in the caller's transaction. Every value is known in
Python before the write (the id, the timestamps, the event), so nothing is read back: POST /parties answers from
the values in hand. A change of an existing party (flushed by the ORM) sends its event, NOTIFY and audit entry the
same way, in one round trip. The SQL texts are built once from the tables' own names.
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


def _placeholders(columns, prefix: str, casts: dict) -> str:
    return ", ".join(f"%({prefix}{c})s{casts.get(c, '')}" for c in columns)


CHANGE_SQL = (
    f"INSERT INTO {outbox.name} (event_id, aggregatetype, aggregateid, type, topic, payload) "
    "VALUES (%(o_event_id)s, 'party', %(o_subject)s, %(o_type)s, %(o_topic)s, %(o_payload)s::jsonb);\n"
    f"NOTIFY {NOTIFY_CHANNEL};\n"
    f"INSERT INTO {audit_log.name} ({', '.join(_AUDIT)}) VALUES ({_placeholders(_AUDIT, 'a_', {'changes': '::jsonb'})})"
)
CREATE_SQL = (f"INSERT INTO {Party.__tablename__} ({', '.join(_COLUMNS)}) "
              f"VALUES ({_placeholders(_COLUMNS, 'p_', _CAST)});\n{CHANGE_SQL}")
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


def _change_params(verb: str, party_id: str, version: int, state: dict, actor, action: str, changes: dict) -> dict:
    type_ = f"crm.party.{verb}"
    record = envelope.new_record(type_, party_id, state, version, **actor_extensions(actor))
    return {
        "o_event_id": record["attributes"]["id"], "o_subject": str(party_id), "o_type": type_,
        "o_topic": event_type(type_).topic, "o_payload": _dumps(record),
        "a_id": str(uuid.uuid4()), "a_actor_id": getattr(actor, "user_id", None),
        "a_actor": getattr(actor, "label", None) or (actor if isinstance(actor, str) else "system"),
        "a_token_id": getattr(actor, "token_id", None), "a_action": action, "a_entity_type": "party",
        "a_entity_id": str(party_id), "a_changes": _dumps(changes),
    }


def record_change(session: Session, verb: str, party_id: str, version: int, state: dict, actor, action: str,
                  changes: dict) -> None:
    """The crm.party.<verb> event carrying `state` (party_state) and the audit entry of `action` with `changes`
    (audit.diff), in one round trip; `actor` is a Principal, a plain label, or None for the system."""
    session.connection().exec_driver_sql(CHANGE_SQL, _change_params(verb, party_id, version, state, actor, action,
                                                                    changes))


def insert_new_party(session: Session, row: dict, state: dict, actor) -> None:
    """Write the party `row` (new_party_row), its created event carrying `state` (party_state of the row) and the
    audit entry of its creation, in one round trip."""
    # audit.diff(None, state) of a state in JSON types: every field that has a value, sorted
    created = {k: {"before": None, "after": v} for k, v in sorted(state.items()) if v is not None}
    params = _change_params("created", row["id"], 1, state, actor, "create", created)
    for c in _COLUMNS:
        params[f"p_{c}"] = row[c]
    for c in _JSON:
        params[f"p_{c}"] = None if row[c] is None else _dumps(row[c])
    session.connection().exec_driver_sql(CREATE_SQL, params)
