"""Importing companies and people: plan the rows, write them in bulk with their events, revert them.

Duplicates are parties the importer can see with the same email, phone or tax id (leads/dedupe.py rules) and the
same kind, or an earlier row of the same file. A person's company_name links the person to the company of that
name the importer can see, to a company row of the file, or else to a new company created with the import.
"""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from servicekit.auth.principal import Principal
from servicekit.problems import Problem
from sqlalchemy import String, and_, bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ..access.models import RecordShare
from ..access.visibility import editable, visible
from ..leads import dedupe
from ..merge import references
from ..merge.duplicates import exact_keys, key_rows
from ..merge.service import _union as union_channels
from ..parties.events import party_event, party_state
from ..parties.models import Party
from ..parties.service import _display_name as display_name
from ..parties.service import _normalize as normalize
from . import bulk
from .fields import party_payload, resolve_mapping, row_fields
from .models import ImportChange
from .plan import Duplicates, Item, Plan

PARTIES = Party.__table__
COLUMNS = [c.name for c in PARTIES.columns]
EMPTY = dict.fromkeys(COLUMNS)
MATCH_REASONS = ("tax_id", "email", "phone")  # strongest first
# what an import may change on an existing party (and a revert puts back)
UPDATABLE = ("display_name", "legal_name", "first_name", "last_name", "company_id", "job_title", "roles", "tax_id",
             "emails", "phones", "website", "billing_address", "shipping_address")
SHOWN = ("id", "kind", "display_name", "legal_name", "first_name", "last_name", "company_id", "job_title", "roles",
         "tax_id", "emails", "phones", "website", "billing_address", "shipping_address")


def _keys(record: dict) -> set[tuple[str, str]]:
    return {k for k in exact_keys(SimpleNamespace(**record)) if k[0] in MATCH_REASONS}


def _visible_active(actor: Principal):
    return and_(visible("parties", "party", Party.id, Party.owner_id, actor), Party.status == "active")


def _existing(session: Session, keys: set[tuple[str, str]], actor: Principal) -> dict[tuple[str, str], list[str]]:
    """{(reason, key): [ids of visible active parties with it], oldest first}."""
    if not keys:
        return {}
    rows = key_rows(_visible_active(actor), reasons=MATCH_REASONS)
    wanted = bindparam("wanted", sorted({k for _, k in keys}), type_=ARRAY(String))
    found: dict[tuple[str, str], list[str]] = {}
    stmt = (select(rows.c.reason, rows.c.key, rows.c.party_id).join(Party, Party.id == rows.c.party_id)
            .where(rows.c.key.in_(select(func.unnest(wanted))))  # a hashed lookup, not a scan of the array
            .order_by(Party.created_at, Party.id))
    for reason, key, party_id in session.execute(stmt):
        if (reason, key) in keys and party_id not in found.setdefault((reason, key), []):
            found[(reason, key)].append(party_id)
    return found


def _companies_by_name(session: Session, names: set[str], actor: Principal) -> dict[str, str]:
    """{company_key: id of the oldest visible active company with that name}."""
    if not names:
        return {}
    rows = key_rows(and_(_visible_active(actor), Party.kind == "company"), "names", reasons=("name",))
    wanted = bindparam("names", sorted(f"company:{dedupe.compact(n)}" for n in names), type_=ARRAY(String))
    out: dict[str, str] = {}
    for party in session.execute(select(Party).join(rows, rows.c.party_id == Party.id)
                                 .where(rows.c.key.in_(select(func.unnest(wanted))))
                                 .order_by(Party.created_at, Party.id)).scalars():
        key = dedupe.company_key(party.legal_name or party.display_name)
        if key in names:
            out.setdefault(key, party.id)
    return out


def _new_record(data: dict, actor: Principal, now: datetime, batch_id: str | None) -> dict:
    """The new party's values, without the empty columns (a plan holds one per row; `_full` adds them). `data`
    becomes the record (the row's values are not needed apart from it)."""
    record = data
    record.update(id=str(uuid.uuid4()), roles=data.get("roles") or [], emails=data.get("emails") or [],
                  phones=data.get("phones") or [], owner_id=actor.user_id, status="active", version=1,
                  created_at=now, updated_at=now, import_batch_id=batch_id,
                  display_name=display_name(data["kind"], data.get("legal_name"), data.get("first_name"),
                                            data.get("last_name")))
    return record


def _full(record: dict) -> dict:
    """Every column of the row, as the multi-row INSERT names them."""
    return {**EMPTY, **record}


def _apply(record: dict, data: dict) -> dict:
    """The record with the row's values: given fields replace, addresses merge, roles and channels unite."""
    new = dict(record)
    for name in ("legal_name", "first_name", "last_name", "job_title", "tax_id", "website", "company_id"):
        if data.get(name):
            new[name] = data[name]
    for name in ("billing_address", "shipping_address"):
        if data.get(name):
            new[name] = {**(record.get(name) or {}), **data[name]}
    new["roles"] = sorted(set(record.get("roles") or []) | set(data.get("roles") or []))
    new["emails"] = union_channels([record.get("emails"), data.get("emails")], dedupe.normalize_email)
    new["phones"] = union_channels([record.get("phones"), data.get("phones")], dedupe.normalize_phone)
    new["display_name"] = display_name(new["kind"], new.get("legal_name"), new.get("first_name"),
                                       new.get("last_name"))
    return new


def plan(session: Session, table, options: dict, actor: Principal, batch_id: str | None = None,
         lock: bool = False) -> Plan:
    """What each row would do; with lock, the matched parties are locked until the caller's transaction ends."""
    now = datetime.now(UTC)
    # the key queries read every visible party once; PostgreSQL overestimates them and JIT-compiles for nothing
    session.execute(text("SET LOCAL jit = off"))
    result = Plan("parties", len(table.rows), warnings=list(table.warnings))
    rows = _read_rows(table, options, result)
    existing, current, may_edit = _matches(session, rows, actor, lock)
    updates, people = _decide(rows, existing, current, may_edit, options.get("on_duplicate", "skip"), result,
                              actor, now, batch_id)
    _link_companies(session, result, people, actor, now, batch_id)
    for item in updates.values():
        changed = any(item.record.get(c) != item.before.get(c) for c in UPDATABLE)
        item.action = "update" if changed else "unchanged"
    return result


def _read_rows(table, options: dict, result: Plan) -> list[tuple]:
    """(row number, party values, company name, match keys) of the rows that make a party; the others' errors go
    to the plan."""
    mapping = None if table.format == "vcf" else resolve_mapping(table.columns, options.get("mapping"), "parties")
    rows = []
    table.rows.reverse()  # read from the end, so that each parsed row is let go once it is converted
    while table.rows:
        number, values = table.rows.pop()
        f, columns = row_fields(values, mapping)
        data, company_name, errors = party_payload(f, columns, number, options.get("kind"))
        if errors:
            result.errors += errors
            continue
        data = normalize(data)
        rows.append((number, data, company_name, _keys({**EMPTY, **data})))
    return rows


def _matches(session: Session, rows: list, actor: Principal, lock: bool):
    """The visible parties the rows' keys match: key -> party ids, the matched parties' rows (locked with
    `lock`) by id, and the ids the caller may change."""
    existing = _existing(session, set().union(*(r[3] for r in rows)), actor)
    matched_ids = sorted({i for ids in existing.values() for i in ids})
    current, may_edit = {}, set()
    if matched_ids:
        stmt = select(PARTIES).where(PARTIES.c.id.in_(matched_ids))
        current = {r["id"]: dict(r) for r in session.execute(
            stmt.with_for_update() if lock else stmt).mappings()}
        may_edit = set(session.execute(select(Party.id).where(Party.id.in_(matched_ids), editable(
            "parties", "party", Party.id, Party.owner_id, actor))).scalars())
    return existing, current, may_edit


def _decide(rows: list, existing: dict, current: dict, may_edit: set, on_duplicate: str, result: Plan,
            actor: Principal, now: datetime, batch_id: str | None) -> tuple[dict[str, Item], list]:
    """Each row's action (create, update, skip) in file order, into the plan; returns the update items by party
    and the (item, company name) pairs of people to link to their company."""
    dup = Duplicates("party", current, may_edit, on_duplicate, result)
    people = []  # (item, company name) to link once every company row is known
    for number, data, company_name, keys in rows:
        ordered = sorted(keys, key=lambda k: (MATCH_REASONS.index(k[0]), k[1]))
        match = next(((k[0], existing[k][0]) for k in ordered if k in existing), None)
        earlier = next(((k[0], dup.in_file[k]) for k in ordered if k in dup.in_file), None)
        if dup.applies(match, earlier):
            base = dup.merge_target(number, data, match, earlier)
            if base is not None:
                base.record = _apply(base.record, data)
                if company_name:
                    people.append((base, company_name))
                dup.remember(keys, base)
            continue
        item = Item(number, "create", _new_record(data, actor, now, batch_id))
        result.items.append(item)
        dup.remember(keys, item)
        if company_name:
            people.append((item, company_name))
    return dup.updates, people


def _link_companies(session: Session, result: Plan, people: list, actor: Principal, now: datetime,
                    batch_id: str | None) -> None:
    """Each person's company_name becomes a company_id: a company row of the file, a company the importer can
    see, or a new company created by this import."""
    in_file = {dedupe.company_key(i.record.get("legal_name")): i.record["id"] for i in result.items
               if i.action in ("create", "update") and i.record.get("kind") == "company"}
    names = {dedupe.company_key(n) for _, n in people} - {None}
    known = _companies_by_name(session, names - set(in_file), actor)
    for item, name in people:
        key = dedupe.company_key(name)
        if not key:
            continue
        company_id = in_file.get(key) or known.get(key)
        if company_id is None:
            company = Item(0, "create", _new_record({"kind": "company", "legal_name": name.strip()}, actor, now,
                                                    batch_id), note=f"company of row {item.row}")
            result.items.append(company)
            company_id = in_file[key] = company.record["id"]
        item.record["company_id"] = company_id
        if item.action == "create" and company_id not in known.values():
            item.note = item.note or "with its company from this import"


# -- writing -------------------------------------------------------------------------------------------------

def write(session: Session, result: Plan, batch_id: str, actor: Principal, progress) -> None:
    """Companies first (people point at them), then people, then updates: batched statements, events, audit."""
    creates = sorted((i for i in result.items if i.action == "create"), key=lambda i: i.record["kind"] != "company")
    done = sum(1 for i in result.items if i.action in ("skip", "unchanged")) + len({e["row"] for e in result.errors})
    for part in bulk.chunks(creates):
        records = [_full(i.record) for i in part]
        bulk.insert_rows(session, PARTIES, records)
        parties = [SimpleNamespace(**r) for r in records]  # what party_state reads, without ORM instrumentation
        bulk.add_events(session, [party_event("created", p, actor) for p in parties], "party")
        bulk.add_audit(session, [bulk.audit_row(actor, "import", "party", p.id, None, party_state(p))
                                 for p in parties])
        done += sum(1 for i in part if i.row)
        progress(min(done, result.rows))
    now = datetime.now(UTC)
    updates = [i for i in result.items if i.action == "update"]
    for part in bulk.chunks(updates):
        for i in part:
            i.record.update(version=i.before["version"] + 1, updated_at=now)
        bulk.update_rows(session, PARTIES, [i.record for i in part], [*UPDATABLE, "version", "updated_at"])
        bulk.insert_rows(session, ImportChange.__table__, [
            {"import_id": batch_id, "record_type": "party", "record_id": i.record["id"],
             "before": _jsonable(i.before), "version_after": i.record["version"]} for i in part])
        pairs = [(SimpleNamespace(**i.before), SimpleNamespace(**i.record)) for i in part]
        bulk.add_events(session, [party_event("updated", after, actor) for _, after in pairs], "party")
        bulk.add_audit(session, [bulk.audit_row(actor, "import_update", "party", after.id, party_state(before),
                                                party_state(after)) for before, after in pairs])
        done += len(part)
        progress(min(done, result.rows))


def _jsonable(record: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in record.items() if k in UPDATABLE
            or k in ("id", "version", "status")}


# -- reverting -----------------------------------------------------------------------------------------------

def revert(session: Session, batch_id: str, actor: Principal) -> dict:
    """Delete the parties the import created that nobody changed or points at; put back what it updated where
    nobody changed it since. Announces crm.party.archived for the deleted ones, crm.party.updated for the others."""
    now = datetime.now(UTC)
    kept = []
    created = {r["id"]: dict(r) for r in session.execute(
        select(PARTIES).where(PARTIES.c.import_batch_id == batch_id).with_for_update()).mappings()}
    doomed = {i for i, r in created.items() if r["version"] == 1}
    kept += [{"record_id": i, "reason": "changed since the import"} for i in created if i not in doomed]
    while doomed:  # a party kept because it is referenced may keep its company in turn
        ids = sorted(doomed)
        pointed = references.referenced_ids(
            session, "parties", ids,
            ignore=lambda col, ids=ids: col.table.c.id.in_(ids) if col.table.name == "parties" else None)
        if not pointed:
            break
        doomed -= pointed
        kept += [{"record_id": i, "reason": "other records point at it"} for i in sorted(pointed)]
    gone = [created[i] for i in sorted(doomed)]
    if gone:
        ids = [r["id"] for r in gone]
        session.execute(delete(RecordShare).where(RecordShare.record_type == "party", RecordShare.record_id.in_(ids)))
        session.execute(delete(PARTIES).where(PARTIES.c.id.in_(ids)))
        finals = [SimpleNamespace(**{**r, "status": "archived", "archived_at": now, "updated_at": now,
                           "version": r["version"] + 1}) for r in gone]
        for part in bulk.chunks(finals):
            bulk.add_events(session, [party_event("archived", p, actor) for p in part], "party")
            bulk.add_audit(session, [bulk.audit_row(actor, "import_revert", "party", p.id, party_state(p), None)
                                     for p in part])

    changes = session.execute(select(ImportChange).where(ImportChange.import_id == batch_id,
                                                         ImportChange.record_type == "party")).scalars().all()
    current = {r["id"]: dict(r) for r in session.execute(select(PARTIES).where(
        PARTIES.c.id.in_([c.record_id for c in changes])).with_for_update()).mappings()} if changes else {}
    restored = []
    for change in changes:
        now_row = current.get(change.record_id)
        if now_row is None or now_row["version"] != change.version_after:
            kept.append({"record_id": change.record_id, "reason": "changed since the import"})
            continue
        restored.append((now_row, {**now_row, **{c: change.before.get(c) for c in UPDATABLE},
                                   "version": now_row["version"] + 1, "updated_at": now}))
    for part in bulk.chunks(restored):
        bulk.update_rows(session, PARTIES, [after for _, after in part], [*UPDATABLE, "version", "updated_at"])
        pairs = [(SimpleNamespace(**b), SimpleNamespace(**a)) for b, a in part]
        bulk.add_events(session, [party_event("updated", a, actor) for _, a in pairs], "party")
        bulk.add_audit(session, [bulk.audit_row(actor, "import_revert", "party", a.id, party_state(b),
                                                party_state(a)) for b, a in pairs])
    return {"deleted": len(gone), "restored": len(restored), "kept": kept}


def check_may_import(actor: Principal) -> None:
    if not actor.can("parties:import"):
        raise Problem(403, "Forbidden", "Your roles do not grant 'parties:import'.", "forbidden",
                      missing_permission="parties:import")
