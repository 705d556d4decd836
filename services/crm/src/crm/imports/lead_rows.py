"""Importing leads: plan the rows, write them in bulk (with their audit rows and "lead created" timeline entries),
revert them. Duplicates are leads the importer can see with the same email or phone (leads/dedupe.py keys), or an
earlier row of the same file; a converted lead is never updated by an import."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from servicekit.auth.principal import Principal
from servicekit.problems import Problem
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from ..access.models import RecordShare
from ..access.visibility import editable
from ..leads.models import Lead
from ..leads.service import lead_state, refresh_keys, visible_leads
from ..merge import references
from ..timeline.models import TimelineEntry
from . import bulk
from .fields import lead_payload, resolve_mapping, row_fields
from .models import ImportChange
from .plan import Duplicates, Item, Plan

LEADS = Lead.__table__
COLUMNS = [c.name for c in LEADS.columns]
MATCH_KEYS = (("email", "email_key"), ("phone", "phone_key"))
CONTACT = ("first_name", "last_name", "company_name", "email", "phone", "job_title", "message", "source", "campaign",
           "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "score")
UPDATABLE = (*CONTACT, "display_name", "email_key", "phone_key", "name_key", "company_key")
SHOWN = ("id", "display_name", "first_name", "last_name", "company_name", "email", "phone", "job_title", "source",
         "campaign", "score")


def _with_keys(record: dict) -> dict:
    """The record with its display name and dedupe keys computed the way every lead's are."""
    lead = Lead(**{k: v for k, v in record.items() if k in COLUMNS})
    refresh_keys(lead)
    return {**record, **{k: getattr(lead, k) for k in ("display_name", "email_key", "phone_key", "name_key",
                                                        "company_key")}}


def _state(record: dict) -> dict:
    """What the audit trail records of a lead, from a row (lead_state reads attributes only)."""
    return lead_state(SimpleNamespace(**record))


def _keys(record: dict) -> list[tuple[str, str]]:
    return [(reason, record[col]) for reason, col in MATCH_KEYS if record.get(col)]


def plan(session: Session, table, options: dict, actor: Principal, batch_id: str | None = None,
         lock: bool = False) -> Plan:
    """What each row would do: read the rows, find the visible leads they match, then decide row by row."""
    result = Plan("leads", len(table.rows), warnings=list(table.warnings))
    rows = _read_rows(table, options, result)
    current, existing, may_edit = _matches(session, rows, actor, lock)
    updates = _decide(rows, current, existing, may_edit, options.get("on_duplicate", "skip"), result, actor,
                      batch_id)
    for item in updates.values():
        if not any(item.record.get(c) != item.before.get(c) for c in CONTACT):
            item.action = "unchanged"
    return result


def _read_rows(table, options: dict, result: Plan) -> list[tuple[int, dict]]:
    """(row number, lead values with their match keys) of the rows that make a lead; the others' errors go to
    the plan."""
    mapping = None if table.format == "vcf" else resolve_mapping(table.columns, options.get("mapping"), "leads")
    rows = []
    for number, values in table.rows:
        f, columns = row_fields(values, mapping)
        if table.format == "vcf":  # a card names a person and their organisation
            f = {k: v for k, v in f.items() if k != "kind"}
            if "legal_name" in f:
                f["company_name"] = f.pop("legal_name")
        data, errors, notes = lead_payload(f, columns, number)
        result.warnings += notes
        if errors:
            result.errors += errors
            continue
        data = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in data.items()}
        rows.append((number, _with_keys({**dict.fromkeys(COLUMNS), **data})))
    return rows


def _matches(session: Session, rows: list, actor: Principal, lock: bool):
    """The visible leads the rows' email or phone keys match (locked with `lock`), by id; each key's first lead;
    the ids the caller may change."""
    emails = {r["email_key"] for _, r in rows if r["email_key"]}
    phones = {r["phone_key"] for _, r in rows if r["phone_key"]}
    current: dict[str, dict] = {}
    if emails or phones:
        stmt = (select(LEADS).where(or_(Lead.email_key.in_(emails), Lead.phone_key.in_(phones)), visible_leads(actor))
                .order_by(Lead.created_at, Lead.id))
        current = {r["id"]: dict(r) for r in session.execute(stmt.with_for_update() if lock else stmt).mappings()}
    existing: dict[tuple[str, str], str] = {}
    for lead in current.values():
        for key in _keys(lead):
            existing.setdefault(key, lead["id"])
    may_edit = set(session.execute(select(Lead.id).where(Lead.id.in_(list(current)), editable(
        "leads", "lead", Lead.id, Lead.owner_id, actor))).scalars()) if current else set()
    return current, existing, may_edit


def _decide(rows: list, current: dict, existing: dict, may_edit: set, on_duplicate: str, result: Plan,
            actor: Principal, batch_id: str | None) -> dict[str, Item]:
    """Each row's action (create, update, skip) in file order, into the plan; returns the update items by lead."""
    now = datetime.now(UTC)
    dup = Duplicates("lead", current, may_edit, on_duplicate, result)
    for number, data in rows:
        keys = _keys(data)
        match = next(((k[0], existing[k]) for k in keys if k in existing), None)
        earlier = next(((k[0], dup.in_file[k]) for k in keys if k in dup.in_file), None)
        if dup.applies(match, earlier):
            base = dup.merge_target(number, data, match, earlier, lambda lead: (
                "matches a converted lead, which imports do not change" if lead["status"] == "converted" else None))
            if base is not None:
                base.record = _with_keys({**base.record, **{k: data[k] for k in CONTACT if data.get(k) is not None}})
                dup.remember(keys, base)
            continue
        record = {**data, "id": str(uuid.uuid4()), "owner_id": actor.user_id, "status": "new", "version": 1,
                  "submissions": 0, "created_at": now, "updated_at": now, "import_batch_id": batch_id}
        item = Item(number, "create", record)
        result.items.append(item)
        dup.remember(keys, item)
    return dup.updates


def _entry(actor: Principal, record: dict, now: datetime) -> dict:
    """The "lead created" timeline entry timeline.add_entry would write."""
    return {"id": str(uuid.uuid4()), "kind": "lead_created", "title": f"Lead {record['display_name']} (import)"[:300],
            "summary": record.get("message"), "occurred_at": now, "party_id": None, "deal_id": None,
            "lead_id": record["id"], "ref_type": "lead", "ref_id": record["id"], "actor_id": actor.user_id,
            "actor": (actor.name or actor.email)[:300], "data": {"source": record["source"],
                                                                 "campaign": record.get("campaign")},
            "created_at": now}


def write(session: Session, result: Plan, batch_id: str, actor: Principal, progress) -> None:
    now = datetime.now(UTC)
    done = sum(1 for i in result.items if i.action in ("skip", "unchanged")) + len({e["row"] for e in result.errors})
    creates = [i for i in result.items if i.action == "create"]
    for part in bulk.chunks(creates):
        records = [{c: i.record.get(c) for c in COLUMNS} for i in part]
        bulk.insert_rows(session, LEADS, records)
        bulk.add_audit(session, [bulk.audit_row(actor, "import", "lead", r["id"], None, _state(r))
                                 for r in records])
        bulk.insert_rows(session, TimelineEntry.__table__, [_entry(actor, r, now) for r in records])
        done += len(part)
        progress(min(done, result.rows))
    updates = [i for i in result.items if i.action == "update"]
    for part in bulk.chunks(updates):
        for i in part:
            i.record.update(version=i.before["version"] + 1, updated_at=now)
        bulk.update_rows(session, LEADS, [i.record for i in part], [*UPDATABLE, "version", "updated_at"])
        bulk.insert_rows(session, ImportChange.__table__, [
            {"import_id": batch_id, "record_type": "lead", "record_id": i.record["id"],
             "before": {c: i.before.get(c) for c in UPDATABLE}, "version_after": i.record["version"]} for i in part])
        bulk.add_audit(session, [bulk.audit_row(actor, "import_update", "lead", i.record["id"],
                                                _state(i.before), _state(i.record))
                                 for i in part])
        done += len(part)
        progress(min(done, result.rows))


def revert(session: Session, batch_id: str, actor: Principal) -> dict:
    """Delete the leads the import created that nobody changed or points at (their own "lead created" entries go
    with them); put back what it updated where nobody changed it since."""
    now = datetime.now(UTC)
    created = {r["id"]: dict(r) for r in session.execute(
        select(LEADS).where(LEADS.c.import_batch_id == batch_id).with_for_update()).mappings()}
    kept = [{"record_id": i, "reason": "changed since the import"} for i, r in created.items() if r["version"] != 1]
    ids = sorted(i for i, r in created.items() if r["version"] == 1)
    own_entry = and_(TimelineEntry.kind == "lead_created", TimelineEntry.ref_type == "lead")
    pointed = references.referenced_ids(
        session, "leads", ids, ignore=lambda col: own_entry if col.table.name == "timeline_entries" else None) if ids \
        else set()
    kept += [{"record_id": i, "reason": "other records point at it"} for i in sorted(pointed)]
    gone = [i for i in ids if i not in pointed]
    if gone:
        session.execute(delete(TimelineEntry).where(TimelineEntry.lead_id.in_(gone), own_entry))
        session.execute(delete(RecordShare).where(RecordShare.record_type == "lead", RecordShare.record_id.in_(gone)))
        session.execute(delete(LEADS).where(LEADS.c.id.in_(gone)))
        bulk.add_audit(session, [bulk.audit_row(actor, "import_revert", "lead", i, _state(created[i]),
                                                None) for i in gone])
    changes = session.execute(select(ImportChange).where(ImportChange.import_id == batch_id,
                                                         ImportChange.record_type == "lead")).scalars().all()
    current = {r["id"]: dict(r) for r in session.execute(select(LEADS).where(
        LEADS.c.id.in_([c.record_id for c in changes])).with_for_update()).mappings()} if changes else {}
    restored = []
    for change in changes:
        row = current.get(change.record_id)
        if row is None or row["version"] != change.version_after:
            kept.append({"record_id": change.record_id, "reason": "changed since the import"})
            continue
        restored.append((row, {**row, **change.before, "version": row["version"] + 1, "updated_at": now}))
    if restored:
        bulk.update_rows(session, LEADS, [a for _, a in restored], [*UPDATABLE, "version", "updated_at"])
        bulk.add_audit(session, [bulk.audit_row(actor, "import_revert", "lead", a["id"], _state(b),
                                                _state(a)) for b, a in restored])
    return {"deleted": len(gone), "restored": len(restored), "kept": kept}


def check_may_import(actor: Principal) -> None:
    for permission in ("parties:import", "leads:create"):
        if not actor.can(permission):
            raise Problem(403, "Forbidden", f"Your roles do not grant {permission!r}.", "forbidden",
                          missing_permission=permission)
