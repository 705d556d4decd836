"""Use cases on customers and suppliers: read the replica, edit the ERP-owned terms."""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from ..credit import service as credit
from ..db import audit_log
from .models import PartyAccount, PartyReplica, PartyReplicaChange

SORTABLE = {
    "display_name": func.lower(PartyReplica.display_name),
    "replicated_at": PartyReplica.replicated_at,
    "crm_updated_at": PartyReplica.crm_updated_at,
}


def _view(replica: PartyReplica, account: PartyAccount | None, crm_url: str) -> dict:
    view = row_view(replica)
    acct = account or PartyAccount(payment_terms_days=30, credit_limit=None, currency="EUR", customer_group=None,
                                   version=0)
    view["account"] = {"payment_terms_days": acct.payment_terms_days, "credit_limit": acct.credit_limit,
                       "currency": acct.currency, "customer_group": acct.customer_group, "version": acct.version}
    view["master_data"] = {"owner": "crm", "edit_url": f"{crm_url}/api/v1/parties/{replica.party_id}"}
    return view


def list_parties(session: Session, role: str, args: dict, crm_url: str) -> dict:
    """Customers or suppliers from the replica, with their ERP terms."""
    stmt = select(PartyReplica).where(PartyReplica.roles.contains([role]))
    if args.get("status", "active") != "all":
        stmt = stmt.where(PartyReplica.status == args.get("status", "active"))
    if args.get("kind"):
        stmt = stmt.where(PartyReplica.kind == args["kind"])
    if args.get("country"):
        stmt = stmt.where(PartyReplica.billing_address["country"].astext == args["country"].upper())
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(PartyReplica.display_name).like(like),
                              func.lower(cast(PartyReplica.emails, String)).like(like),
                              func.lower(PartyReplica.tax_id).like(like)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [func.lower(PartyReplica.display_name), PartyReplica.party_id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    ids = [r.party_id for r in page["items"]]
    accounts = {a.party_id: a for a in session.execute(
        select(PartyAccount).where(PartyAccount.party_id.in_(ids))).scalars()} if ids else {}
    page["items"] = [_view(r, accounts.get(r.party_id), crm_url) for r in page["items"]]
    return page


def get_party(session: Session, party_id: str, crm_url: str) -> dict:
    replica = session.get(PartyReplica, str(party_id))
    if replica is None:
        raise NotFound("party", party_id)
    return _view(replica, session.get(PartyAccount, str(party_id)), crm_url)


def update_terms(session: Session, party_id: str, expected_version: int, changes: dict, crm_url: str,
                 actor) -> dict:
    """Change payment terms, credit limit or currency (ERP-owned); If-Match guards against lost updates."""
    replica = session.get(PartyReplica, str(party_id))
    if replica is None:
        raise NotFound("party", party_id)
    if replica.status == "archived":
        raise Problem(409, "Party is archived", "The CRM archived this party; restore it there before changing "
                      "its terms here.", "party-archived")
    if replica.status == "merged":
        raise Problem(409, "Party is merged", f"The CRM merged this party into {replica.merged_into_id}: change "
                      "that party's terms.", "party-merged", merged_into_id=replica.merged_into_id)
    account = session.execute(
        select(PartyAccount).where(PartyAccount.party_id == str(party_id)).with_for_update()).scalar_one_or_none()
    check_version(account.version if account else 0, expected_version)
    if account is None:
        account = PartyAccount(party_id=str(party_id), payment_terms_days=30, currency="EUR", version=0)
        session.add(account)
    terms = ("payment_terms_days", "credit_limit", "currency", "customer_group")
    before = {k: getattr(account, k) for k in terms}
    for k, v in changes.items():
        setattr(account, k, v)
    account.version += 1
    account.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update_terms", "party", str(party_id), before,
                 {k: getattr(account, k) for k in terms})
    credit.refresh(session, party_id, actor)  # a new limit is news for the CRM's quotes
    return _view(replica, account, crm_url)


def list_changes(session: Session, party_id: str, page: int, page_size: int) -> dict:
    stmt = (select(PartyReplicaChange).where(PartyReplicaChange.party_id == str(party_id))
            .order_by(PartyReplicaChange.sequence.desc(), PartyReplicaChange.id.desc()))
    return paginate(session, stmt, page, page_size)
