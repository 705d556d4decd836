"""Use cases of exports: a list with the same filters, sort and visibility as its list endpoint, as rows to write.

The rows come from the list use cases themselves (parties, leads, deals), page by page, so an export can never
show what the list would not; each export leaves an audit row (what, in which format, with which filters).
"""

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.problems import Problem, field_error
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import audit_log, auth
from ..deals import service as deals
from ..deals.models import Pipeline
from ..leads import service as leads
from ..parties import service as parties
from ..parties.models import Party

MAX_ROWS = 50_000
MAX_PDF_ROWS = 2_000  # a table people read; beyond that, CSV or XLSX
PAGE = 1_000

ADDRESS = ("line1", "line2", "postal_code", "city", "region", "country")
PARTY_COLUMNS = ["id", "kind", "display_name", "legal_name", "first_name", "last_name", "company_name", "job_title",
                 "roles", "tax_id", "email", "phone", "website", *(f"billing_{a}" for a in ADDRESS),
                 *(f"shipping_{a}" for a in ADDRESS), "owner", "status", "created_at", "updated_at"]
LEAD_COLUMNS = ["id", "display_name", "first_name", "last_name", "company_name", "email", "phone", "job_title",
                "source", "campaign", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "score",
                "status", "owner", "created_at", "updated_at"]
DEAL_COLUMNS = ["id", "name", "party", "party_id", "contact_person", "pipeline", "stage", "status", "amount",
                "currency", "expected_close_date", "owner", "created_at", "closed_at"]
PDF_COLUMNS = {
    "parties": [("display_name", "Name", 50), ("kind", "Kind", 15), ("company_name", "Company", 40),
                ("email", "Email", 50), ("phone", "Phone", 30), ("billing_city", "City", 30),
                ("billing_country", "Country", 13), ("owner", "Owner", 40), ("status", "Status", 15)],
    "leads": [("display_name", "Name", 45), ("company_name", "Company", 40), ("email", "Email", 50),
              ("phone", "Phone", 30), ("source", "Source", 20), ("campaign", "Campaign", 30),
              ("status", "Status", 20), ("owner", "Owner", 42)],
    "deals": [("name", "Deal", 55), ("party", "Customer", 45), ("stage", "Stage", 30), ("status", "Status", 15),
              ("amount", "Amount", 25), ("currency", "Cur.", 12), ("expected_close_date", "Close", 22),
              ("owner", "Owner", 73)],
}


def _pages(session: Session, list_use_case, args: dict, actor: Principal, fmt: str):
    """Every item of the list, page by page; refuses an export too large for its format."""
    limit = MAX_PDF_ROWS if fmt == "pdf" else MAX_ROWS
    first = list_use_case(session, {**args, "page": 1, "page_size": PAGE}, actor)
    if first["total"] > limit:
        raise Problem(422, "Too many rows", f"The list has {first['total']} rows; a {fmt.upper()} export takes "
                      f"{limit} at most. Narrow the filters{' or export CSV or XLSX' if fmt == 'pdf' else ''}.",
                      "export-too-large", total=first["total"], limit=limit)
    yield first["items"]
    for page in range(2, first["pages"] + 1):
        yield list_use_case(session, {**args, "page": page, "page_size": PAGE}, actor)["items"]


def _names(session: Session, column_id, column_name, ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(column_id, column_name).where(column_id.in_(ids))).all())


def _owners(session: Session, ids) -> dict:
    return _names(session, auth.users.c.id, auth.users.c.email, ids)


def _channels(items) -> str | None:
    return "; ".join(c["value"] for c in items) if items else None


def party_rows(session: Session, args: dict, actor: Principal, fmt: str) -> list[dict]:
    rows = []
    for items in _pages(session, parties.list_parties, args, actor, fmt):
        companies = _names(session, Party.id, Party.display_name, (p["company_id"] for p in items))
        owners = _owners(session, (p["owner_id"] for p in items))
        for p in items:
            row = {c: p.get(c) for c in PARTY_COLUMNS}
            row.update(company_name=companies.get(p["company_id"]), owner=owners.get(p["owner_id"]),
                       roles=", ".join(p["roles"] or []) or None, email=_channels(p["emails"]),
                       phone=_channels(p["phones"]), emails=p["emails"], phones=p["phones"],
                       billing_address=p["billing_address"])
            for kind in ("billing", "shipping"):
                address = p[f"{kind}_address"] or {}
                row.update({f"{kind}_{a}": address.get(a) for a in ADDRESS})
            rows.append(row)
    return rows


def lead_rows(session: Session, args: dict, actor: Principal, fmt: str) -> list[dict]:
    rows = []
    for items in _pages(session, leads.list_leads, args, actor, fmt):
        owners = _owners(session, (lead["owner_id"] for lead in items))
        rows += [{**{c: lead.get(c) for c in LEAD_COLUMNS}, "owner": owners.get(lead["owner_id"])} for lead in items]
    return rows


def deal_rows(session: Session, args: dict, actor: Principal, fmt: str) -> list[dict]:
    rows = []
    for items in _pages(session, deals.list_deals, args, actor, fmt):
        names = _names(session, Party.id, Party.display_name,
                       [d["party_id"] for d in items] + [d["contact_person_id"] for d in items])
        pipelines = _names(session, Pipeline.id, Pipeline.name, (d["pipeline_id"] for d in items))
        owners = _owners(session, (d["owner_id"] for d in items))
        rows += [{**{c: d.get(c) for c in DEAL_COLUMNS}, "party": names.get(d["party_id"]),
                  "contact_person": names.get(d["contact_person_id"]), "pipeline": pipelines.get(d["pipeline_id"]),
                  "stage": d["stage"]["name"], "owner": owners.get(d["owner_id"])} for d in items]
    return rows


ROWS = {"parties": (party_rows, PARTY_COLUMNS), "leads": (lead_rows, LEAD_COLUMNS), "deals": (deal_rows, DEAL_COLUMNS)}


def export_rows(session: Session, what: str, args: dict, actor: Principal) -> tuple[list[str], list[dict]]:
    """(columns, rows) of the list `what` as the caller sees it with these filters; audited."""
    fmt = args.pop("format")
    if fmt == "vcf":
        if what != "parties":
            raise field_error("format", "vCards hold people: only parties export as vcf")
        if args.get("kind") == "company":
            raise field_error("kind", "vCards hold people: leave kind out or use person")
        args["kind"] = "person"
    make, columns = ROWS[what]
    rows = make(session, args, actor, fmt)
    filters = {k: str(v) for k, v in args.items() if v is not None}
    audit.record(session, audit_log, actor, "export", "export", what, changes={
        "format": {"before": None, "after": fmt}, "filters": {"before": None, "after": filters},
        "rows": {"before": None, "after": len(rows)}})
    return columns, rows
