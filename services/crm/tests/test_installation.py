"""When a deal's order is made and delivered, the installation team gets a task; the office sends the installer a
public form link; the installer (no account) reports the result, photos, sign-off and serials; the task closes, the
deal shows it installed and the serials go to the ERP. A forged, used, withdrawn or expired link changes nothing."""

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from crm.billing.handlers import CONSUMER as SALES
from crm.billing.handlers import HANDLERS as SALES_HANDLERS
from crm.db import outbox, processed_events
from crm.fulfilment.handlers import CONSUMER, HANDLERS
from crm.fulfilment.models import Installation
from shared_events import contracts, envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer
from sqlalchemy import select, update

pytestmark = pytest.mark.db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FORMS = "/api/v1/public/installation-forms"


@pytest.fixture
def erp(app):
    """Delivers ERP events to the CRM's consumers the way the worker does (minus the broker)."""
    sessions = app.extensions["crm.db"].sessions
    inboxes = {"erp.fulfilment.v1": InboxConsumer(CONSUMER, "unused:1", [], HANDLERS, sessions, processed_events,
                                                  producer_factory=RecordingProducer),
               "erp.order.v1": InboxConsumer(SALES, "unused:1", [], SALES_HANDLERS, sessions, processed_events,
                                             producer_factory=RecordingProducer)}
    offsets = iter(range(10**6))

    def send(type_, data):
        contracts.validate(type_, data)
        ev = envelope.new_event(type_, data["id"], data, data["version"])
        topic, key, value, headers = envelope.to_kafka(ev)
        return inboxes[topic].handle_message(Record(topic, 0, next(offsets), key, value, headers))
    return send


@pytest.fixture
def installer_lead(as_user, client):
    """The manager of the Installation team (its only member)."""
    lead = as_user("sales_rep")
    teams = client.get("/api/v1/teams").json
    team = next((t for t in teams if t["name"].lower() == "installation"), None)
    if team is None:
        team = client.post("/api/v1/teams", json={"name": "Installation"}).json
    for m in team["members"]:
        assert client.delete(f"/api/v1/teams/{team['id']}/members/{m['user_id']}").status_code == 200
    r = client.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": lead.user["id"], "role": "manager"})
    assert r.status_code == 200, r.json
    return lead


def public(app):
    """A phone with an address of its own (the form is rate-limited per address)."""
    phone = app.test_client()
    phone.environ_base["REMOTE_ADDR"] = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return phone


def order(deal, party_id, status, version, order_id):
    return {"id": order_id, "number": "SO-2026-00077", "crm_order_id": str(uuid.uuid4()), "deal_id": deal["id"],
            "party_id": party_id, "status": status, "reason": None, "currency": "EUR",
            "lines": [{"product_id": str(uuid.uuid4()), "quantity": "1", "delivered_quantity":
                       "1" if status == "delivered" else "0", "unit_price": "900"}],
            "net_total": "900", "tax_total": "180", "gross_total": "1080", "last_delivery_at": None,
            "version": version, "updated_at": datetime.now(UTC).isoformat()}


def work_order(deal, party_id, status, version, order_id, wo_id):
    return {"id": wo_id, "number": "WO-2026-00009", "sales_order_id": order_id, "sales_order_number": "SO-2026-00077",
            "crm_order_id": None, "deal_id": deal["id"], "party_id": party_id, "product_id": str(uuid.uuid4()),
            "sku": "OVEN", "product_name": "Baking oven", "quantity": "1", "status": status, "assignee": None,
            "expected_date": datetime.now(UTC).date().isoformat(), "unit_cost": None, "started_at": None,
            "done_at": None, "operations": [], "version": version, "updated_at": datetime.now(UTC).isoformat()}


@pytest.fixture
def delivered(as_user, erp, installer_lead):
    """A won deal whose order is delivered and whose work order is done (in that order or the other)."""
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {uuid.uuid4().hex[:6]}"}).json
    deal = rep.post("/api/v1/deals", json={"name": f"Oven {uuid.uuid4().hex[:4]}", "party_id": acme["id"]}).json
    order_id, wo_id = str(uuid.uuid4()), str(uuid.uuid4())
    erp("erp.workorder.changed", work_order(deal, acme["id"], "in_progress", 1, order_id, wo_id))
    erp("erp.order.delivered", order(deal, acme["id"], "delivered", 2, order_id))
    assert rep.get(f"/api/v1/installations?deal_id={deal['id']}").json == []  # the oven is not made yet
    erp("erp.workorder.changed", work_order(deal, acme["id"], "done", 2, order_id, wo_id))
    return {"rep": rep, "deal": deal, "party": acme, "order_id": order_id}


def test_the_installer_reports_through_the_link_and_the_deal_shows_it_installed(
        app, delivered, installer_lead, db):
    rep, deal = delivered["rep"], delivered["deal"]
    (inst,) = rep.get(f"/api/v1/installations?deal_id={deal['id']}").json
    assert inst["status"] == "open" and inst["link_active"] is False
    (task,) = installer_lead.get("/api/v1/tasks", query_string={"record_type": "deal", "record_id": deal["id"]}
                                 ).json["items"]
    assert task["title"].startswith("Install Baking oven x 1") and task["status"] == "open"
    assert rep.get(f"/api/v1/deals/{deal['id']}/fulfilment").json["stage"] == "installing"

    link = rep.post(f"/api/v1/installations/{inst['id']}/link")
    assert link.status_code == 200, link.json
    token = link.json["token"]
    assert link.json["url"].endswith(f"{FORMS}/{token}")
    phone = public(app)
    page = phone.get(f"{FORMS}/{token}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"Baking oven x 1" in page.data and b'name="signed_by"' in page.data

    # a photo that is not an image (whatever its name) is refused, and nothing is recorded
    bad = phone.post(f"{FORMS}/{token}", data={"result": "done", "signed_by": "Jane Baker", "serials": "OV-1",
                                               "photos": (io.BytesIO(b"MZ not a picture"), "oven.jpg")},
                     content_type="multipart/form-data")
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "photos.0", bad.json
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert rep.get(f"/api/v1/installations/{inst['id']}").json["status"] == "open"

    ok = phone.post(f"{FORMS}/{token}", data={
        "result": "done", "signed_by": "Jane Baker", "notes": "In the back kitchen.", "serials": "OV-1, OV-2\nOV-2",
        "photos": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(b"\xff\xd8\xff" + b"\x00" * 32), "b.bin")]},
        content_type="multipart/form-data")
    assert ok.status_code == 200 and ok.json == {"status": "recorded"}, ok.json
    done = rep.get(f"/api/v1/installations/{inst['id']}").json
    assert (done["status"], done["serials"], done["signed_by"], done["link_active"]) == (
        "done", ["OV-1", "OV-2"], "Jane Baker", False)
    assert [p["content_type"] for p in done["photos"]] == ["image/png", "image/jpeg"]
    assert installer_lead.get(f"/api/v1/tasks/{task['id']}").json["status"] == "done"
    panel = rep.get(f"/api/v1/deals/{deal['id']}/fulfilment").json
    assert panel["stage"] == "installed" and panel["installations"][0]["serials"] == ["OV-1", "OV-2"]
    timeline = rep.get(f"/api/v1/parties/{delivered['party']['id']}/timeline").json["items"]
    assert any(e["title"] == "Installed (order SO-2026-00077), signed off by Jane Baker; serials: OV-1, OV-2"
               for e in timeline)
    with db.sessions.begin() as s:
        rows = s.execute(select(outbox.c.type, outbox.c.payload).where(outbox.c.aggregateid == inst["id"])).all()
    assert [t for t, _ in rows] == ["crm.installation.completed"]
    contracts.validate("crm.installation.completed", rows[0].payload["data"])
    assert rows[0].payload["data"]["serials"] == ["OV-1", "OV-2"]

    # the link was for one report: used now, it answers a clear page and changes nothing
    again = phone.post(f"{FORMS}/{token}", data={"result": "problem", "signed_by": "Someone"},
                       content_type="multipart/form-data", headers={"Accept": "text/html"})
    assert again.status_code == 404 and b"cannot be used" in again.data
    assert rep.get(f"/api/v1/installations/{inst['id']}").json["result"] == "done"


def test_forged_withdrawn_and_expired_links_answer_the_same_and_change_nothing(app, delivered, db):
    rep, deal = delivered["rep"], delivered["deal"]
    (inst,) = rep.get(f"/api/v1/installations?deal_id={deal['id']}").json
    token = rep.post(f"/api/v1/installations/{inst['id']}/link").json["token"]
    phone = public(app)
    report = {"result": "done", "signed_by": "Jane"}
    head, expiry, _ = token.split(".")
    forged = [f"{head}.{expiry}.AAAA", f"{head}.{int(expiry) + 86400}.{token.split('.')[2]}", "nonsense",
              f"{uuid.uuid4()}.{expiry}.{token.split('.')[2]}"]
    answers = {phone.post(f"{FORMS}/{t}", data=report, content_type="multipart/form-data").json["detail"]
               for t in forged}
    assert len(answers) == 1  # never says which is wrong
    # a new link replaces the old one; withdrawing it leaves none
    newer = rep.post(f"/api/v1/installations/{inst['id']}/link").json["token"]
    assert phone.get(f"{FORMS}/{token}").status_code == 404
    assert rep.delete(f"/api/v1/installations/{inst['id']}/link").status_code == 200
    assert phone.post(f"{FORMS}/{newer}", data=report, content_type="multipart/form-data").status_code == 404
    latest = rep.post(f"/api/v1/installations/{inst['id']}/link").json["token"]
    with db.sessions.begin() as s:
        s.execute(update(Installation).where(Installation.id == inst["id"]).values(
            link_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert phone.post(f"{FORMS}/{latest}", data=report, content_type="multipart/form-data").status_code == 404
    assert rep.get(f"/api/v1/installations/{inst['id']}").json["status"] == "open"


def test_the_form_is_rate_limited_per_address(app):
    phone = public(app)
    codes = [phone.get(f"{FORMS}/{uuid.uuid4()}.1.x").status_code for _ in range(21)]
    assert codes[:20] == [404] * 20 and codes[20] == 429
