"""Importing companies and people: plan the rows, write them in bulk with their events, revert them.

Duplicates are parties the importer can see with the same email, phone or tax id (leads/dedupe.py rules) and the
same kind, or an earlier row of the same file. A person's company_name links the person to the company of that
name the importer can see, to a company row of the file, or else to a new company created with the import.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from types import SimpleNamespace

from servicekit.auth.principal import Principal
from servicekit.problems import Problem
from shared_events.outbox import NOTIFY_CHANNEL
from sqlalchemy import BigInteger, Integer, String, and_, bindparam, column, delete, func, insert, select, text
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ..access.models import RecordShare
from ..access.visibility import editable, visible
from ..leads import dedupe
from ..merge import references
from ..merge.duplicates import key_rows, tax_key
from ..merge.service import _union as union_channels
from ..parties.events import party_event, party_state
from ..parties.models import Party
from ..parties.service import _display_name as display_name
from ..parties.service import _normalize as normalize
from . import bulk
from .fields import party_payload, resolve_mapping, row_fields
from .models import ImportChange
from .plan import MAX_ERRORS, PREVIEW_ROWS, Duplicates, Item

PARTIES = Party.__table__
COLUMNS = [c.name for c in PARTIES.columns]
EMPTY = dict.fromkeys(COLUMNS)
MATCH_REASONS = ("tax_id", "email", "phone")  # strongest first
# what an import may change on an existing party (and a revert puts back)
UPDATABLE = ("display_name", "legal_name", "first_name", "last_name", "company_id", "job_title", "roles", "tax_id",
             "emails", "phones", "website", "billing_address", "shipping_address")
SHOWN = ("id", "kind", "display_name", "legal_name", "first_name", "last_name", "company_id", "job_title", "roles",
         "tax_id", "emails", "phones", "website", "billing_address", "shipping_address")


def _keys(data: dict) -> set[tuple[str, str]]:
    """merge.duplicates.exact_keys of a row's values, limited to MATCH_REASONS (without the name keys it would
    compute for nothing): the same helpers, so the same keys (test_import_compiled checks it)."""
    kind, keys = data["kind"], set()
    for e in data.get("emails") or ():
        if k := dedupe.normalize_email(e.get("value")):
            keys.add(("email", f"{kind}:{k}"))
    for p in data.get("phones") or ():
        if k := dedupe.normalize_phone(p.get("value")):
            keys.add(("phone", f"{kind}:{k}"))
    if k := tax_key(data.get("tax_id")):
        keys.add(("tax_id", f"{kind}:{k}"))
    return keys


def _visible_active(actor: Principal):
    return and_(visible("parties", "party", Party.id, Party.owner_id, actor), Party.status == "active")


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


# -- planning, streamed, in one pass --------------------------------------------------------------------------
#
# An import of 100,000 rows must not hold 100,000 records, nor read its file twice: the file is read once, a chunk
# of PLAN_CHUNK rows at a time (Table.each), each row checked and normalised once and staged as a party to create;
# what follows is decided in SQL over temporary tables of the import's own transaction (dropped at its end, commit
# or rollback), so the worker's memory does not grow with the file:
#   import_rowkeys  every match key of every valid row (row, reason, key);
#   import_existing the keys' matches: (reason, key) -> visible active party, oldest first (one query);
#   import_stage    the parties to create, as rows of parties plus the row number, note and company name;
#   import_replan   the staged rows whose keys match a party or another row of the file: only these are read back
#                   and planned in Python, in file order, a chunk at a time (the others are creates as they are);
#   import_keys     the keys of the rows replanned so far -> the row's item (the in-file duplicate rule);
#   import_links    company key -> the company a person's company_name links to.
# A row whose keys no party and no other row of the file has is a create whatever the rule, and no other row's
# decision depends on it: so planning only the others, in file order, gives what planning every row would.
# Updates of existing parties stay in memory (one item per matched party, with its state before), as do the
# errors (the first MAX_ERRORS) and the skipped rows shown in the preview.

PLAN_CHUNK = 2000
_TEMP = """
CREATE TEMP TABLE import_stage (ord bigserial PRIMARY KEY, row integer NOT NULL, note text, link_key text,
    link_name text, self_key text, LIKE parties) ON COMMIT DROP;
CREATE INDEX import_stage_id ON import_stage (id);
CREATE INDEX import_stage_link ON import_stage (link_key) WHERE link_key IS NOT NULL;
CREATE INDEX import_stage_kind ON import_stage ((kind = 'company'), ord);
CREATE TEMP TABLE import_rowkeys (row integer NOT NULL, reason text NOT NULL, key text NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE import_existing (reason text, key text, party_id text, created_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE import_keys (reason text, key text, item_id text NOT NULL, row integer NOT NULL,
    PRIMARY KEY (key, reason)) ON COMMIT DROP;
CREATE TEMP TABLE import_links (key text PRIMARY KEY, company_id uuid NOT NULL,
    known boolean NOT NULL DEFAULT false) ON COMMIT DROP
"""
EXTRA = ("row", "note", "link_key", "link_name", "self_key")
STAGE = sql_table("import_stage", column("ord", BigInteger), column("row", Integer), column("note", String),
                  column("link_key", String), column("link_name", String), column("self_key", String),
                  *(column(c.name, c.type) for c in PARTIES.columns))
NEW_COMPANY_NOTE = "with its company from this import"
# the staged rows to plan in Python: a key of theirs matches a visible party or another row of the file
_REPLAN = """
ANALYZE import_stage;
CREATE TEMP TABLE import_replan ON COMMIT DROP AS SELECT * FROM import_stage WHERE row IN (
    SELECT k.row FROM import_rowkeys k JOIN import_existing e ON e.key = k.key AND e.reason = k.reason
    UNION
    SELECT k.row FROM import_rowkeys k JOIN (
        SELECT reason, key FROM import_rowkeys GROUP BY reason, key HAVING count(DISTINCT row) > 1
    ) d ON d.key = k.key AND d.reason = k.reason);
DELETE FROM import_stage WHERE row IN (SELECT row FROM import_replan);
CREATE INDEX ON import_replan (row);
ANALYZE import_replan
"""
REPLAN = sql_table("import_replan", *(column(c.name, c.type) for c in STAGE.columns))
# a staged row's values as the row gave them (party_payload, normalised), before _new_record added its own
DATA_FIELDS = ("kind", "legal_name", "first_name", "last_name", "job_title", "roles", "tax_id", "emails", "phones",
               "website", "billing_address", "shipping_address")


@dataclass
class StreamPlan:
    """A Plan (plan.py) whose creates wait in import_stage: the same report, from counts and the first rows."""

    target: str
    rows: int = 0
    items: list[Item] = field(default_factory=list)  # the chunk being planned
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    error_rows: int = 0
    skipped: int = 0
    created: int = 0
    updates: list[Item] = field(default_factory=list)
    shown: list[Item] = field(default_factory=list)  # the first skipped rows, for the preview
    staged_preview: list[Item] = field(default_factory=list)

    def count(self, action: str) -> int:
        return {"create": self.created, "skip": self.skipped}.get(action) or sum(
            1 for i in self.updates if i.action == action)

    def report(self, shown_fields: tuple[str, ...]) -> dict:
        items = sorted([*self.staged_preview, *self.updates, *self.shown], key=lambda i: i.row)[:PREVIEW_ROWS]
        preview = [{"row": i.row, "action": i.action, "match_id": i.match_id, "match_reason": i.match_reason,
                    "note": i.note, "record": {k: i.record.get(k) for k in shown_fields}} for i in items]
        return {"rows": self.rows, "to_create": self.created, "to_update": self.count("update"),
                "unchanged": self.count("unchanged"), "skipped": self.skipped, "error_rows": self.error_rows,
                "errors": self.errors[:MAX_ERRORS], "warnings": self.warnings[:MAX_ERRORS], "preview": preview}


def _chunked(rows: Iterable, size: int) -> Iterable[list]:
    part = []
    for row in rows:
        part.append(row)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


def plan(session: Session, table, options: dict, actor: Principal, batch_id: str | None = None,
         lock: bool = False) -> StreamPlan:
    """What each row would do, staged in temporary tables (see above); with lock, the matched parties are locked
    until the caller's transaction ends. The caller's transaction must end after the plan is written or shown."""
    now = datetime.now(UTC)
    # the key queries read every visible party once; PostgreSQL overestimates them and JIT-compiles for nothing
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text(_TEMP))
    result = StreamPlan("parties", warnings=list(table.warnings))
    mapping = None if table.format == "vcf" else resolve_mapping(table.columns, options.get("mapping"), "parties")
    _stage_file(session, table, mapping, options.get("kind"), result, actor, now, batch_id)
    _find_existing(session, actor)
    dup = Duplicates("party", {}, set(), options.get("on_duplicate", "skip"), result)
    update_links: list[tuple[Item, str]] = []
    if dup.on_duplicate != "create":  # with "create" every row is a create: nothing to replan
        session.execute(text(_REPLAN))
    after = 0
    while dup.on_duplicate != "create":
        staged = session.execute(select(REPLAN).where(REPLAN.c.row > after).order_by(REPLAN.c.row)
                                 .limit(PLAN_CHUNK)).mappings().all()
        if not staged:
            break
        after = staged[-1]["row"]
        rows = []
        for r in staged:
            data = {k: r[k] for k in DATA_FIELDS if r[k] is not None and r[k] != []}
            rows.append((r["row"], data, r["link_name"], _keys(data)))
        errors_before = len(result.errors)
        keys = set().union(*(r[3] for r in rows))
        existing = _existing_in(session, keys)
        dup.current, dup.may_edit = _matched(session, existing, actor, lock)
        dup.in_file = earlier = _earlier(session, keys, dup)
        known_keys = set(earlier)
        result.items = []
        people = _decide(rows, existing, dup, actor, now, batch_id)
        for item, name in people:
            if item.action == "create":
                item.record["_link_name"] = name  # the last row's company name wins, as in the file's order
            else:
                update_links.append((item, name))
        _stage_chunk(session, result, dup, earlier, known_keys)
        result.error_rows += len({e["row"] for e in result.errors[errors_before:]})
        del result.errors[MAX_ERRORS:]
    _link_companies(session, result, dup, update_links, actor, now, batch_id)
    for item in dup.updates.values():
        changed = any(item.record.get(c) != item.before.get(c) for c in UPDATABLE)
        item.action = "update" if changed else "unchanged"
    result.updates = sorted(dup.updates.values(), key=lambda i: i.row)
    result.created = session.execute(select(func.count()).select_from(STAGE)).scalar_one()
    shown = [STAGE.c[c] for c in COLUMNS]
    result.staged_preview = [Item(r.row, "create", dict(r._mapping), note=r.note) for r in session.execute(
        select(STAGE.c.row, STAGE.c.note, *shown).order_by(STAGE.c.row, STAGE.c.ord).limit(PREVIEW_ROWS))]
    return result


def _stage_file(session: Session, table, mapping, kind: str | None, result: StreamPlan, actor: Principal,
                now: datetime, batch_id: str | None) -> None:
    """The one pass over the file: each row checked and normalised (the errors kept), staged as a create, its
    match keys into import_rowkeys."""
    for part in _chunked(table.each(), PLAN_CHUNK):
        result.rows += len(part)
        items, keys = [], []
        errors_before = len(result.errors)
        for number, values in part:
            f, columns = row_fields(values, mapping)
            data, company_name, errors = party_payload(f, columns, number, kind)
            if errors:
                result.errors += errors
                continue
            data = normalize(data)
            keys.extend((number, reason, key) for reason, key in _keys(data))
            record = _new_record(data, actor, now, batch_id)
            if company_name:
                record["_link_name"] = company_name
            items.append(Item(number, "create", record))
        _stage(session, items)
        bulk.copy_rows(session, "import_rowkeys", ["row", "reason", "key"], keys)
        result.error_rows += len({e["row"] for e in result.errors[errors_before:]})
        del result.errors[MAX_ERRORS:]


def _find_existing(session: Session, actor: Principal) -> None:
    """The visible active parties with one of the file's keys into import_existing, in one query."""
    session.execute(text("ANALYZE import_rowkeys"))
    rows = key_rows(_visible_active(actor), reasons=MATCH_REASONS)
    wanted = sql_table("import_rowkeys", column("key", String))
    target = sql_table("import_existing", column("reason"), column("key"), column("party_id"), column("created_at"))
    session.execute(insert(target).from_select(
        ["reason", "key", "party_id", "created_at"],
        select(rows.c.reason, rows.c.key, rows.c.party_id, Party.created_at).join(Party, Party.id == rows.c.party_id)
        .where(rows.c.key.in_(select(wanted.c.key).distinct()))))
    session.execute(text("CREATE INDEX ON import_existing (key); ANALYZE import_existing"))


def _existing_in(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """{(reason, key): [ids of visible active parties with it], oldest first}, for a chunk's keys."""
    if not keys:
        return {}
    found: dict[tuple[str, str], list[str]] = {}
    for reason, key, party_id in session.execute(text(
            "SELECT reason, key, party_id FROM import_existing WHERE key = ANY(:keys) ORDER BY created_at, party_id"),
            {"keys": sorted({k for _, k in keys})}):
        if (reason, key) in keys and party_id not in found.setdefault((reason, key), []):
            found[(reason, key)].append(party_id)
    return found


def _matched(session: Session, existing: dict, actor: Principal, lock: bool) -> tuple[dict, set]:
    """The matched parties' rows (locked with `lock`) by id, and the ids the caller may change."""
    matched_ids = sorted({i for ids in existing.values() for i in ids})
    if not matched_ids:
        return {}, set()
    stmt = select(PARTIES).where(PARTIES.c.id.in_(matched_ids))
    current = {r["id"]: dict(r) for r in session.execute(stmt.with_for_update() if lock else stmt).mappings()}
    may_edit = set(session.execute(select(Party.id).where(Party.id.in_(matched_ids), editable(
        "parties", "party", Party.id, Party.owner_id, actor))).scalars())
    return current, may_edit


def _earlier(session: Session, keys: set[tuple[str, str]], dup: Duplicates) -> dict[tuple[str, str], Item]:
    """The items of earlier rows (earlier chunks) with one of `keys`: update items from memory, staged creates from
    import_stage (whole when rows may merge into them, else only their id)."""
    if not keys:
        return {}
    out, staged = {}, {}
    for reason, key, item_id, row in session.execute(text(
            "SELECT reason, key, item_id, row FROM import_keys WHERE key = ANY(:keys)"),
            {"keys": sorted({k for _, k in keys})}):
        if (reason, key) not in keys:
            continue
        item = dup.updates.get(item_id)
        if item is None:
            item = staged.setdefault(item_id, Item(row, "create", {"id": item_id}))
        out[(reason, key)] = item
    if staged and dup.on_duplicate == "update":
        for r in session.execute(select(STAGE).where(STAGE.c.id.in_(list(staged)))).mappings():
            item = staged[r["id"]]
            item.record = {**{c: r[c] for c in COLUMNS}, "_ord": r["ord"], "_link_name": r["link_name"]}
            item.note = r["note"]
            item.match_id = "staged"  # marks an item to write back to import_stage if a row merges into it
    return out


def _decide(rows: list, existing: dict, dup: Duplicates, actor: Principal, now: datetime,
            batch_id: str | None) -> list:
    """Each row's action (create, update, skip) in file order, into the plan's chunk; returns the (item, company
    name) pairs of people to link to their company."""
    people = []
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
        dup.plan.items.append(item)
        dup.remember(keys, item)
        if company_name:
            people.append((item, company_name))
    return people


def _stage_chunk(session: Session, result: StreamPlan, dup: Duplicates, earlier: dict, known_keys: set) -> None:
    """A planned chunk out of memory: new creates into import_stage (and staged ones a row merged into, again),
    its new keys into import_keys, its skips counted (the first ones kept for the preview)."""
    merged = {i.record["id"]: i for i in earlier.values() if i.match_id == "staged" and "_ord" in i.record}
    if merged:
        session.execute(delete(STAGE).where(STAGE.c.id.in_(list(merged))))
        _stage(session, merged.values(), with_ord=True)
    _stage(session, [i for i in result.items if i.action == "create"])
    for item in result.items:
        if item.action == "skip":
            result.skipped += 1
            if len(result.shown) < PREVIEW_ROWS:
                result.shown.append(item)
    bulk.copy_rows(session, "import_keys", ["reason", "key", "item_id", "row"], (
        (reason, key, item.record["id"], item.row) for (reason, key), item in dup.in_file.items()
        if (reason, key) not in known_keys))
    result.items = []


# the people of a file name the same companies over and over: their keys are computed once per name (bounded)
_company_key = lru_cache(maxsize=4096)(dedupe.company_key)


def _stage(session: Session, items, with_ord: bool = False) -> None:
    columns = [*(("ord",) if with_ord else ()), *EXTRA, *COLUMNS]

    def row(item: Item) -> tuple:
        record = item.record
        link = record.get("_link_name")
        self_key = _company_key(record.get("legal_name")) if record["kind"] == "company" else None
        extra = (item.row, item.note, _company_key(link) if link else None, link, self_key)
        return (*((record["_ord"],) if with_ord else ()), *extra, *(record.get(c) for c in COLUMNS))

    bulk.copy_rows(session, "import_stage", columns, (row(i) for i in items), arrays=("roles",))


def _link_companies(session: Session, result: StreamPlan, dup: Duplicates, update_links: list, actor: Principal,
                    now: datetime, batch_id: str | None) -> None:
    """Each person's company_name becomes a company_id: a company row of the file, a company the importer can
    see, or a new company created by this import (import_links, then one UPDATE of import_stage)."""
    session.execute(text(
        "INSERT INTO import_links (key, company_id) SELECT DISTINCT ON (self_key) self_key, id FROM import_stage "
        "WHERE self_key IS NOT NULL ORDER BY self_key, row DESC, ord DESC"))
    in_memory = [(dedupe.company_key(i.record.get("legal_name")), i.record["id"]) for i in dup.updates.values()
                 if i.record.get("kind") == "company"]
    bulk_links = [(k, i) for k, i in in_memory if k]
    if bulk_links:
        session.execute(text("INSERT INTO import_links (key, company_id) VALUES (:k, :i) ON CONFLICT DO NOTHING"),
                        [{"k": k, "i": i} for k, i in bulk_links])
    linked_updates = [(i, dedupe.company_key(n), n) for i, n in update_links if dedupe.company_key(n)]
    # companies the importer can see, for the names no row of the file gives
    pending = "NOT EXISTS (SELECT 1 FROM import_links l WHERE l.key = s.link_key)"
    after = ""
    while True:
        names = list(session.execute(text(
            f"SELECT DISTINCT link_key FROM import_stage s WHERE link_key > :after AND {pending} "
            "ORDER BY link_key LIMIT :n"), {"after": after, "n": PLAN_CHUNK}).scalars())
        if not names:
            break
        after = names[-1]
        _add_links(session, _companies_by_name(session, set(names), actor))
    _add_links(session, _companies_by_name(session, {k for _, k, _ in linked_updates if not _link_of(session, k)},
                                           actor))
    # the others: a new company each, named as the first person who gives the name writes it
    while True:
        new = session.execute(text(
            f"SELECT DISTINCT ON (link_key) link_key, link_name, row FROM import_stage s WHERE link_key IS NOT NULL "
            f"AND {pending} ORDER BY link_key, row, ord LIMIT :n"), {"n": PLAN_CHUNK}).all()
        if not new:
            break
        _new_companies(session, new, actor, now, batch_id)
    for item, key, name in linked_updates:
        if not _link_of(session, key):
            _new_companies(session, [(key, name, item.row)], actor, now, batch_id)
    session.execute(text(
        "UPDATE import_stage s SET company_id = l.company_id, note = CASE WHEN l.known THEN s.note "
        f"ELSE coalesce(s.note, '{NEW_COMPANY_NOTE}') END FROM import_links l WHERE s.link_key = l.key"))
    for item, key, _ in linked_updates:
        item.record["company_id"] = _link_of(session, key)


def _link_of(session: Session, key: str) -> str | None:
    return session.execute(text("SELECT company_id::text FROM import_links WHERE key = :k"), {"k": key}).scalar()


def _add_links(session: Session, known: dict[str, str]) -> None:
    if known:
        session.execute(text("INSERT INTO import_links (key, company_id, known) VALUES (:k, :i, true) "
                             "ON CONFLICT DO NOTHING"), [{"k": k, "i": i} for k, i in known.items()])


def _new_companies(session: Session, new: list, actor: Principal, now: datetime, batch_id: str | None) -> None:
    """(company key, name, row of the first person) -> a company created by the import, staged and linked."""
    companies = [Item(0, "create", _new_record({"kind": "company", "legal_name": name.strip()}, actor, now,
                                               batch_id), note=f"company of row {row}") for _, name, row in new]
    _stage(session, companies)
    bulk.copy_rows(session, "import_links", ["key", "company_id"],
                   ((key, c.record["id"]) for (key, _, _), c in zip(new, companies, strict=True)))


# -- writing -------------------------------------------------------------------------------------------------

_UTC_ISO = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'"
# party_state (parties/events.py) of a staged row in SQL, as (key, expression, may be NULL): the same keys, the
# same JSON types (test_import_events compares the result with the API's event)
STATE = (("id", "id", False), ("kind", "kind", False), ("display_name", "display_name", False),
         ("legal_name", "legal_name", True), ("first_name", "first_name", True), ("last_name", "last_name", True),
         ("company_id", "company_id", True), ("job_title", "job_title", True),
         ("roles", "to_jsonb(coalesce(roles, '{}'))", False), ("tax_id", "tax_id", True),
         ("emails", "coalesce(emails, '[]')", False), ("phones", "coalesce(phones, '[]')", False),
         ("website", "website", True), ("billing_address", "billing_address", True),
         ("shipping_address", "shipping_address", True), ("owner_id", "owner_id", True), ("status", "status", False),
         ("merged_into_id", "merged_into_id", True), ("version", "version", False),
         ("created_at", f"to_char(created_at AT TIME ZONE 'UTC', {_UTC_ISO})", False),
         ("updated_at", f"to_char(updated_at AT TIME ZONE 'UTC', {_UTC_ISO})", False))


def write(session: Session, result: StreamPlan, batch_id: str, actor: Principal, progress) -> None:
    """The staged parties in one INSERT ... SELECT (companies first: people point at them), then their events and
    audit rows built in SQL from the staged rows (bulk.insert_created), a chunk at a time for the progress; then
    the updates in batched statements."""
    done = result.skipped + sum(1 for i in result.updates if i.action == "unchanged") + result.error_rows
    names = ", ".join(COLUMNS)
    session.execute(text(f"INSERT INTO parties ({names}) SELECT {names} FROM import_stage "
                         "ORDER BY kind <> 'company', ord"))
    session.execute(text("ANALYZE import_stage"))  # a temporary table has no statistics: the chunks use the index
    for companies in (True, False):
        last, written = 0, bulk.CHUNK
        while written == bulk.CHUNK:
            last, written, rows = bulk.insert_created(session, "import_stage", STATE, "party", "crm.party.created",
                                                      actor, companies, last)
            done += rows
            if written:
                progress(min(done, result.rows))
    session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    now = datetime.now(UTC)
    updates = [i for i in result.updates if i.action == "update"]
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
