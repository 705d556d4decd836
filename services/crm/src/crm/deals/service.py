"""Use cases of deals: create, change, move through the stages, win, lose, reopen, assign and share.

Each takes a session and the acting user, checks what that user may see and change (like parties: own deals,
team members' for managers, shared ones, all with deals:read_all), records the stage history and the audit trail.
"""

from datetime import UTC, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.auth.principal import Principal, forbidden
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from shared_events.money import cents
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import service as access
from ..access.visibility import editable, visible
from ..db import audit_log
from ..parties.models import Party
from ..stagetasks.service import create_stage_tasks
from ..timeline import entries as timeline
from .models import Deal, DealStageChange, Pipeline, Stage
from .pipelines import default_pipeline

SORTABLE = {
    "name": func.lower(Deal.name),
    "amount": Deal.amount,
    "expected_close_date": Deal.expected_close_date,
    "created_at": Deal.created_at,
    "updated_at": Deal.updated_at,
    "closed_at": Deal.closed_at,
    "status": Deal.status,
}



def visible_deals(actor: Principal):
    return visible("deals", "deal", Deal.id, Deal.owner_id, actor)


def deal_state(d: Deal) -> dict:
    return {
        "name": d.name, "party_id": d.party_id, "contact_person_id": d.contact_person_id,
        "pipeline_id": d.pipeline_id, "stage_id": d.stage_id, "amount": d.amount, "currency": d.currency,
        "expected_close_date": d.expected_close_date, "owner_id": d.owner_id, "source_lead_id": d.source_lead_id,
        "status": d.status, "close_reason": d.close_reason, "closed_at": d.closed_at, "version": d.version,
    }


def _visible_party(session: Session, party_id, actor: Principal, field: str, kind: str | None = None) -> Party:
    party = session.execute(select(Party).where(
        Party.id == str(party_id), visible("parties", "party", Party.id, Party.owner_id, actor))).scalar_one_or_none()
    if party is None or (kind and party.kind != kind):
        raise field_error(field, f"no {kind or 'party'} with id {party_id}")
    if party.status != "active":
        raise field_error(field, f"{party.kind} {party_id} is archived")
    return party


def _stage_for_entry(session: Session, stage_id, active_only: bool = True) -> Stage:
    """The stage a deal is about to enter, key-share locked so it cannot be removed under the deal."""
    stmt = select(Stage).join(Pipeline, Pipeline.id == Stage.pipeline_id).where(Stage.id == str(stage_id))
    if active_only:
        stmt = stmt.where(Pipeline.active)
    stage = session.execute(stmt.with_for_update(read=True, key_share=True, of=Stage)).scalar_one_or_none()
    if stage is None:
        raise field_error("stage_id", f"no stage with id {stage_id} in an active pipeline")
    return stage


def _pipeline_for_new_deal(session: Session, pipeline_id) -> Pipeline:
    if pipeline_id is None:
        pipeline = default_pipeline(session)
        if pipeline is None:
            raise field_error("pipeline_id", "there is no default pipeline: name one")
        return pipeline
    pipeline = session.get(Pipeline, str(pipeline_id))
    if pipeline is None or not pipeline.active:
        raise field_error("pipeline_id", f"no active pipeline with id {pipeline_id}")
    return pipeline


def _first_open_stage(session: Session, pipeline_id: str) -> Stage:
    return session.execute(select(Stage).where(Stage.pipeline_id == pipeline_id, Stage.kind == "open")
                           .order_by(Stage.position).limit(1)
                           .with_for_update(read=True, key_share=True)).scalar_one()


def _record_entry(session: Session, deal: Deal, previous: Stage | None, stage: Stage, now: datetime, actor) -> None:
    spent = int((now - deal.stage_entered_at).total_seconds()) if previous is not None else None
    session.add(DealStageChange(deal_id=deal.id, from_stage_id=previous.id if previous else None,
                                from_stage_name=previous.name if previous else None, to_stage_id=stage.id,
                                to_stage_name=stage.name, changed_at=now, seconds_in_previous=spent,
                                actor_id=getattr(actor, "user_id", None), actor=actor_label(actor)))


def deal_view(deal: Deal) -> dict:
    """The deal's columns and its stage (id, name, kind, probability)."""
    stage = deal.stage
    return {**row_view(deal), "stage": {"id": stage.id, "name": stage.name, "kind": stage.kind,
                                        "probability": stage.probability}}


def create_deal(session: Session, data: dict, actor: Principal, source_lead_id: str | None = None) -> dict:
    return deal_view(add_deal(session, data, actor, source_lead_id))


def add_deal(session: Session, data: dict, actor: Principal, source_lead_id: str | None = None) -> Deal:
    """Open a deal with a visible party in the first open stage of its pipeline (default: the default pipeline)."""
    owner = str(data.get("owner_id") or actor.user_id)
    if owner != actor.user_id:
        if not actor.can("deals:assign"):
            raise forbidden("deals:assign")
        access.check_assignee(session, owner)
    party = _visible_party(session, data["party_id"], actor, "party_id")
    contact = data.get("contact_person_id")
    if contact is not None:
        contact = _visible_party(session, contact, actor, "contact_person_id", kind="person").id
    pipeline = _pipeline_for_new_deal(session, data.get("pipeline_id"))
    if data.get("stage_id"):
        stage = _stage_for_entry(session, data["stage_id"])
        if stage.pipeline_id != pipeline.id or stage.kind != "open":
            raise field_error("stage_id", "a new deal starts in an open stage of its pipeline")
    else:
        stage = _first_open_stage(session, pipeline.id)
    now = datetime.now(UTC)
    deal = Deal(name=data["name"].strip(), party_id=party.id, contact_person_id=contact, pipeline_id=pipeline.id,
                stage_id=stage.id, stage=stage, amount=cents(data.get("amount") or 0),
                currency=data.get("currency") or pipeline.currency, expected_close_date=data.get("expected_close_date"),
                owner_id=owner, source_lead_id=source_lead_id, status="open", stage_entered_at=now, version=1,
                created_at=now, updated_at=now)
    session.add(deal)
    session.flush()
    _record_entry(session, deal, None, stage, now, actor)
    audit.record(session, audit_log, actor, "create", "deal", deal.id, None, deal_state(deal))
    timeline.add_entry(session, kind="deal_created", title=f"Deal {deal.name} opened in {stage.name}",
                       occurred_at=now, party_id=party.id, deal_id=deal.id, lead_id=source_lead_id,
                       ref_type="deal", ref_id=deal.id, actor=actor,
                       data={"amount": str(deal.amount), "currency": deal.currency, "stage": stage.name})
    create_stage_tasks(session, deal, stage, actor)
    return deal


def get_deal(session: Session, deal_id, actor: Principal) -> dict:
    return deal_view(find_deal(session, deal_id, actor))


def find_deal(session: Session, deal_id, actor: Principal) -> Deal:
    """A deal the caller may see; one they may not see is "not found", like one that does not exist."""
    deal = session.execute(select(Deal).where(Deal.id == str(deal_id), visible_deals(actor))).scalar_one_or_none()
    if deal is None:
        raise NotFound("deal", deal_id)
    return deal


def _for_change(session: Session, deal_id, actor: Principal, expected_version: int | None = None) -> Deal:
    deal = session.execute(select(Deal).where(Deal.id == str(deal_id), visible_deals(actor))
                           .with_for_update(of=Deal)).scalar_one_or_none()
    if deal is None:
        raise NotFound("deal", deal_id)
    may_edit = session.execute(select(Deal.id).where(
        Deal.id == deal.id, editable("deals", "deal", Deal.id, Deal.owner_id, actor))).first()
    if not may_edit:
        raise Problem(403, "Forbidden", "You can see this deal but not change it: ask its owner to share it "
                      "with write access.", "forbidden")
    if expected_version is not None:
        check_version(deal.version, expected_version)
    return deal


def _touch(deal: Deal, now: datetime | None = None) -> None:
    deal.version += 1
    deal.updated_at = now or datetime.now(UTC)


def update_deal(session: Session, deal_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Change name, amount, currency, expected close date, party or contact, if the caller saw this version."""
    deal = _for_change(session, deal_id, actor, expected_version)
    if "owner_id" in changes:
        raise field_error("owner_id", "use POST /api/v1/deals/{id}/assign to change the owner")
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if "amount" in changes:
        changes["amount"] = cents(changes["amount"])
    if changes.get("party_id") is not None:
        changes["party_id"] = _visible_party(session, changes["party_id"], actor, "party_id").id
    if changes.get("contact_person_id") is not None:
        changes["contact_person_id"] = _visible_party(session, changes["contact_person_id"], actor,
                                                      "contact_person_id", kind="person").id
    changed = {k: v for k, v in changes.items() if getattr(deal, k) != v}
    if not changed:
        return deal_view(deal)
    before = deal_state(deal)
    for k, v in changed.items():
        setattr(deal, k, v)
    _touch(deal)
    session.flush()
    audit.record(session, audit_log, actor, "update", "deal", deal.id, before, deal_state(deal))
    return deal_view(deal)


def _enter(session: Session, deal: Deal, stage: Stage, reason: str | None, actor: Principal, action: str) -> Deal:
    """Put the deal in `stage`: its status follows the stage's kind; the history and the audit trail say so."""
    now = datetime.now(UTC)
    previous = deal.stage
    before = deal_state(deal)
    _record_entry(session, deal, previous, stage, now, actor)
    deal.stage = stage
    deal.stage_id = stage.id
    deal.pipeline_id = stage.pipeline_id
    deal.stage_entered_at = now
    deal.status = stage.kind
    deal.closed_at = now if stage.kind != "open" else None
    deal.close_reason = reason if stage.kind != "open" else None
    _touch(deal, now)
    session.flush()
    audit.record(session, audit_log, actor, action, "deal", deal.id, before, deal_state(deal))
    kind, title = {
        "won": ("deal_won", f"Deal {deal.name} won"),
        "lost": ("deal_lost", f"Deal {deal.name} lost"),
    }.get(stage.kind, ("stage_changed", f"Deal {deal.name} moved from {previous.name} to {stage.name}"))
    if action == "reopen":
        kind, title = "deal_reopened", f"Deal {deal.name} reopened in {stage.name}"
    timeline.add_entry(session, kind=kind, title=title, occurred_at=now, party_id=deal.party_id, deal_id=deal.id,
                       ref_type="deal", ref_id=deal.id, actor=actor, summary=reason,
                       data={"from_stage": previous.name, "to_stage": stage.name, "amount": str(deal.amount),
                             "currency": deal.currency})
    create_stage_tasks(session, deal, stage, actor)
    return deal


def _closed(deal: Deal) -> Problem:
    return Problem(409, "Deal is closed", f"The deal is {deal.status}: reopen it before moving it.", "deal-closed")


def move_deal(session: Session, deal_id, stage_id, reason: str | None, actor: Principal,
              expected_version: int | None = None) -> dict:
    """Move an open deal to another stage (of its pipeline or another one); into the lost stage needs a reason."""
    deal = _for_change(session, deal_id, actor, expected_version)
    if deal.status != "open":
        raise _closed(deal)
    stage = _stage_for_entry(session, stage_id)
    if stage.id == deal.stage_id:
        return deal_view(deal)
    if stage.kind == "lost" and not reason:
        raise field_error("reason", "say why the deal was lost")
    return deal_view(_enter(session, deal, stage, reason, actor, {"open": "move"}.get(stage.kind, stage.kind)))


def _closing_stage(session: Session, deal: Deal, kind: str) -> Stage:
    """The pipeline's won or lost stage: a deal of a deactivated pipeline can still be closed."""
    stage_id = session.execute(select(Stage.id).where(Stage.pipeline_id == deal.pipeline_id, Stage.kind == kind)
                               ).scalar_one()
    return _stage_for_entry(session, stage_id, active_only=False)


def win_deal(session: Session, deal_id, reason: str | None, actor: Principal,
             expected_version: int | None = None) -> dict:
    deal = _for_change(session, deal_id, actor, expected_version)
    if deal.status != "open":
        raise _closed(deal)
    return deal_view(_enter(session, deal, _closing_stage(session, deal, "won"), reason, actor, "won"))


def lose_deal(session: Session, deal_id, reason: str, actor: Principal, expected_version: int | None = None) -> dict:
    deal = _for_change(session, deal_id, actor, expected_version)
    if deal.status != "open":
        raise _closed(deal)
    if not (reason or "").strip():
        raise field_error("reason", "say why the deal was lost")
    return deal_view(_enter(session, deal, _closing_stage(session, deal, "lost"), reason.strip(), actor, "lost"))


def _stage_closed_from(session: Session, deal: Deal) -> Stage:
    """The open stage a closed deal was won or lost from (else its pipeline's first open stage)."""
    stage_id = session.execute(
        select(DealStageChange.from_stage_id).join(Stage, Stage.id == DealStageChange.from_stage_id)
        .where(DealStageChange.deal_id == deal.id, DealStageChange.to_stage_id == deal.stage_id,
               Stage.kind == "open", Stage.pipeline_id == deal.pipeline_id)
        .order_by(DealStageChange.changed_at.desc()).limit(1)).scalar()
    return _stage_for_entry(session, stage_id) if stage_id else _first_open_stage(session, deal.pipeline_id)


def reopen_deal(session: Session, deal_id, stage_id, actor: Principal, expected_version: int | None = None) -> dict:
    """Reopen a won or lost deal in `stage_id`, or else in the open stage it was closed from."""
    deal = _for_change(session, deal_id, actor, expected_version)
    if deal.status == "open":
        raise Problem(409, "Deal is open", "Only a won or lost deal can be reopened.", "deal-open")
    if stage_id is None:
        stage = _stage_closed_from(session, deal)
    else:
        stage = _stage_for_entry(session, stage_id)
        if stage.kind != "open" or stage.pipeline_id != deal.pipeline_id:
            raise field_error("stage_id", "reopen into an open stage of the deal's pipeline")
    return deal_view(_enter(session, deal, stage, None, actor, "reopen"))


# -- what other modules' facts do to a deal (no permission checks: the caller's fact decides) ---------------

def take_quote_amount(session: Session, deal_id: str, amount: Decimal, currency: str, why: str, actor) -> None:
    """An accepted quote sets what the deal is worth: its net total replaces the estimate, which stays in the
    audit trail and on the timeline."""
    deal = session.execute(select(Deal).where(Deal.id == str(deal_id)).with_for_update(of=Deal)).scalar_one_or_none()
    amount = cents(amount)
    if deal is None or (deal.amount, deal.currency) == (amount, currency):
        return
    before = deal_state(deal)
    estimate = f"{deal.amount:,.2f} {deal.currency}"
    deal.amount, deal.currency = amount, currency
    _touch(deal)
    session.flush()
    audit.record(session, audit_log, actor, "take_quote_amount", "deal", deal.id, before, deal_state(deal))
    timeline.add_entry(session, kind="deal_amount_changed",
                       title=f"Deal {deal.name}: amount {estimate} → {amount:,.2f} {currency}",
                       occurred_at=deal.updated_at, party_id=deal.party_id, deal_id=deal.id, ref_type="deal",
                       ref_id=deal.id, actor=actor, summary=why,
                       data={"previous_amount": str(before["amount"]), "previous_currency": before["currency"],
                             "amount": str(amount), "currency": currency})


def reopen_won_deal(session: Session, deal_id: str, why: str, actor) -> Deal | None:
    """The ERP refused a deal's order: a won deal goes back to the open stage it was won from, so forecasts and
    statistics stop counting it. Returns the deal (whatever its status), None if there is no such deal."""
    deal = session.execute(select(Deal).where(Deal.id == str(deal_id)).with_for_update(of=Deal)).scalar_one_or_none()
    if deal is not None and deal.status == "won":
        _enter(session, deal, _stage_closed_from(session, deal), why, actor, "reopen")
    return deal


def stage_history(session: Session, deal_id, actor: Principal) -> list[dict]:
    deal = find_deal(session, deal_id, actor)
    return [row_view(change) for change in session.execute(
        select(DealStageChange).where(DealStageChange.deal_id == deal.id)
        .order_by(DealStageChange.changed_at, DealStageChange.id)).scalars()]


def assign_deal(session: Session, deal_id, owner_id, actor: Principal) -> dict:
    """Hand the deal to another user (a manager within the team, an admin anywhere)."""
    deal = _for_change(session, deal_id, actor)
    owner_id = str(owner_id)
    access.check_assignee(session, owner_id)
    if deal.owner_id == owner_id:
        return deal_view(deal)
    before = deal_state(deal)
    deal.owner_id = owner_id
    _touch(deal)
    session.flush()
    audit.record(session, audit_log, actor, "assign", "deal", deal.id, before, deal_state(deal))
    return deal_view(deal)


def list_deals(session: Session, args: dict, actor: Principal) -> dict:
    """Deals the caller may see, filtered, sorted and paginated (counts never include invisible ones)."""
    stmt = select(Deal).where(visible_deals(actor))
    for arg, column in (("pipeline_id", Deal.pipeline_id), ("stage_id", Deal.stage_id), ("owner_id", Deal.owner_id),
                        ("party_id", Deal.party_id), ("source_lead_id", Deal.source_lead_id)):
        if args.get(arg):
            stmt = stmt.where(column == str(args[arg]))
    if args.get("status", "all") != "all":
        stmt = stmt.where(Deal.status == args["status"])
    if args.get("expected_close_from"):
        stmt = stmt.where(Deal.expected_close_date >= args["expected_close_from"])
    if args.get("expected_close_to"):
        stmt = stmt.where(Deal.expected_close_date <= args["expected_close_to"])
    if args.get("q"):
        stmt = stmt.where(func.lower(Deal.name).like(f"%{args['q'].lower()}%"))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [Deal.created_at.desc(), Deal.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [deal_view(d) for d in page["items"]]
    return page


SHARING = access.Sharing("deal", find_deal, _for_change)
