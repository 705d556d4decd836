"""Likely duplicate parties: the same email, phone, tax id, company name, or person name at the same company.

The rules are those of leads/dedupe.py. SQL narrows the parties down with coarse keys (grouped in the database, so
only parties that share a key are loaded); Python confirms each match with the exact normalizations and scores it.
Parties of different kinds are never duplicates (a company and a person cannot be merged).
"""

from dataclasses import dataclass, field

from servicekit.auth.principal import Principal
from sqlalchemy import String, and_, cast, func, literal, select, text, true, union_all
from sqlalchemy.orm import Session

from ..access.visibility import visible
from ..leads import dedupe
from ..parties.models import Party
from ..parties.service import find_party

# How much each kind of evidence says on its own (0-1); several combine as 1 - prod(1 - w).
WEIGHTS = {"tax_id": 0.95, "email": 0.9, "name": 0.7, "phone": 0.6}
# A key shared by more parties than this is a switchboard number or a generic address, not evidence.
MAX_BUCKET = 25
MAX_CANDIDATES = 10_000
PARTY_DUPLICATES_LIMIT = 50
TAX_ID_MIN = 4

_SUFFIXES = "|".join(sorted(dedupe.LEGAL_SUFFIXES))


def tax_key(value: str | None) -> str | None:
    """A tax id without spaces, dots or dashes, in capitals: "fr 12-345 678" -> "FR12345678"."""
    key = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    return key if len(key) >= TAX_ID_MIN else None


def exact_keys(p: Party) -> set[tuple[str, str]]:
    """(reason, key) pairs that identify the party, by the dedupe rules; the kind is part of every key."""
    keys = set()
    for e in p.emails or []:
        if k := dedupe.normalize_email(e.get("value")):
            keys.add(("email", k))
    for ph in p.phones or []:
        if k := dedupe.normalize_phone(ph.get("value")):
            keys.add(("phone", k))
    if k := tax_key(p.tax_id):
        keys.add(("tax_id", k))
    if p.kind == "company":
        if k := dedupe.company_key(p.legal_name or p.display_name):
            keys.add(("name", k))
    elif p.company_id and (k := dedupe.person_key(p.first_name, p.last_name)):
        keys.add(("name", f"{k} @{p.company_id}"))
    return {(reason, f"{p.kind}:{key}") for reason, key in keys}


# -- coarse keys in SQL --------------------------------------------------------------------------------------

def _words(column):
    """lower(unaccent(text)) with every run of other characters as one space (dots dropped, as dedupe does)."""
    return func.trim(func.regexp_replace(func.lower(func.unaccent(func.replace(column, ".", ""))),
                                         "[^[:alnum:]]+", " ", "g"))


def key_rows(where, name: str = "keys", reasons=("email", "phone", "tax_id", "name")):
    """(party_id, reason, key) for every party matching `where`: a coarser twin of exact_keys (names lose their
    spaces, lower() stands in for casefold), so SQL never misses what Python would match. `reasons` limits the
    work to the keys the caller compares."""
    e = func.jsonb_array_elements(Party.emails).table_valued("value").alias(f"{name}_e")
    email = func.lower(func.trim(e.c.value.op("->>")("value")))
    p = func.jsonb_array_elements(Party.phones).table_valued("value").alias(f"{name}_p")
    digits = func.regexp_replace(p.c.value.op("->>")("value"), "[^0-9]", "", "g")
    tax = func.upper(func.regexp_replace(Party.tax_id, "[^[:alnum:]]+", "", "g"))
    company = func.replace(func.regexp_replace(_words(Party.display_name), rf"(\s+({_SUFFIXES}))+$", ""), " ", "")
    person = func.regexp_replace(func.lower(func.unaccent(func.concat_ws(" ", Party.first_name, Party.last_name))),
                                 "[^[:alnum:]]+", "", "g")

    def rows(reason, key, *conditions, join=None):
        stmt = select(Party.id.label("party_id"), literal(reason).label("reason"),
                      (Party.kind + ":" + key).label("key"))
        stmt = stmt.select_from(Party.__table__.join(join, true()) if join is not None else Party.__table__)
        return stmt.where(where, *conditions)

    branches = {
        "email": [rows("email", email, email.contains("@"), join=e)],
        "phone": [rows("phone", func.right(digits, dedupe.PHONE_KEY_DIGITS),
                       func.char_length(digits) >= dedupe.PHONE_MIN_DIGITS, join=p)],
        "tax_id": [rows("tax_id", tax, func.char_length(tax) >= TAX_ID_MIN)],
        "name": [rows("name", company, Party.kind == "company", func.char_length(company) > 0),
                 rows("name", person + " @" + cast(Party.company_id, String),
                      Party.kind == "person", Party.company_id.is_not(None), func.char_length(person) > 0)],
    }
    return union_all(*(b for r in reasons for b in branches[r])).subquery(name)


def _scope(actor: Principal, include_archived: bool, kind: str | None):
    conditions = [visible("parties", "party", Party.id, Party.owner_id, actor),
                  Party.status.in_(("active", "archived") if include_archived else ("active",))]
    if kind:
        conditions.append(Party.kind == kind)
    return and_(*conditions)


# -- scoring and grouping ------------------------------------------------------------------------------------

def score(reasons) -> int:
    """0-100: how sure we are that two parties with this evidence are the same."""
    doubt = 1.0
    for reason in set(reasons):
        doubt *= 1 - WEIGHTS[reason]
    return round(100 * (1 - doubt))


@dataclass
class _Groups:
    """Union-find; a group's strength is its weakest link (links are added strongest first)."""

    parent: dict = field(default_factory=dict)
    strength: dict = field(default_factory=dict)

    def find(self, x):
        while self.parent.setdefault(x, x) != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b, link: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        self.parent[rb] = ra
        self.strength[ra] = min(link, self.strength.get(ra, 100), self.strength.get(rb, 100))


def _buckets(parties: list[Party]) -> dict[tuple[str, str], list[Party]]:
    buckets: dict[tuple[str, str], list[Party]] = {}
    for p in parties:
        for key in exact_keys(p):
            buckets.setdefault(key, []).append(p)
    return {k: v for k, v in buckets.items() if 1 < len(v) <= MAX_BUCKET}


def _pair_reasons(buckets) -> dict[tuple[str, str], set[str]]:
    pairs: dict[tuple[str, str], set[str]] = {}
    for (reason, _), members in buckets.items():
        ids = sorted(m.id for m in members)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                pairs.setdefault((a, b), set()).add(reason)
    return pairs


def _completeness(p: Party) -> int:
    filled = sum(1 for f in ("legal_name", "first_name", "last_name", "job_title", "company_id", "tax_id", "website",
                             "billing_address", "shipping_address") if getattr(p, f))
    return filled + len(p.emails or []) + len(p.phones or [])


def _summary(p: Party) -> dict:
    return {"id": p.id, "kind": p.kind, "display_name": p.display_name, "company_id": p.company_id,
            "email": next((e.get("value") for e in p.emails or []), None),
            "phone": next((x.get("value") for x in p.phones or []), None),
            "tax_id": p.tax_id, "status": p.status, "owner_id": p.owner_id, "version": p.version,
            "created_at": p.created_at}


def _shown(key: str) -> str:
    """The normalized value users recognise: without the kind prefix and a person's company id."""
    return key.split(":", 1)[1].split(" @", 1)[0]


def find_duplicate_groups(session: Session, args: dict, actor: Principal) -> dict:
    """Groups of parties the caller can see that are probably one company or person, most certain first."""
    session.execute(text("SET LOCAL jit = off"))  # one pass over the visible parties: JIT costs more than it saves
    keys = key_rows(_scope(actor, args.get("include_archived", False), args.get("kind")))
    shared = (select(keys.c.reason, keys.c.key).group_by(keys.c.reason, keys.c.key)
              .having(func.count(func.distinct(keys.c.party_id)).between(2, MAX_BUCKET)).subquery("shared"))
    candidate_ids = (select(keys.c.party_id).join(shared, and_(shared.c.reason == keys.c.reason,
                                                               shared.c.key == keys.c.key)).distinct())
    parties = list(session.execute(select(Party).where(Party.id.in_(candidate_ids))
                                   .order_by(Party.created_at, Party.id).limit(MAX_CANDIDATES)).scalars())
    buckets = _buckets(parties)
    groups = _Groups()
    for (a, b), reasons in sorted(_pair_reasons(buckets).items(), key=lambda kv: (-score(kv[1]), kv[0])):
        groups.union(a, b, score(reasons))
    by_id = {p.id: p for p in parties}
    members: dict[str, list[Party]] = {}
    for pid in groups.parent:
        members.setdefault(groups.find(pid), []).append(by_id[pid])
    out = []
    for root, group in members.items():
        ids = {p.id for p in group}
        matches = [{"reason": reason, "value": _shown(key), "party_ids": sorted(m.id for m in ms)}
                   for (reason, key), ms in buckets.items() if ms[0].id in ids]
        group.sort(key=lambda p: (p.created_at, p.id))
        survivor = max(group, key=lambda p: (_completeness(p), -group.index(p)))
        out.append({"score": groups.strength.get(root, 0), "reasons": sorted({m["reason"] for m in matches}),
                    "matches": sorted(matches, key=lambda m: (m["reason"], m["value"])),
                    "suggested_survivor_id": survivor.id, "parties": [_summary(p) for p in group]})
    out.sort(key=lambda g: (-g["score"], -len(g["parties"]), g["parties"][0]["created_at"], g["parties"][0]["id"]))
    page, size = args["page"], args["page_size"]
    return {"items": out[(page - 1) * size:page * size], "total": len(out), "page": page, "page_size": size,
            "pages": -(-len(out) // size)}


def find_party_duplicates(session: Session, party_id, actor: Principal, include_archived: bool = False) -> list[dict]:
    """Parties the caller can see that are probably the same as this one, with a score and the reasons."""
    party = find_party(session, party_id, actor)
    own = key_rows(Party.id == party.id, "own")
    others = key_rows(and_(_scope(actor, include_archived, party.kind), Party.id != party.id), "others")
    candidate_ids = (select(others.c.party_id).join(own, and_(own.c.reason == others.c.reason,
                                                              own.c.key == others.c.key)).distinct())
    mine = exact_keys(party)
    found = []
    for other in session.execute(select(Party).where(Party.id.in_(candidate_ids))
                                 .order_by(Party.created_at).limit(MAX_CANDIDATES)).scalars():
        shared = mine & exact_keys(other)
        if shared:
            reasons = sorted({r for r, _ in shared})
            found.append({**_summary(other), "score": score(reasons), "reasons": reasons,
                          "matches": [{"reason": r, "value": _shown(k)} for r, k in sorted(shared)]})
    found.sort(key=lambda m: (-m["score"], m["created_at"]))
    return found[:PARTY_DUPLICATES_LIMIT]
