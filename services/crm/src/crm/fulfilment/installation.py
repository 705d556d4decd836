"""Installation after production: when every work order of a deal's ERP order is done and the order is delivered,
an installation task goes to the installation team; the office issues a public form link that the installer, who has
no account, opens on a phone. Submitting it closes the task, records the result on the deal and the customer's
timeline, and publishes crm.installation.completed so the ERP records the serials installed.

A link is `<installation id>.<expiry>.<signature>`, signed with a key of its own kept on the installation: issuing
a new link or revoking it replaces or drops the key (every older link dies), and a submitted form drops it too
(single use). A forged, used, revoked or expired link is refused the same way, so it never reveals what exists."""

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event
from shared_events.outbox import record_event
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..access.models import Team, TeamMember
from ..billing.models import OrderReplica
from ..db import audit_log, outbox
from ..deals.models import Deal
from ..deals.service import find_deal
from ..tasks.service import add_task, close_task
from ..timeline.entries import add_entry
from .models import FulfilmentReplica, Installation, InstallationPhoto

INSTALLATION_TEAM = "installation"  # the team (by name, any case) whose manager receives installation tasks
LINK_DAYS = 14
SHIPPED = ("delivered", "invoiced")
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('crm.installation:' || :deal, 0))")


class InvalidLink(Exception):
    """The link is forged, used, revoked or expired (which one is never said)."""


# -- starting -------------------------------------------------------------------------------------

def _installer(session: Session, deal: Deal) -> tuple[str | None, str | None]:
    """(team id, user id): the installation team's manager (else its first member), else the deal's owner."""
    team = session.execute(select(Team).where(func.lower(Team.name) == INSTALLATION_TEAM)).scalar_one_or_none()
    if team is not None:
        user = session.execute(select(TeamMember.user_id).where(TeamMember.team_id == team.id).order_by(
            (TeamMember.role != "manager"), TeamMember.user_id)).scalars().first()
        if user:
            return team.id, user
    return (team.id if team else None), deal.owner_id


def start_installation_when_ready(session: Session, deal_id: str, actor: str) -> list[Installation]:
    """Start the installation of each delivered order of the deal whose work orders are all done (once per order).

    Called after the replica that may have completed the picture is written (a work order done, an order
    delivered); the per-deal lock makes the later of two such transactions see the other's row."""
    session.execute(_LOCK, {"deal": str(deal_id)})
    deal = session.get(Deal, str(deal_id))
    if deal is None:
        return []
    started = []
    for order in session.execute(select(OrderReplica).where(OrderReplica.deal_id == deal.id,
                                                            OrderReplica.status.in_(SHIPPED))).scalars():
        work = session.execute(select(FulfilmentReplica).where(FulfilmentReplica.sales_order_id == order.id,
                                                               FulfilmentReplica.kind == "work_order")).scalars().all()
        if not work or any(w.status != "done" for w in work):
            continue
        if session.execute(select(Installation.id).where(Installation.sales_order_id == order.id)).first():
            continue
        team_id, assignee = _installer(session, deal)
        what = ", ".join(sorted(f"{w.product_name} x {w.quantity}" for w in work))
        task = None
        if assignee:
            task = add_task(session, title=f"Install {what} (order {order.number}, deal {deal.name})",
                            assignee_id=assignee, priority="high", record_type="deal", record_id=deal.id,
                            due_date=datetime.now(UTC).date() + timedelta(days=7),
                            description="Everything is made and delivered. Issue the installer's form link from "
                                        "the installation and send it to the installer.")
        inst = Installation(deal_id=deal.id, party_id=deal.party_id, sales_order_id=order.id,
                            sales_order_number=order.number, task_id=task.id if task else None, team_id=team_id,
                            status="open", serials=[], version=1)
        session.add(inst)
        session.flush()
        add_entry(session, kind="installation", title=f"Installation of order {order.number} to schedule ({what})",
                  deal_id=deal.id, party_id=deal.party_id, ref_type="installation", ref_id=inst.id, actor=actor)
        audit.record(session, audit_log, actor, "create", "installation", inst.id, None, _state(inst))
        started.append(inst)
    return started


# -- the office: view, issue and revoke links ------------------------------------------------------

def _state(inst: Installation) -> dict:
    return {k: getattr(inst, k) for k in ("deal_id", "sales_order_id", "sales_order_number", "task_id", "status",
                                          "link_expires_at", "result", "notes", "signed_by", "serials",
                                          "submitted_at")}


def installation_view(session: Session, inst: Installation) -> dict:
    photos = session.execute(select(InstallationPhoto.id, InstallationPhoto.content_type, InstallationPhoto.size)
                             .where(InstallationPhoto.installation_id == inst.id)
                             .order_by(InstallationPhoto.position)).all()
    return {**_state(inst), "id": inst.id, "party_id": inst.party_id, "team_id": inst.team_id,
            "link_active": inst.link_key is not None and inst.link_expires_at > datetime.now(UTC),
            "photos": [{"id": p.id, "content_type": p.content_type, "size": p.size} for p in photos],
            "version": inst.version, "created_at": inst.created_at, "updated_at": inst.updated_at}


def _find(session: Session, installation_id, actor: Principal, lock: bool = False) -> Installation:
    stmt = select(Installation).where(Installation.id == str(installation_id))
    inst = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if inst is None:
        raise NotFound("installation", installation_id)
    find_deal(session, inst.deal_id, actor)  # one the caller may not see is "not found" too
    return inst


def get_installation(session: Session, installation_id, actor: Principal) -> dict:
    return installation_view(session, _find(session, installation_id, actor))


def deal_installations(session: Session, deal_id: str) -> list[Installation]:
    return list(session.execute(select(Installation).where(Installation.deal_id == str(deal_id))
                                .order_by(Installation.created_at)).scalars())


def _signature(key: str, payload: str) -> str:
    digest = hmac.new(key.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_link(session: Session, installation_id, expected_version: int | None, actor: Principal,
               base_url: str) -> dict:
    """A new form link (every older one stops working); 409 once the form was submitted."""
    inst = _find(session, installation_id, actor, lock=True)
    if expected_version is not None:
        check_version(inst.version, expected_version)
    if inst.status != "open":
        raise Problem(409, "Installation closed", f"The installation was reported {inst.status}: its form is closed.",
                      "wrong-state", current_state=inst.status)
    inst.link_key = secrets.token_urlsafe(32)
    inst.link_expires_at = (datetime.now(UTC) + timedelta(days=LINK_DAYS)).replace(microsecond=0)
    inst.version += 1
    inst.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "issue_link", "installation", inst.id, None,
                 {"link_expires_at": inst.link_expires_at})
    payload = f"{inst.id}.{int(inst.link_expires_at.timestamp())}"
    token = f"{payload}.{_signature(inst.link_key, payload)}"
    return {"url": f"{base_url.rstrip('/')}/api/v1/public/installation-forms/{token}", "token": token,
            "expires_at": inst.link_expires_at, "installation": installation_view(session, inst)}


def revoke_link(session: Session, installation_id, expected_version: int | None, actor: Principal) -> dict:
    inst = _find(session, installation_id, actor, lock=True)
    if expected_version is not None:
        check_version(inst.version, expected_version)
    if inst.link_key is not None:
        inst.link_key = None
        inst.version += 1
        inst.updated_at = datetime.now(UTC)
        session.flush()
        audit.record(session, audit_log, actor, "revoke_link", "installation", inst.id, None, {"link": "revoked"})
    return installation_view(session, inst)


# -- the installer: the public form ---------------------------------------------------------------

def installation_for_link(session: Session, token: str, lock: bool = False) -> Installation:
    """The open installation a valid link opens, or InvalidLink (forged, used, revoked, expired alike)."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 200 or not parts[1].isdigit():
        raise InvalidLink()
    installation_id, expiry, signature = parts
    try:
        installation_id = str(uuid.UUID(installation_id))
    except ValueError:
        raise InvalidLink() from None
    stmt = select(Installation).where(Installation.id == installation_id)
    inst = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if inst is None or inst.link_key is None or inst.status != "open":
        raise InvalidLink()
    if not hmac.compare_digest(_signature(inst.link_key, f"{installation_id}.{expiry}"), signature):
        raise InvalidLink()
    if int(expiry) != int(inst.link_expires_at.timestamp()) or inst.link_expires_at <= datetime.now(UTC):
        raise InvalidLink()
    return inst


def form_context(session: Session, token: str) -> dict:
    """What the installer's page shows: the order and the products to install (no prices, no contacts)."""
    inst = installation_for_link(session, token)
    work = session.execute(select(FulfilmentReplica.product_name, FulfilmentReplica.quantity).where(
        FulfilmentReplica.sales_order_id == inst.sales_order_id, FulfilmentReplica.kind == "work_order")).all()
    return {"order": inst.sales_order_number, "products": [f"{name} x {qty}" for name, qty in sorted(work)],
            "expires_at": inst.link_expires_at}


def installation_event(inst: Installation, photos: int):
    data = {"id": inst.id, "deal_id": inst.deal_id, "party_id": inst.party_id, "sales_order_id": inst.sales_order_id,
            "sales_order_number": inst.sales_order_number, "result": inst.result, "serials": list(inst.serials),
            "signed_by": inst.signed_by, "notes": inst.notes, "photos": photos,
            "completed_at": inst.submitted_at.isoformat(), "version": inst.version}
    return new_event("crm.installation.completed", inst.id, data, inst.version,
                     **actor_extensions(f"installer: {inst.signed_by}"))


def submit_form(session: Session, token: str, form: dict, photos: list[tuple[str, bytes]]) -> None:
    """Record the installer's report once: close the task, put the result on the deal and the customer's timeline,
    publish the serials; a problem gives the deal's owner a task. InvalidLink when the link cannot be used."""
    inst = installation_for_link(session, token, lock=True)
    now = datetime.now(UTC)
    before = _state(inst)
    inst.result, inst.notes, inst.signed_by = form["result"], form.get("notes"), form["signed_by"]
    inst.serials = form["serials"]
    inst.status = "done" if form["result"] == "done" else "problem"
    inst.submitted_at, inst.link_key = now, None
    inst.version += 1
    inst.updated_at = now
    session.add_all([InstallationPhoto(installation_id=inst.id, position=i + 1, content_type=kind, size=len(data),
                                       data=data) for i, (kind, data) in enumerate(photos)])
    session.flush()
    actor = f"installer: {inst.signed_by}"
    if inst.task_id:
        close_task(session, inst.task_id, actor)
    serials = ", ".join(inst.serials) or "none"
    if inst.result == "done":
        title = f"Installed (order {inst.sales_order_number}), signed off by {inst.signed_by}; serials: {serials}"
    else:
        title = f"Installation problem (order {inst.sales_order_number}) reported by {inst.signed_by}"
    add_entry(session, kind="installation", title=title, summary=inst.notes, deal_id=inst.deal_id,
              party_id=inst.party_id, ref_type="installation", ref_id=inst.id, actor=actor,
              data={"result": inst.result, "serials": list(inst.serials), "photos": len(photos)})
    deal = session.get(Deal, inst.deal_id)
    if inst.result == "problem" and deal is not None and deal.owner_id:
        add_task(session, title=f"Installation problem on {deal.name}: call the customer",
                 assignee_id=deal.owner_id, priority="urgent", record_type="deal", record_id=deal.id,
                 due_date=now.date() + timedelta(days=1), description=inst.notes)
    audit.record(session, audit_log, actor, "submit", "installation", inst.id, before, _state(inst))
    record_event(session, outbox, installation_event(inst, len(photos)), "installation")
