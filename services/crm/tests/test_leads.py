"""Marketing captures leads from websites, salespeople qualify them, find duplicates and convert them."""

import uuid

import pytest
from crm.deals.models import Deal
from crm.leads.models import Lead
from crm.parties.models import Party
from crm.timeline.models import TimelineEntry
from sqlalchemy import func, select

pytestmark = pytest.mark.db


def tag() -> str:
    return uuid.uuid4().hex[:8]


def new_address() -> dict:
    """A client address of its own, so one test's submissions never count against another's rate limit."""
    n = uuid.uuid4().int
    return {"REMOTE_ADDR": f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250}"}


def make_form(client, **over) -> dict:
    body = {"name": f"Contact form {tag()}", "campaign": f"spring-{tag()}", **over}
    r = client.post("/api/v1/lead-forms", json=body)
    assert r.status_code == 201, r.json
    return r.json


def submit(anonymous, form, body=None, env=None, **kwargs):
    return anonymous.post(form["submit_url"], json=body, environ_base=env or new_address(), **kwargs)


def leads_of_form(db, form_id) -> list[Lead]:
    with db.sessions() as s:
        return list(s.execute(select(Lead).where(Lead.form_id == form_id)).scalars())


def create_lead(client, **body) -> dict:
    body.setdefault("last_name", f"Lead {tag()}")
    r = client.post("/api/v1/leads", json=body)
    assert r.status_code == 201, r.json
    return r.json


def count(db, model) -> int:
    with db.sessions() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


# -- public capture ----------------------------------------------------------------------------

def test_a_website_visitor_leaves_a_lead_that_lands_with_the_forms_owner_and_campaign(as_user, anonymous, db):
    marketer = as_user("marketing")
    form = make_form(marketer)
    assert form["submit_url"] == f"http://127.0.0.1:8010/api/v1/public/lead-forms/{form['form_key']}/submissions"
    assert form["owner_id"] == marketer.user["id"] and form["source"] == "web_form"
    mail = f"visitor-{tag()}@example.test"
    r = submit(anonymous, form, {"first_name": "Zoé", "last_name": "Martin", "company_name": "Brico SA",
                                 "email": mail, "phone": "+33 6 11 22 33 44", "message": "Call me",
                                 "utm_source": "newsletter", "consent": "yes"})
    assert r.status_code == 201 and r.json == {"status": "received"}  # no id leaks out
    (lead,) = leads_of_form(db, form["id"])
    assert (lead.source, lead.campaign, lead.owner_id, lead.status) == ("web_form", form["campaign"],
                                                                        marketer.user["id"], "new")
    assert lead.email == mail and lead.utm_source == "newsletter" and lead.submissions == 1
    seen = marketer.get(f"/api/v1/leads/{lead.id}").json
    assert seen["display_name"] == "Zoé Martin" and seen["form_id"] == form["id"]
    trail = as_user("admin").get("/api/v1/audit", query_string={"entity_type": "lead", "entity_id": lead.id}).json
    assert trail["items"][0]["action"] == "create" and trail["items"][0]["actor"].startswith("lead form ")
    with db.sessions() as s:
        assert s.execute(select(TimelineEntry.kind).where(TimelineEntry.lead_id == lead.id)).scalars().all() == [
            "lead_created"]


def test_a_plain_html_form_post_is_accepted_too(client, anonymous, db):
    form = make_form(client)
    r = anonymous.post(form["submit_url"], data={"last_name": "Form", "email": f"f-{tag()}@example.test",
                                                 "phone": "", "website_url": "", "utm_medium": "cpc"},
                       environ_base=new_address())
    assert r.status_code == 201
    (lead,) = leads_of_form(db, form["id"])
    assert lead.phone is None and lead.utm_medium == "cpc"


def test_a_browser_posting_the_form_lands_on_the_forms_page_whatever_happened(client, anonymous, db):
    form = make_form(client, redirect_url="https://www.example.test/thanks?lang=fr")
    assert form["redirect_url"] == "https://www.example.test/thanks?lang=fr"
    here = new_address()
    r = anonymous.post(form["submit_url"], data={"last_name": "Form", "email": f"f-{tag()}@example.test"},
                       environ_base=here)
    assert r.status_code == 303 and r.headers["Location"] == "https://www.example.test/thanks?lang=fr&status=received"
    assert len(leads_of_form(db, form["id"])) == 1
    r = anonymous.post(form["submit_url"], data={"last_name": "Form", "email": "not-an-email"}, environ_base=here)
    assert r.status_code == 303 and r.headers["Location"].endswith("&status=invalid")
    assert len(leads_of_form(db, form["id"])) == 1
    # JSON clients (a site's own script) still get JSON
    assert submit(anonymous, form, {"email": f"j-{tag()}@example.test"}).status_code == 201
    # an unknown key says nothing and sends the browser nowhere
    r = anonymous.post(form["submit_url"].replace(form["form_key"], "nope"), data={"email": "a@b.test"})
    assert r.status_code == 404


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.test/x", "/relative"])
def test_a_redirect_url_must_be_a_web_address(client, url):
    r = client.post("/api/v1/lead-forms", json={"name": f"Bad {tag()}", "redirect_url": url})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "redirect_url"


def test_a_bot_filling_the_honeypot_is_told_received_and_nothing_is_stored(client, anonymous, db):
    form = make_form(client)
    r = submit(anonymous, form, {"last_name": "Bot", "email": f"bot-{tag()}@spam.test",
                                 "website_url": "http://spam.test"})
    assert r.status_code == 201 and r.json == {"status": "received"}
    assert leads_of_form(db, form["id"]) == []


def test_submissions_are_rate_limited_per_form_and_address(client, anonymous, db):
    form = make_form(client)
    here = new_address()
    for i in range(10):
        assert submit(anonymous, form, {"email": f"r{i}-{tag()}@example.test"}, env=here).status_code == 201
    blocked = submit(anonymous, form, {"email": f"late-{tag()}@example.test"}, env=here)
    assert blocked.status_code == 429 and blocked.content_type == "application/problem+json"
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert submit(anonymous, form, {"email": f"other-{tag()}@example.test"}).status_code == 201  # another address
    assert len(leads_of_form(db, form["id"])) == 11


def test_oversized_bodies_and_fields_are_refused(client, anonymous, db):
    form = make_form(client)
    huge = submit(anonymous, form, {"email": f"big-{tag()}@example.test", "message": "x" * 17_000})
    assert huge.status_code == 413 and huge.content_type == "application/problem+json"
    long_field = submit(anonymous, form, {"email": f"long-{tag()}@example.test", "first_name": "x" * 151})
    assert long_field.status_code == 422 and long_field.json["errors"][0]["field"] == "first_name"
    nobody = submit(anonymous, form, {"first_name": "No way to reach me"})
    assert nobody.status_code == 422 and nobody.json["errors"][0]["field"] == "email"
    assert submit(anonymous, form, None, data="not json", content_type="text/plain").status_code == 415
    assert leads_of_form(db, form["id"]) == []


def test_unknown_inactive_and_rotated_form_keys_are_not_found(client, anonymous):
    assert anonymous.post("/api/v1/public/lead-forms/nope/submissions", json={"email": "a@b.test"},
                          environ_base=new_address()).status_code == 404
    form = make_form(client)
    rotated = client.post(f"/api/v1/lead-forms/{form['id']}/rotate-key")
    assert rotated.status_code == 200 and rotated.json["form_key"] != form["form_key"]
    assert submit(anonymous, form, {"email": f"old-{tag()}@example.test"}).status_code == 404
    assert submit(anonymous, rotated.json, {"email": f"new-{tag()}@example.test"}).status_code == 201
    off = client.patch(f"/api/v1/lead-forms/{form['id']}", json={"active": False},
                       headers={"If-Match": rotated.headers["ETag"]})
    assert off.status_code == 200 and off.json["active"] is False
    assert submit(anonymous, rotated.json, {"email": f"off-{tag()}@example.test"}).status_code == 404


def test_a_form_limited_to_its_websites_refuses_other_origins(client, anonymous, db):
    form = make_form(client, allowed_origins=["https://www.shop.test/"])
    assert form["allowed_origins"] == ["https://www.shop.test"]
    ok = submit(anonymous, form, {"email": f"o-{tag()}@example.test"}, headers={"Origin": "https://www.shop.test"})
    assert ok.status_code == 201 and ok.headers["Access-Control-Allow-Origin"] == "https://www.shop.test"
    evil = submit(anonymous, form, {"email": f"e-{tag()}@example.test"}, headers={"Origin": "https://evil.test"})
    assert evil.status_code == 403
    assert len(leads_of_form(db, form["id"])) == 1


def test_the_same_visitor_submitting_twice_makes_one_lead_with_both_messages(client, anonymous, db):
    form = make_form(client)
    mail = f"twice-{tag()}@example.test"
    assert submit(anonymous, form, {"email": mail, "message": "First question"}).status_code == 201
    again = submit(anonymous, form, {"email": mail.upper(), "message": "Second question", "last_name": "Twice"})
    assert again.status_code == 201 and again.json == {"status": "received"}
    (lead,) = leads_of_form(db, form["id"])
    assert lead.submissions == 2 and lead.message == "First question\n\nSecond question"
    assert lead.last_name == "Twice"  # empty fields are filled in, nothing is overwritten


def test_only_lead_form_managers_manage_forms(as_user):
    rep = as_user("sales_rep")
    assert rep.get("/api/v1/lead-forms").status_code == 403
    assert rep.post("/api/v1/lead-forms", json={"name": "Mine"}).status_code == 403
    admin = as_user("admin")
    form = make_form(admin)
    dup = admin.post("/api/v1/lead-forms", json={"name": form["name"]})
    assert dup.status_code == 409 and dup.json["errors"][0]["field"] == "name"
    bad = admin.post("/api/v1/lead-forms", json={"name": f"F {tag()}", "allowed_origins": ["https://x.test/path"]})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "allowed_origins.0"


# -- leads through the API ---------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ({"email": "x@example.test"}, "last_name"),
    ({"last_name": "X", "email": "not-an-email"}, "email"),
    ({"last_name": "X", "phone": "call me"}, "phone"),
    ({"last_name": "X", "source": "carrier_pigeon"}, "source"),
    ({"last_name": "X", "score": 101}, "score"),
    ({"last_name": "X", "colour": "red"}, "colour"),
    ({"last_name": "X", "owner_id": "nobody"}, "owner_id"),
])
def test_bad_lead_input_is_refused_naming_the_field(client, db, body, field):
    before = count(db, Lead)
    r = client.post("/api/v1/leads", json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in [e["field"] for e in r.json["errors"]], r.json
    assert count(db, Lead) == before


def test_a_rep_creates_changes_and_qualifies_a_lead(as_user):
    rep = as_user("sales_rep")
    lead = create_lead(rep, first_name="Ana", last_name="Ruiz", company_name="Ruiz SL", source="event",
                       campaign="fair-2026", utm_campaign="fair")
    assert lead["owner_id"] == rep.user["id"] and lead["status"] == "new" and lead["version"] == 1
    url = f"/api/v1/leads/{lead['id']}"
    assert rep.patch(url, json={"status": "contacted"}).status_code == 428
    r = rep.patch(url, json={"status": "contacted", "job_title": "CTO"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"' and r.json["job_title"] == "CTO"
    assert rep.patch(url, json={"job_title": "CEO"}, headers={"If-Match": '"1"'}).status_code == 412
    q = rep.post(url + "/qualify")
    assert q.status_code == 200 and q.json["status"] == "qualified" and q.json["qualified_at"]
    no_reason = rep.post(url + "/disqualify", json={})
    assert no_reason.status_code == 422 and no_reason.json["errors"][0]["field"] == "reason"
    d = rep.post(url + "/disqualify", json={"reason": "No budget"})
    assert d.json["status"] == "disqualified" and d.json["disqualify_reason"] == "No budget"
    assert rep.post(url + "/convert", json={}).status_code == 409  # qualify it again first
    assert rep.post(url + "/qualify").json["disqualify_reason"] is None


def test_a_retried_create_with_the_same_idempotency_key_creates_one_lead(client, db):
    key = str(uuid.uuid4())
    body = {"last_name": f"Once {tag()}"}
    before = count(db, Lead)
    first = client.post("/api/v1/leads", json=body, headers={"Idempotency-Key": key})
    again = client.post("/api/v1/leads", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and again.json["id"] == first.json["id"]
    assert count(db, Lead) == before + 1


def test_lists_filter_sort_and_paginate(client):
    campaign = f"c-{tag()}"
    for name, source in (("Bravo", "event"), ("Alpha", "referral"), ("Charlie", "event")):
        create_lead(client, last_name=f"{name} {campaign}", source=source, campaign=campaign)
    page = client.get("/api/v1/leads", query_string={"campaign": campaign, "source": "event",
                                                     "sort": "-display_name"}).json
    assert [lead["last_name"].split()[0] for lead in page["items"]] == ["Charlie", "Bravo"]
    paged = client.get("/api/v1/leads", query_string={"q": campaign.upper(), "page_size": 2, "page": 2}).json
    assert paged["total"] == 3 and paged["pages"] == 2 and len(paged["items"]) == 1
    bad = client.get("/api/v1/leads", query_string={"sort": "password"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "sort"


def test_reps_see_only_their_own_leads_managers_their_teams_and_shares_open_them(as_user):
    admin, rep, other, manager = as_user("admin"), as_user("sales_rep"), as_user("sales_rep"), as_user("sales_manager")
    mine = create_lead(rep, company_name=f"Mine {tag()}")
    url = f"/api/v1/leads/{mine['id']}"
    assert other.get(url).status_code == 404
    assert other.get("/api/v1/leads", query_string={"q": mine["company_name"]}).json["total"] == 0
    assert other.post(url + "/qualify").status_code == 404
    team = admin.post("/api/v1/teams", json={"name": f"Team {tag()}"}).json
    admin.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": rep.user["id"]})
    admin.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": manager.user["id"], "role": "manager"})
    assert manager.get(url).status_code == 200
    assert rep.post(url + "/shares", json={"user_id": other.user["id"], "access": "read"}).status_code == 201
    assert other.get(url).status_code == 200
    assert other.post(url + "/qualify").status_code == 403  # read-only share
    marketer = as_user("marketing")
    assert marketer.get(url).status_code == 200  # leads:read_all
    assert manager.post(url + "/assign", json={"owner_id": manager.user["id"]}).json["owner_id"] == manager.user["id"]


# -- duplicates --------------------------------------------------------------------------------

def test_duplicates_are_found_among_parties_and_leads_despite_accents_case_and_phone_format(client):
    t, n = tag(), f"{uuid.uuid4().int % 10**6:06d}"
    company = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Société Dupré {t} S.A."}).json
    person = client.post("/api/v1/parties", json={
        "kind": "person", "first_name": "Hélène", "last_name": f"Dupré{t}", "company_id": company["id"],
        "emails": [{"value": f"Helene.{t}@Dupre.test"}], "phones": [{"value": f"+33 4 {n[:2]} {n[2:4]} {n[4:]} 00"}]}
    ).json
    older = create_lead(client, first_name="helene", last_name=f"DUPRE{t}", company_name=f"societe dupre {t}")
    lead = create_lead(client, first_name="HELENE", last_name=f"dupre{t}", company_name=f"Societe  Dupre {t} SAS",
                       email=f"helene.{t}@dupre.TEST", phone=f"04.{n[:2]}.{n[2:4]}.{n[4:]}.00")
    found = {m["id"]: m for m in client.get(f"/api/v1/leads/{lead['id']}/duplicates").json}
    assert set(found[person["id"]]["reasons"]) == {"email", "phone", "name_company"}
    assert found[person["id"]]["record_type"] == "party" and found[person["id"]]["kind"] == "person"
    assert found[company["id"]]["reasons"] == ["company"]
    assert found[older["id"]]["record_type"] == "lead" and found[older["id"]]["reasons"] == ["name_company"]
    assert lead["id"] not in found
    unrelated = create_lead(client, last_name=f"Nobody {tag()}", email=f"n-{tag()}@example.test")
    assert client.get(f"/api/v1/leads/{unrelated['id']}/duplicates").json == []


def test_duplicates_never_reveal_records_the_caller_cannot_see(as_user):
    rep, other = as_user("sales_rep"), as_user("sales_rep")
    mail = f"secret-{tag()}@example.test"
    other.post("/api/v1/parties", json={"kind": "person", "last_name": "Hidden", "emails": [{"value": mail}]})
    create_lead(other, last_name="Hidden", email=mail)
    lead = create_lead(rep, last_name="Visible", email=mail)
    assert rep.get(f"/api/v1/leads/{lead['id']}/duplicates").json == []


# -- conversion --------------------------------------------------------------------------------

def test_conversion_creates_company_person_and_deal_at_once_and_cannot_happen_twice(as_user, db):
    rep = as_user("sales_rep")
    t = tag()
    lead = create_lead(rep, first_name="Paul", last_name=f"Klee {t}", company_name=f"Bauhaus {t} GmbH",
                       email=f"paul-{t}@bauhaus.test", phone="+49 30 1234567", job_title="Painter")
    url = f"/api/v1/leads/{lead['id']}"
    rep.post(url + "/qualify")
    r = rep.post(url + "/convert", json={"deal": {"amount": "1500.505", "expected_close_date": "2031-05-20"}})
    assert r.status_code == 200, r.json
    out = r.json
    assert out["created"] == ["company", "person", "deal"]
    company = rep.get(f"/api/v1/parties/{out['party_id']}").json
    person = rep.get(f"/api/v1/parties/{out['person_id']}").json
    deal = rep.get(f"/api/v1/deals/{out['deal_id']}").json
    assert company["kind"] == "company" and company["legal_name"] == f"Bauhaus {t} GmbH"
    assert person["company_id"] == company["id"] and person["emails"][0]["value"] == f"paul-{t}@bauhaus.test"
    assert person["job_title"] == "Painter" and person["owner_id"] == rep.user["id"]
    assert deal["party_id"] == company["id"] and deal["contact_person_id"] == person["id"]
    assert deal["source_lead_id"] == lead["id"] and deal["amount"] == "1500.51" and deal["stage"]["name"] == \
        "Qualification" and deal["name"] == company["display_name"]
    converted = out["lead"]
    assert converted["status"] == "converted" and converted["converted_deal_id"] == deal["id"]
    assert converted["converted_party_id"] == company["id"] and converted["converted_person_id"] == person["id"]
    again = rep.post(url + "/convert", json={})
    assert again.status_code == 409 and again.json["party_id"] == company["id"]
    assert rep.patch(url, json={"job_title": "x"}, headers={"If-Match": f'"{converted["version"]}"'}).status_code == 409
    assert rep.get(url).json["status"] == "converted"  # the lead stays, with its history
    trail = as_user("admin").get("/api/v1/audit", query_string={"entity_type": "lead", "entity_id": lead["id"]})
    assert [e["action"] for e in trail.json["items"]] == ["convert", "qualify", "create"]
    with db.sessions() as s:
        kinds = s.execute(select(TimelineEntry.kind).where(TimelineEntry.lead_id == lead["id"])
                          .order_by(TimelineEntry.occurred_at)).scalars().all()
    assert kinds == ["lead_created", "lead_qualified", "deal_created", "lead_converted"]


def test_conversion_into_a_matched_existing_company_adds_the_person_there(client):
    company = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Existing {tag()}"}).json
    lead = create_lead(client, first_name="New", last_name="Contact", company_name=company["legal_name"])
    r = client.post(f"/api/v1/leads/{lead['id']}/convert", json={"party_id": company["id"], "create_deal": False})
    assert r.status_code == 200 and r.json["created"] == ["person"] and r.json["deal_id"] is None
    assert r.json["party_id"] == company["id"]
    assert client.get(f"/api/v1/parties/{r.json['person_id']}").json["company_id"] == company["id"]


def test_a_failed_conversion_changes_nothing(client, db, outbox_size):
    lead = create_lead(client, first_name="Fail", last_name=f"Safe {tag()}", company_name=f"Rollback {tag()}")
    parties, deals, events = count(db, Party), count(db, Deal), outbox_size()
    r = client.post(f"/api/v1/leads/{lead['id']}/convert", json={"deal": {"pipeline_id": str(uuid.uuid4())}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "pipeline_id"
    assert (count(db, Party), count(db, Deal), outbox_size()) == (parties, deals, events)
    after = client.get(f"/api/v1/leads/{lead['id']}").json
    assert after["status"] == "new" and after["version"] == 1 and after["converted_party_id"] is None
    invisible = client.post(f"/api/v1/leads/{lead['id']}/convert", json={"party_id": str(uuid.uuid4())})
    assert invisible.status_code == 422 and invisible.json["errors"][0]["field"] == "party_id"


def test_a_rep_cannot_convert_into_someone_elses_party(as_user):
    rep, other = as_user("sales_rep"), as_user("sales_rep")
    theirs = other.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Theirs {tag()}"}).json
    lead = create_lead(rep, company_name=theirs["legal_name"])
    r = rep.post(f"/api/v1/leads/{lead['id']}/convert", json={"party_id": theirs["id"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "party_id"
