"""A marketer writes a campaign, previews it, tests it, and the worker sends it through a real SMTP server
(aiosmtpd): once per recipient, with the list headers, never to a suppressed address; recipients open, click and
unsubscribe through signed links, and the figures and timelines show it."""

import base64
import re
import smtplib
import socket
import threading
import uuid
from datetime import timedelta

import pytest
from crm.campaigns.models import CampaignRecipient
from crm.mail.inbound import InboundMail
from crm.timeline.models import TimelineEntry
from sqlalchemy import select, update

from tests.support.campaigns import run
from tests.support.smtp import free_port

pytestmark = pytest.mark.db


def uid() -> str:
    return uuid.uuid4().hex[:10]


def ok(r, status=200):
    assert r.status_code == status, r.json
    return r.json


@pytest.fixture
def marketer(as_user):
    return as_user("marketing")


def audience(marketer, n: int, tag: str) -> dict:
    lst = ok(marketer.post("/api/v1/campaigns/lists", json={"name": f"List {tag}"}), 201)
    rows = "\n".join(f"{tag}-{i}@example.com,Reader {i}" for i in range(n))
    ok(marketer.post(f"/api/v1/campaigns/lists/{lst['id']}/import", json={"csv": f"email,name\n{rows}\n",
                                                                          "source": "test"}))
    return lst


HTML = """<html><head><style>p.lead { color: #123456; }</style></head><body>
<p class="lead">Hello {{ recipient.first_name }},</p>
<p>See <a href="https://shop.example/spring?a=1&amp;b=2">our spring offers</a>.</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>"""


def campaign(marketer, **body) -> dict:
    body = {"name": f"Spring {uid()}", "subject": "Spring offers for {{ recipient.first_name }}", "html_body": HTML,
            **body}
    return ok(marketer.post("/api/v1/campaigns/mailings", json=body), 201)


def start(marketer, c) -> dict:
    return ok(marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/schedule", json={}))


def stats(marketer, c) -> dict:
    return ok(marketer.get(f"/api/v1/campaigns/mailings/{c['id']}/statistics"))


def test_a_campaign_reaches_each_recipient_once_with_list_headers_and_skips_suppressed_addresses(
        marketer, sender, smtp):
    tag = uid()
    lst = audience(marketer, 12, tag)
    ok(marketer.post("/api/v1/campaigns/suppressions", json={"email": f"{tag}-3@example.com"}))
    c = campaign(marketer, list_id=lst["id"])
    start(marketer, c)
    worker = sender(c["id"])
    assert run(worker) == 11
    assert run(worker) == 0  # nothing twice

    assert sorted(r[0] for r, _ in smtp.messages) == sorted(f"{tag}-{i}@example.com" for i in range(12) if i != 3)
    msg = next(m for r, m in smtp.messages if r == [f"{tag}-5@example.com"])
    assert msg["Subject"] == "Spring offers for Reader"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = [p.strip(" <>") for p in msg["List-Unsubscribe"].split(",")]
    assert https.startswith("http://127.0.0.1:8010/api/v1/public/campaign-mail/unsubscribe/")
    assert mailto.startswith("mailto:unsubscribe-list+") and "@bounces.northwind.test" in mailto  # a list's
    assert msg["List-Id"].endswith(f"<{lst['id']}.bounces.northwind.test>")
    assert len({m["Message-ID"] for _, m in smtp.messages}) == 11
    assert all(s.startswith("bounces+") and s.endswith("@bounces.northwind.test") for s in smtp.senders)
    assert len(set(smtp.senders)) == 11  # one VERP return path per recipient
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Hello Reader," in text and "our spring offers (https://shop.example/spring?a=1&b=2)" in text
    assert f'href="{https}"' in html  # the unsubscribe link is not a tracked redirect
    assert 'style="color: #123456;"' in html and "<style>" not in html  # CSS inlined
    assert "/campaign-mail/open/" in html

    figures = stats(marketer, c)
    assert (figures["recipients"], figures["sent"], figures["failed"], figures["status"]) == (11, 11, 0, "sent")


def test_templates_that_do_not_compile_or_use_unknown_fields_are_refused_when_saved(marketer):
    lst = audience(marketer, 1, uid())
    for field, body in (("html_body", "<p>{{ recipient.shoe_size }}</p>"), ("html_body", "<p>{% if %}</p>"),
                        ("subject", "{{ secret_key }}"), ("html_body", "{{ ''.__class__.__mro__ }}")):
        r = marketer.post("/api/v1/campaigns/mailings", json={"name": f"Bad {uid()}", "subject": "Hi",
                                                              "html_body": "<p>Hi</p>", field: body,
                                                              "list_id": lst["id"]})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == field, (body, r.json)
    assert not [c for c in marketer.get("/api/v1/campaigns/mailings").json if c["name"].startswith("Bad ")
                and c["list_id"] == lst["id"]]


def test_preview_for_a_chosen_recipient_a_test_send_and_an_attachment_over_the_limit(marketer, as_user):
    rep = as_user("sales_rep")
    tag = uid()
    company = ok(rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {tag}"}), 201)
    ok(rep.post("/api/v1/parties", json={"kind": "person", "first_name": "Zoe", "last_name": tag,
                                         "company_id": company["id"],
                                         "emails": [{"value": f"zoe-{tag}@acme.test"}]}), 201)
    lst = audience(marketer, 1, tag)
    c = campaign(marketer, list_id=lst["id"], html_body="<p>Dear {{ recipient.first_name }} of {{ company.name }}</p>")
    seen = ok(marketer.get(f"/api/v1/campaigns/mailings/{c['id']}/preview",
                           query_string={"email": f"zoe-{tag}@acme.test"}))
    assert f"Dear Zoe of Acme {tag}" in seen["html"] and seen["text"].strip() == f"Dear Zoe of Acme {tag}"

    big = base64.b64encode(b"x" * (512 * 1024 + 1)).decode()
    etag = marketer.get(f"/api/v1/campaigns/mailings/{c['id']}").headers["ETag"]
    r = marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/attachments", headers={"If-Match": etag},
                      json={"filename": "big.pdf", "content_type": "application/pdf", "content_base64": big})
    assert r.status_code == 413 and r.json["errors"][0]["field"] == "content_base64"
    r = marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/attachments", headers={"If-Match": etag},
                      json={"filename": "offer.pdf", "content_type": "application/pdf",
                            "content_base64": base64.b64encode(b"%PDF-1.4 offer").decode()})
    assert ok(r)["attachments"][0]["filename"] == "offer.pdf" and r.json["attachments"][0]["size"] == 14
    assert ok(marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/test-send", json={"to": "boss@northwind.test"}),
              202)["status"] == "queued"
    odd = campaign(marketer, list_id=lst["id"], subject="Line\u2028break\x0bhere", from_name="News\u2029Desk")
    assert ok(marketer.post(f"/api/v1/campaigns/mailings/{odd['id']}/test-send", json={"to": "boss@northwind.test"}),
              202)["status"] == "queued"  # every kind of line break in a header becomes a space


def test_refusals_are_retried_or_failed_and_resend_reaches_only_those_not_sent(marketer, sender, smtp, db):
    tag = uid()
    lst = audience(marketer, 3, tag)
    c = campaign(marketer, list_id=lst["id"])
    start(marketer, c)
    worker = sender(c["id"])
    smtp.answer = "451 4.3.0 try later"
    run(worker)
    queued = ok(marketer.get(f"/api/v1/campaigns/mailings/{c['id']}/recipients", query_string={"status": "queued"}))
    assert queued["total"] == 3 and {r["attempts"] for r in queued["items"]} == {1}
    assert run(worker) == 0 and smtp.messages == []  # waiting for the backoff

    smtp.answer = "550 5.1.1 no such user"
    with db.sessions.begin() as s:
        s.execute(update(CampaignRecipient).where(CampaignRecipient.campaign_id == c["id"])
                  .values(next_attempt_at=CampaignRecipient.next_attempt_at - timedelta(hours=1)))
    run(worker)
    assert stats(marketer, c)["failed"] == 3 and stats(marketer, c)["status"] == "sent"

    smtp.answer = "250 OK"
    more = f"email\n{tag}-late@example.com\n"
    ok(marketer.post(f"/api/v1/campaigns/lists/{lst['id']}/import", json={"csv": more, "source": "late"}))
    result = ok(marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/resend", json={"failed": True}))
    assert (result["added"], result["retried"]) == (1, 3)
    assert run(worker) == 4
    assert run(worker) == 0
    assert sorted(r[0] for r, _ in smtp.messages) == sorted([f"{tag}-{i}@example.com" for i in range(3)]
                                                            + [f"{tag}-late@example.com"])
    ok(marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/resend", json={"failed": True}))
    assert run(worker) == 0 and len(smtp.messages) == 4  # nobody sent gets it twice


def test_a_paused_campaign_sends_nothing_until_resumed_and_a_cancelled_one_stops(marketer, sender, smtp):
    lst = audience(marketer, 4, uid())
    c = campaign(marketer, list_id=lst["id"])
    start(marketer, c)
    worker = sender(c["id"])
    worker.start_due()
    assert worker.send_one() is True and len(smtp.messages) == 1
    ok(marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/pause"))
    assert worker.send_due() == 0 and len(smtp.messages) == 1
    ok(marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/resume"))
    assert worker.send_one() is True and len(smtp.messages) == 2
    ok(marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/cancel"))
    assert run(worker) == 0 and len(smtp.messages) == 2
    assert stats(marketer, c)["queued"] == 2
    r = marketer.post(f"/api/v1/campaigns/mailings/{c['id']}/pause")
    assert r.status_code == 409 and r.headers["Content-Type"] == "application/problem+json"


def test_two_workers_at_once_still_send_each_recipient_once(marketer, sender, smtp):
    lst = audience(marketer, 150, uid())
    c = campaign(marketer, list_id=lst["id"], tracking=False)
    start(marketer, c)
    workers = [sender(c["id"]) for _ in range(2)]
    workers[0].start_due()
    counts = [0, 0]

    def work(i):
        counts[i] = workers[i].send_due(10_000)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in workers:
        w.smtp.close()
    assert sum(counts) == 150 and min(counts) > 0
    assert len(smtp.messages) == 150 and len({m["Message-ID"] for _, m in smtp.messages}) == 150


def _links(msg) -> dict:
    html = msg.get_body(("html",)).get_content()
    unsubscribe = msg["List-Unsubscribe"].split(",")[0].strip(" <>").removeprefix("http://127.0.0.1:8010")
    click = re.search(r'href="http://127\.0\.0\.1:8010(/api/v1/public/campaign-mail/click/[^"]+)"', html).group(1)
    pixel = re.search(r'src="http://127\.0\.0\.1:8010(/api/v1/public/campaign-mail/open/[^"]+)"', html).group(1)
    return {"unsubscribe": unsubscribe, "click": click.replace("&amp;", "&"), "pixel": pixel}


def test_opens_clicks_and_one_click_unsubscribe_are_counted_on_signed_links_only(
        as_user, marketer, anonymous, sender, smtp, db):
    rep = as_user("sales_rep")
    tag = uid()
    person = ok(rep.post("/api/v1/parties", json={"kind": "person", "first_name": "Ivo", "last_name": tag,
                                                  "emails": [{"value": f"ivo-{tag}@example.com"}]}), 201)
    segment = ok(marketer.post("/api/v1/campaigns/segments", json={"name": f"Rep {tag}",
                                                                   "filter": {"owner_ids": [rep.user["id"]]}}), 201)
    c = campaign(marketer, segment_id=segment["id"])
    start(marketer, c)
    assert run(sender(c["id"])) == 1
    (_, msg), = smtp.messages
    link = _links(msg)

    # a scanner fetching the unsubscribe URL changes nothing; a forged link is 404 and counts nothing
    page = anonymous.get(link["unsubscribe"], headers={"Accept": "text/html"})
    assert page.status_code == 200 and b'<form method="post">' in page.data
    assert anonymous.get(link["pixel"].replace(".gif", "x.gif")).status_code == 404
    forged = link["click"].replace("spring%3Fa", "evil%3Fa")
    assert anonymous.get(forged).status_code == 404
    assert anonymous.get(link["click"].split("?")[0] + "?url=https%3A%2F%2Fevil.example%2F").status_code == 404
    assert stats(marketer, c)["opened"] == 0 and stats(marketer, c)["unsubscribed"] == 0

    assert anonymous.get(link["pixel"]).headers["Content-Type"] == "image/gif"
    anonymous.get(link["pixel"])
    r = anonymous.get(link["click"])
    assert r.status_code == 302 and r.headers["Location"] == "https://shop.example/spring?a=1&b=2"
    one_click = anonymous.post(link["unsubscribe"], data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "Location" not in one_click.headers
    assert "Set-Cookie" not in one_click.headers

    figures = stats(marketer, c)
    assert (figures["opened"], figures["opens"], figures["clicked"], figures["unsubscribed"]) == (1, 2, 1, 1)
    assert figures["links"] == [{"url": "https://shop.example/spring?a=1&b=2", "clicks": 1, "unique_clicks": 1}]
    address = ok(marketer.get("/api/v1/campaigns/addresses", query_string={"email": f"ivo-{tag}@example.com"}))
    assert (address["consent"], address["consent_method"], address["suppressed_reason"]) == (
        "unsubscribed", "one_click", "unsubscribed")
    with db.sessions() as s:
        kinds = s.execute(select(TimelineEntry.kind).where(TimelineEntry.party_id == person["id"])
                          .order_by(TimelineEntry.occurred_at)).scalars().all()
    assert kinds == ["campaign_sent", "campaign_opened", "campaign_clicked", "campaign_unsubscribed"]

    # the next campaign to the same segment skips the unsubscribed address
    again = campaign(marketer, segment_id=segment["id"])
    start(marketer, again)
    assert run(sender(again["id"])) == 0 and len(smtp.messages) == 1



# -- bounces and complaints through the inbound LMTP endpoint --------------------------------------------------

DSN = """Return-Path: <>
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {verp}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="3F2A1C0.1733400000/mx.example.com"

This is a MIME-encapsulated message.

--3F2A1C0.1733400000/mx.example.com
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{email}>: host mail.example.com[203.0.113.5] said: {code} {status} <{email}>:
    Recipient address rejected (in reply to RCPT TO command)

--3F2A1C0.1733400000/mx.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
X-Postfix-Queue-ID: 3F2A1C0
X-Postfix-Sender: rfc822; {verp}
Arrival-Date: Sat,  5 Dec 2026 10:00:00 +0000 (UTC)

Final-Recipient: rfc822; {email}
Original-Recipient: rfc822;{email}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.example.com
Diagnostic-Code: smtp; {code} {status} <{email}>: Recipient address rejected

--3F2A1C0.1733400000/mx.example.com
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{verp}>
From: Northwind News <news@northwind.test>
To: {email}
Subject: Spring offers

--3F2A1C0.1733400000/mx.example.com--
"""

VACATION = """From: {email}
To: {verp}
Subject: Out of office: Spring offers
Auto-Submitted: auto-replied
Content-Type: text/plain

I am away until Monday.
"""

ARF = """From: feedback@isp.example
To: {verp}
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf"

--arf
Content-Type: text/plain

This is an email abuse report.

--arf
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/1.0
Version: 1
Original-Rcpt-To: {email}

--arf
Content-Type: text/rfc822-headers

From: news@northwind.test
To: {email}

--arf--
"""


@pytest.fixture
def lmtp(app, db):
    """The worker's inbound endpoint on a free loopback port; .deliver(rcpt, text) hands it a message by LMTP."""
    port = free_port()
    inbound = InboundMail(db.sessions, app.extensions["servicekit.web"].settings, "127.0.0.1", port)
    thread = threading.Thread(target=inbound.run, daemon=True)
    thread.start()

    class Endpoint:
        @staticmethod
        def deliver(rcpt: str, text: str) -> None:
            for _ in range(50):
                try:
                    with smtplib.LMTP("127.0.0.1", port) as client:
                        client.sendmail("", [rcpt], text)
                    return
                except ConnectionRefusedError:
                    threading.Event().wait(0.05)
            raise AssertionError("the LMTP endpoint did not start")
    yield Endpoint
    inbound.stop()
    thread.join(5)


def test_a_hard_bounce_suppresses_the_address_and_the_next_campaign_skips_it(marketer, sender, smtp, lmtp):
    tag = uid()
    lst = audience(marketer, 3, tag)
    c = campaign(marketer, list_id=lst["id"])
    start(marketer, c)
    assert run(sender(c["id"])) == 3
    verp = {r[0]: s for (r, _), s in zip(smtp.messages, smtp.senders, strict=True)}
    gone, away, spam = (f"{tag}-{i}@example.com" for i in range(3))

    lmtp.deliver(verp[gone], DSN.format(verp=verp[gone], email=gone, action="failed", status="5.1.1", code=550))
    lmtp.deliver(verp[away], VACATION.format(verp=verp[away], email=away))
    lmtp.deliver(verp[away], DSN.format(verp=verp[away], email=away, action="delayed", status="4.2.2", code=452))
    lmtp.deliver(verp[spam], ARF.format(verp=verp[spam], email=spam))
    lmtp.deliver("bounces+1-forgedforged@bounces.northwind.test",
                 DSN.format(verp="x", email=away, action="failed", status="5.1.1", code=550))

    def address(e):
        return ok(marketer.get("/api/v1/campaigns/addresses", query_string={"email": e}))
    assert address(gone)["suppressed_reason"] == "hard_bounce" and "5.1.1" in address(gone)["suppressed_note"]
    assert address(away)["suppressed_reason"] is None  # one soft bounce and a vacation notice: still mailed
    assert address(spam)["suppressed_reason"] == "complaint"
    figures = stats(marketer, c)
    assert (figures["bounced_hard"], figures["bounced_soft"], figures["complained"]) == (1, 1, 1)

    smtp.messages.clear()
    again = campaign(marketer, list_id=lst["id"])
    start(marketer, again)
    assert run(sender(again["id"])) == 1 and [r for r, _ in smtp.messages] == [[away]]


def test_links_with_any_characters_in_their_signature_are_404(anonymous):
    for path in ("/api/v1/public/campaign-mail/open/540825/%E5%8D%9AH.gif",
                 "/api/v1/public/campaign-mail/unsubscribe/152/%C3%B2",
                 "/api/v1/public/campaign-mail/click/7/%C2%BF?url=https%3A%2F%2Fa.example%2F"):
        assert anonymous.get(path).status_code == 404, path
    assert anonymous.post("/api/v1/public/campaign-mail/unsubscribe/2235/%C2%BF.%F2%AD%BB%8F",
                          data={"List-Unsubscribe": "One-Click"}).status_code == 404


def test_a_kept_open_connection_the_server_dropped_is_reopened_without_a_retry(marketer, sender, smtp, db):
    lst = audience(marketer, 2, uid())
    c = campaign(marketer, list_id=lst["id"])
    start(marketer, c)
    worker = sender(c["id"])
    worker.start_due()
    assert worker.send_one() and len(smtp.messages) == 1
    worker.smtp.smtp.sock.shutdown(socket.SHUT_RDWR)  # what a server's idle timeout looks like to the client
    assert worker.send_one() and len(smtp.messages) == 2
    worker.smtp.close()
    with db.sessions() as s:
        rows = s.execute(select(CampaignRecipient.status, CampaignRecipient.attempts)
                         .where(CampaignRecipient.campaign_id == c["id"])).all()
    assert sorted(rows) == [("sent", 1), ("sent", 1)]


# -- per-list unsubscribe ----------------------------------------------------------------------------------------

def test_a_list_campaigns_one_click_leaves_that_list_only_and_the_page_offers_leaving_everything(
        as_user, marketer, anonymous, sender, smtp, lmtp):
    tag = uid()
    news = audience(marketer, 3, tag)
    offers = ok(marketer.post("/api/v1/campaigns/lists", json={"name": f"Offers {tag}"}), 201)
    ok(marketer.post(f"/api/v1/campaigns/lists/{offers['id']}/import",
                     json={"csv": f"email\n{tag}-0@example.com\n{tag}-1@example.com\n", "source": "test"}))
    c = campaign(marketer, list_id=news["id"])
    start(marketer, c)
    assert run(sender(c["id"])) == 3
    by_rcpt = {r[0]: m for r, m in smtp.messages}
    one_click = _links(by_rcpt[f"{tag}-0@example.com"])["unsubscribe"]

    # the page of a list campaign's link offers both choices and changes nothing
    page = anonymous.get(one_click, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.data.count(b'<form method="post"') == 2
    assert f"Unsubscribe from List {tag} only".encode() in page.data
    facts = ok(anonymous.get(one_click, headers={"Accept": "application/json"}))
    assert (facts["scope"], facts["list"], facts["unsubscribed"]) == ("list", f"List {tag}", False)

    # the one-click POST (a real form body) takes -0 off this list only: consent and suppression untouched
    r = anonymous.post(one_click, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "Location" not in r.headers and "Set-Cookie" not in r.headers
    address = ok(marketer.get("/api/v1/campaigns/addresses", query_string={"email": f"{tag}-0@example.com"}))
    assert address["suppressed_reason"] is None and address["consent"] == "none"
    assert [(h["change"], h["method"], h["source"]) for h in address["history"]] == [
        ("unsubscribed_from_list", "one_click", f"list List {tag}")]
    members = ok(marketer.get(f"/api/v1/campaigns/lists/{news['id']}/members"))["items"]
    assert [m["email"] for m in members if m["unsubscribed_at"]] == [f"{tag}-0@example.com"]
    assert ok(marketer.get(f"/api/v1/campaigns/lists/{news['id']}"))["members"] == 2
    figures = stats(marketer, c)
    assert (figures["unsubscribed"], figures["unsubscribed_from_list"]) == (1, 1)

    # the next campaign to this list skips -0, the other list still reaches it
    again, other = campaign(marketer, list_id=news["id"]), campaign(marketer, list_id=offers["id"])
    start(marketer, again)
    start(marketer, other)
    before = len(smtp.messages)
    assert run(sender(again["id"], other["id"])) == 4
    assert sorted(r[0] for r, _ in smtp.messages[before:]) == sorted(
        [f"{tag}-1@example.com", f"{tag}-2@example.com", f"{tag}-0@example.com", f"{tag}-1@example.com"])

    # -1 chooses "every campaign" on the page: the page's second form posts to a link of that scope
    page = anonymous.get(_links(by_rcpt[f"{tag}-1@example.com"])["unsubscribe"], headers={"Accept": "text/html"})
    everything = re.search(rb'<form method="post" action="([^"]+)">', page.data).group(1).decode()
    assert anonymous.post(everything).status_code == 200
    address = ok(marketer.get("/api/v1/campaigns/addresses", query_string={"email": f"{tag}-1@example.com"}))
    assert (address["consent"], address["consent_method"], address["suppressed_reason"]) == (
        "unsubscribed", "page", "unsubscribed")
    assert address["history"][-1]["source"] == f"campaign {c['name']}"

    # -2 writes to the list campaign's mailto: it leaves the list only; a forged list link is a 404
    mailto = by_rcpt[f"{tag}-2@example.com"]["List-Unsubscribe"].split(",")[1].strip(" <>")
    assert mailto.startswith("mailto:unsubscribe-list+")
    lmtp.deliver(mailto.removeprefix("mailto:").split("?")[0], "Subject: unsubscribe\n\nplease\n")
    address = ok(marketer.get("/api/v1/campaigns/addresses", query_string={"email": f"{tag}-2@example.com"}))
    assert address["suppressed_reason"] is None
    assert [(h["change"], h["method"]) for h in address["history"]] == [("unsubscribed_from_list", "mailto")]
    assert anonymous.post(one_click[:-3] + "AAA", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    third = campaign(marketer, list_id=news["id"])
    start(marketer, third)
    assert run(sender(third["id"])) == 0


def test_a_segment_campaigns_link_unsubscribes_from_everything_and_says_so_on_the_timeline(
        as_user, marketer, anonymous, sender, smtp, db):
    rep = as_user("sales_rep")
    tag = uid()
    person = ok(rep.post("/api/v1/parties", json={"kind": "person", "first_name": "Ute", "last_name": tag,
                                                  "emails": [{"value": f"ute-{tag}@example.com"}]}), 201)
    segment = ok(marketer.post("/api/v1/campaigns/segments", json={"name": f"Rep {tag}",
                                                                   "filter": {"owner_ids": [rep.user["id"]]}}), 201)
    c = campaign(marketer, segment_id=segment["id"])
    start(marketer, c)
    assert run(sender(c["id"])) == 1
    (_, msg), = smtp.messages
    link = _links(msg)["unsubscribe"]
    page = anonymous.get(link, headers={"Accept": "text/html"})
    assert page.data.count(b'<form method="post"') == 1 and b"all our campaigns" in page.data
    assert ok(anonymous.post(link, headers={"Accept": "application/json"}))["unsubscribed_from"] == "all"
    with db.sessions() as s:
        entry = s.execute(select(TimelineEntry).where(TimelineEntry.party_id == person["id"],
                                                      TimelineEntry.kind == "campaign_unsubscribed")).scalar_one()
    assert entry.data["scope"] == "all" and "every campaign" in entry.title
