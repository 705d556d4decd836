"""Estimate requests: production staff answer the hours and materials a deal needs; the answer goes onto the deal
(its timeline and its estimates) and closes the request's task. Seen by the addressee and whoever sees the deal."""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import audit_log
from ..deals.models import Deal
from ..deals.service import find_deal
from ..tasks.models import Task
from ..timeline import entries as timeline
from .models import DealEstimate


def _estimate_view(e: DealEstimate) -> dict:
    return {c: getattr(e, c) for c in ("id", "deal_id", "task_id", "requested_from", "status", "hours", "materials",
                                       "notes", "submitted_by", "submitted_at", "version", "created_at")}


def _visible_estimate(session: Session, estimate_id, actor: Principal, lock: bool = False) -> DealEstimate:
    stmt = select(DealEstimate).where(DealEstimate.id == str(estimate_id))
    e = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if e is None or (e.requested_from != actor.user_id and not _deal_visible(session, e.deal_id, actor)):
        raise NotFound("estimate", estimate_id)
    return e


def _deal_visible(session: Session, deal_id: str, actor: Principal) -> bool:
    try:
        find_deal(session, deal_id, actor)
        return True
    except NotFound:
        return False


def deal_estimates(session: Session, deal_id, actor: Principal) -> list[dict]:
    deal = find_deal(session, deal_id, actor)
    return [_estimate_view(e) for e in session.execute(select(DealEstimate).where(
        DealEstimate.deal_id == deal.id).order_by(DealEstimate.created_at)).scalars()]


def get_estimate(session: Session, estimate_id, actor: Principal) -> dict:
    return _estimate_view(_visible_estimate(session, estimate_id, actor))


def submit_estimate(session: Session, estimate_id, expected_version: int, data: dict, actor: Principal) -> dict:
    """The addressee answers: hours and materials go onto the deal (its timeline and estimates), the task is done."""
    e = _visible_estimate(session, estimate_id, actor, lock=True)
    check_version(e.version, expected_version)
    if e.status != "requested":
        raise Problem(409, "Estimate already given", "This estimate was submitted already.", "wrong-state",
                      current_state=e.status)
    now = datetime.now(UTC)
    e.hours, e.materials, e.notes = data["hours"], [
        {**m, "quantity": str(m["quantity"])} for m in data.get("materials") or []], data.get("notes")
    e.status, e.submitted_by, e.submitted_at = "submitted", actor.user_id, now
    e.version += 1
    e.updated_at = now
    task = session.get(Task, e.task_id)
    if task is not None and task.status != "done":
        task.status, task.completed_at = "done", now
        task.version += 1
        task.updated_at = now
    deal = session.get(Deal, e.deal_id)
    materials = ", ".join(f"{m['description']} x {m['quantity']}" for m in e.materials) or "no materials"
    timeline.add_entry(session, kind="estimate", title=f"Estimate: {e.hours} h, {materials}"[:300], occurred_at=now,
                       deal_id=e.deal_id, party_id=deal.party_id if deal else None, ref_type="estimate",
                       ref_id=e.id, actor=actor, summary=e.notes,
                       data={"hours": str(e.hours), "materials": e.materials})
    session.flush()
    audit.record(session, audit_log, actor, "submit", "estimate", e.id, None, _estimate_view(e))
    return _estimate_view(e)
