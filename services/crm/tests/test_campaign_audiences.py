"""A marketer builds audiences: segments counted in SQL when used, lists imported from CSV, consent recorded with
its history, a double opt-in form confirmed only by a POST, and one suppression list every send obeys."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from crm.campaigns.models import EmailAddress, ListMember
from crm.db import mail_outbox, outbox
from servicekit.mail_outbox import MailSender
from sqlalchemy import func, select

from tests.support.smtp import Inbox, start_server

pytestmark = pytest.mark.db


def uid() -> str:
    return uuid.uuid4().hex[:10]


def created(r, status=201):
    assert r.status_code == status, r.json
    return r.json


@pytest.fixture
def marketer(as_user):
    return as_user("marketing")


def person(client, email: str, country="PT", roles=("customer",)) -> dict:
    return created(client.post("/api/v1/parties", json={
        "kind": "person", "first_name": "Ana", "last_name": uid(), "roles": list(roles),
        "emails": [{"value": email, "primary": True}], "billing_address": {"line1": "Rua 1", "city": "Porto",
                                                                          "country": country}}))


def preview(client, body, status=200):
    r = client.post("/api/v1/campaigns/segments/preview", json=body)
    assert r.status_code == status, r.json
    return r.json


def consent_events(db, email: str) -> list[tuple[str, dict]]:
    with db.sessions() as s:
        address_id = s.execute(select(EmailAddress.id).where(EmailAddress.email == email)).scalar_one()
        rows = s.execute(select(outbox.c.type, outbox.c.payload).where(outbox.c.aggregateid == address_id)
                         .order_by(outbox.c.id)).all()
    return [(r.type, r.payload["data"]) for r in rows]


def test_a_segment_counts_the_people_it_reaches_now_and_leaves_suppressed_addresses_out(as_user, marketer):
    rep = as_user("sales_rep")
    tag = uid()
    emails = [f"{tag}-{i}@example.com" for i in range(3)]
    for e in emails:
        person(rep, e, country="PT")
    person(rep, f"{tag}-es@example.com", country="ES")
    person(rep, f"{tag}-sup@example.com", country="PT", roles=("supplier",))
    body = {"subject": "parties", "filter": {"owner_ids": [rep.user["id"]], "countries": ["PT"],
                                             "roles": ["customer"]}}

    seen = preview(marketer, body)
    assert seen["count"] == 3 and sorted(r["email"] for r in seen["sample"]) == emails

    segment = created(marketer.post("/api/v1/campaigns/segments", json={"name": f"Porto {tag}", **body}))
    created(marketer.post("/api/v1/campaigns/suppressions", json={"email": emails[0], "note": "asked by phone"}),
            200)
    now = marketer.get(f"/api/v1/campaigns/segments/{segment['id']}/preview").json
    assert now["count"] == 2 and emails[0] not in [r["email"] for r in now["sample"]]

    # widening the saved filter (If-Match) is seen at once: nothing is stored but the filter
    etag = marketer.get(f"/api/v1/campaigns/segments/{segment['id']}").headers["ETag"]
    r = marketer.patch(f"/api/v1/campaigns/segments/{segment['id']}", headers={"If-Match": etag},
                       json={"filter": {"owner_ids": [rep.user["id"]]}})
    assert r.status_code == 200, r.json
    assert marketer.get(f"/api/v1/campaigns/segments/{segment['id']}/preview").json["count"] == 4


def test_a_filter_on_an_unknown_field_is_refused_naming_it_and_nothing_is_saved(marketer):
    name = f"Bad {uid()}"
    r = marketer.post("/api/v1/campaigns/segments", json={"name": name, "filter": {"favourite_colour": "red"}})
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json"
    assert any("favourite_colour" in e["field"] for e in r.json["errors"]), r.json
    r = marketer.post("/api/v1/campaigns/segments", json={"name": name, "subject": "leads",
                                                          "filter": {"has_open_deal": True}})
    assert r.status_code == 422 and any("has_open_deal" in e["field"] for e in r.json["errors"]), r.json
    assert name not in [s["name"] for s in marketer.get("/api/v1/campaigns/segments").json]


def test_open_deals_and_lead_segments_select_by_what_happened(as_user, marketer):
    rep = as_user("sales_rep")
    tag = uid()
    with_deal = person(rep, f"{tag}-deal@example.com")
    person(rep, f"{tag}-none@example.com")
    created(rep.post("/api/v1/deals", json={"name": "Renewal", "party_id": with_deal["id"]}))
    base = {"owner_ids": [rep.user["id"]]}
    assert [r["email"] for r in preview(marketer, {"filter": {**base, "has_open_deal": True}})["sample"]] == [
        f"{tag}-deal@example.com"]
    assert [r["email"] for r in preview(marketer, {"filter": {**base, "has_open_deal": False}})["sample"]] == [
        f"{tag}-none@example.com"]

    campaign = f"spring-{tag}"
    created(rep.post("/api/v1/leads", json={"first_name": "Lia", "last_name": tag, "email": f"{tag}-lead@x.org",
                                            "source": "event", "campaign": campaign}))
    leads = preview(marketer, {"subject": "leads", "filter": {"lead_campaign": campaign}})
    assert leads["count"] == 1 and leads["sample"][0]["email"] == f"{tag}-lead@x.org"
    assert leads["sample"][0]["lead_id"] and leads["sample"][0]["party_id"] is None


def test_a_csv_of_already_confirmed_subscribers_records_their_consent_and_its_source(marketer, db):
    tag = uid()
    lst = created(marketer.post("/api/v1/campaigns/lists", json={"name": f"Newsletter {tag}"}))
    csv = f"Email,Name\n{tag}-a@example.com,Ana\n{tag.upper()}-B@Example.com,Bo\n{tag}-a@example.com,Ana again\n"
    r = marketer.post(f"/api/v1/campaigns/lists/{lst['id']}/import",
                      json={"csv": csv, "source": "old newsletter tool, export of 2026-11", "already_confirmed": True})
    assert r.status_code == 200, r.json
    assert r.json == {"rows": 3, "added": 2, "already_members": 1, "confirmed": 2, "suppressed": 0}
    assert marketer.get(f"/api/v1/campaigns/lists/{lst['id']}").json["members"] == 2

    address = marketer.get("/api/v1/campaigns/addresses", query_string={"email": f"{tag}-b@example.com"}).json
    assert address["consent"] == "subscribed" and address["consent_method"] == "import"
    assert address["consent_source"] == "old newsletter tool, export of 2026-11"
    assert [h["change"] for h in address["history"]] == ["subscribed"]
    (kind, data), = consent_events(db, f"{tag}-b@example.com")
    assert kind == "crm.consent.changed" and data["consent"] == "subscribed" and data["suppressed"] is False


def test_a_csv_with_a_bad_line_names_it_and_imports_nothing(marketer, db):
    tag = uid()
    lst = created(marketer.post("/api/v1/campaigns/lists", json={"name": f"List {tag}"}))
    r = marketer.post(f"/api/v1/campaigns/lists/{lst['id']}/import",
                      json={"csv": f"email\n{tag}@example.com\nnot-an-address\n", "source": "fair"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "csv[3].email", r.json
    with db.sessions() as s:
        assert s.execute(select(func.count()).select_from(ListMember).where(ListMember.list_id == lst["id"])
                         ).scalar_one() == 0
        assert s.get(EmailAddress, f"{tag}@example.com") is None


def test_suppression_is_published_and_an_owners_unsubscribe_cannot_be_lifted_by_staff(marketer, db):
    email = f"{uid()}@example.com"
    created(marketer.post("/api/v1/campaigns/suppressions", json={"email": email, "note": "lawyer's letter"}), 200)
    listed = marketer.get("/api/v1/campaigns/suppressions", query_string={"reason": "manual"}).json
    assert email in [a["email"] for a in listed["items"]]
    assert marketer.delete("/api/v1/campaigns/suppressions", query_string={"email": email}).status_code == 204
    events = consent_events(db, email)
    assert [(t, d["suppressed"], d["suppressed_reason"]) for t, d in events] == [
        ("crm.suppression.changed", True, "manual"), ("crm.suppression.changed", False, None)]
    assert [d["version"] for _, d in events] == [2, 3]

    created(marketer.post("/api/v1/campaigns/consents", json={"email": email, "consent": "unsubscribed",
                                                              "source": "phone call"}), 200)
    r = marketer.delete("/api/v1/campaigns/suppressions", query_string={"email": email})
    assert r.status_code == 409 and r.json["errors"][0]["field"] == "email"
    assert marketer.get("/api/v1/campaigns/addresses", query_string={"email": email}).json[
        "suppressed_reason"] == "unsubscribed"


# -- double opt-in ------------------------------------------------------------------------------------------------

@pytest.fixture
def smtp(db):
    inbox = Inbox()
    controller = start_server(inbox)
    from servicekit.mail_outbox import SmtpTransport
    since = datetime.now(UTC) - timedelta(seconds=1)
    sender = MailSender(db.engine, mail_outbox, SmtpTransport("127.0.0.1", controller.port),
                        scope=(mail_outbox.c.created_at >= since) & (mail_outbox.c.ref_type == "subscription"))
    inbox.deliver = sender.send_due
    yield inbox
    controller.stop()


def new_address() -> dict:
    n = uuid.uuid4().int
    return {"REMOTE_ADDR": f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250}"}


@pytest.fixture
def form(marketer):
    lst = created(marketer.post("/api/v1/campaigns/lists", json={"name": f"Letters {uid()}"}))
    return created(marketer.post("/api/v1/campaigns/subscription-forms",
                                 json={"name": f"Website {uid()}", "list_id": lst["id"]})) | {"list": lst}


def test_double_opt_in_subscribes_only_when_the_owner_presses_the_button(anonymous, marketer, form, smtp):
    email = f"{uid()}@example.com"
    path = form["subscribe_url"].removeprefix("http://127.0.0.1:8010")
    r = anonymous.post(path, data={"email": email}, environ_base=new_address())
    assert r.status_code == 202 and "set-cookie" not in r.headers
    assert smtp.deliver() == 1
    (rcpts, msg), = smtp.messages
    assert rcpts == [email]
    link = re.search(r"http://\S+/confirm/\S+", msg.get_content()).group(0).removeprefix("http://127.0.0.1:8010")

    # a link scanner fetches the URL: the page shows a button and nothing is confirmed
    page = anonymous.get(link, headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"<form method=\"post\">" in page.data and email.encode() in page.data
    before = marketer.get("/api/v1/campaigns/addresses", query_string={"email": email}).json
    assert before["consent"] == "pending" and before["consent_ip"].startswith("10.")
    assert marketer.get(f"/api/v1/campaigns/lists/{form['list']['id']}").json["members"] == 0

    assert anonymous.post(link, headers={"Accept": "application/json"}).json["confirmed"] is True
    after = marketer.get("/api/v1/campaigns/addresses", query_string={"email": email}).json
    assert after["consent"] == "subscribed" and after["consent_method"] == "double_opt_in"
    assert after["consent_source"] == f"subscription form {form['name']}"
    assert [h["change"] for h in after["history"]] == ["pending", "subscribed"]
    assert marketer.get(f"/api/v1/campaigns/lists/{form['list']['id']}").json["members"] == 1
    assert anonymous.post(link).status_code == 200  # a second press changes nothing
    assert len(marketer.get("/api/v1/campaigns/addresses", query_string={"email": email}).json["history"]) == 2


def test_a_forged_or_revoked_confirmation_is_404_and_records_nothing(anonymous, marketer, form, smtp, db):
    email = f"{uid()}@example.com"
    path = form["subscribe_url"].removeprefix("http://127.0.0.1:8010")
    assert anonymous.post(path, json={"email": email}, environ_base=new_address()).status_code == 202
    smtp.deliver()
    link = re.search(r"/api/v1/public/subscriptions/confirm/\S+", smtp.messages[0][1].get_content()).group(0)
    assert anonymous.post(link[:-3] + "xyz").status_code == 404
    etag = marketer.get("/api/v1/campaigns/subscription-forms").headers.get("ETag")
    del etag
    r = marketer.patch(f"/api/v1/campaigns/subscription-forms/{form['id']}", json={"rotate_key": True},
                       headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.json
    assert anonymous.post(link).status_code == 404 and anonymous.get(link).status_code == 404
    assert anonymous.post(path, json={"email": email}, environ_base=new_address()).status_code == 404  # old key
    assert marketer.get("/api/v1/campaigns/addresses", query_string={"email": email}).json["consent"] == "pending"


def test_the_public_form_answers_the_same_for_anyone_and_is_rate_limited(anonymous, form, marketer, smtp):
    path = form["subscribe_url"].removeprefix("http://127.0.0.1:8010")
    blocked = f"{uid()}@example.com"
    created(marketer.post("/api/v1/campaigns/suppressions", json={"email": blocked}), 200)
    env = new_address()
    answers = [anonymous.post(path, json={"email": e}, environ_base=env)
               for e in (blocked, f"{uid()}@example.com", "not an address")]
    assert [a.status_code for a in answers] == [202, 202, 422]
    assert answers[0].json == answers[1].json
    assert smtp.deliver() == 1 and smtp.messages[0][0] != [blocked]  # the blocked address gets nothing
    answers = [anonymous.post(path, json={"email": f"{uid()}@example.com"}, environ_base=env) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429] and int(answers[-1].headers["Retry-After"]) >= 1
    assert anonymous.post("/api/v1/public/subscriptions/nosuchkey", json={"email": "a@b.org"},
                          environ_base=new_address()).status_code == 404
