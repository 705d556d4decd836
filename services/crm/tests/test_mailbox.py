"""A salesperson links their mailbox (a real Dovecot IMAP server and a real aiosmtpd SMTP server on loopback) to
the CRM: the worker fetches their mail into CRM folders, threads the conversation and puts each mail on the
timeline of the customer it concerns; a restart fetches nothing twice; a mail written in the CRM leaves through
their SMTP server with the right headers, lands in Sent, and the customer's answer joins its thread and deal."""

import base64
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

import pytest
from crm.mailbox import messages as messages_module
from crm.mailbox import runner as runner_module
from crm.mailbox.models import ImapPosition
from crm.mailbox.runner import MailboxRunner
from crm.timeline.models import TimelineEntry
from servicekit.secretbox import DEV_KEY, SecretBox
from sqlalchemy import select, text, update

from tests.support.dovecot import start_dovecot

pytestmark = pytest.mark.db

PASSWORD = "imap-secret-9"


def uid() -> str:
    return uuid.uuid4().hex[:10]


def ok(r, status=200):
    assert r.status_code == status, r.json
    return r.json


@pytest.fixture(scope="module")
def imap():
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def mailbox(app, db, monkeypatch, as_user, imap, smtp):
    """A sales rep with a mail account at the test servers (`smtp`: the shared aiosmtpd fixture of
    tests/support/campaigns.py), and the worker's runner for that account only."""
    monkeypatch.setitem(app.config, "CRM_MAILBOX_ALLOW_PRIVATE", True)  # the test servers are on 127.0.0.1
    rep = as_user("sales_rep")
    address = f"rep-{uid()}@northwind.test"
    imap.add_user(address, PASSWORD)
    account = ok(rep.post("/api/v1/mailbox/accounts", json={
        "email": address, "display_name": "Rita Rep", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
        "smtp_security": "none", "imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none",
        "imap_password": PASSWORD}), 201)

    class Mailbox:
        user, email, id = rep, address, account["id"]

        @staticmethod
        def runner() -> MailboxRunner:
            """A fresh runner, as a restarted worker has (nothing kept in memory)."""
            return MailboxRunner(db.sessions, SecretBox(DEV_KEY), timedelta(0), allow_private=True,
                                 account_ids=[account["id"]])

        @staticmethod
        def folder(name: str) -> dict:
            return next(f for f in ok(rep.get("/api/v1/mailbox/folders"))
                        if f["account_id"] == account["id"] and f["name"] == name)

        @staticmethod
        def in_folder(name: str) -> list[dict]:
            return ok(rep.get("/api/v1/mailbox/messages",
                              query_string={"folder_id": Mailbox.folder(name)["id"]}))["items"]
    return Mailbox


def mail(frm: str, to: str, subject: str, body: str, message_id: str, **headers) -> bytes:
    lines = [f"From: {frm}", f"To: {to}", f"Subject: {subject}", f"Date: {formatdate()}",
             f"Message-ID: {message_id}", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
             "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def timeline(db, **where) -> list[TimelineEntry]:
    with db.sessions() as s:
        q = select(TimelineEntry).where(*(getattr(TimelineEntry, k) == v for k, v in where.items()))
        return list(s.execute(q.order_by(TimelineEntry.occurred_at)).scalars())


def test_fetched_mail_is_filed_threaded_and_on_the_customers_timeline_and_a_restart_fetches_nothing_twice(
        mailbox, imap, db, monkeypatch):
    tag, rep = uid(), mailbox.user
    customer = f"ines-{tag}@customer.test"
    person = ok(rep.post("/api/v1/parties", json={"kind": "person", "first_name": "Ines", "last_name": tag,
                                                  "emails": [{"value": customer.upper()}]}), 201)
    lead = ok(rep.post("/api/v1/leads", json={"last_name": f"Lead {tag}", "email": f"lead-{tag}@prospect.test"}),
              201)
    imap.deliver(mailbox.email, mail(f"Ines <{customer}>", mailbox.email, "Offer for pumps", "Can you quote 3?",
                                     f"<a-{tag}@customer.test>"))
    imap.deliver(mailbox.email, mail(customer, mailbox.email, "Re: Offer for pumps", "And delivery times?",
                                     f"<b-{tag}@customer.test>", In_Reply_To=f"<a-{tag}@customer.test>"))
    imap.deliver(mailbox.email, mail(f"lead-{tag}@prospect.test", mailbox.email, "Question", "Do you ship?",
                                     f"<c-{tag}@prospect.test>"))
    imap.deliver(mailbox.email, mail(customer, mailbox.email, "AW: RE: offer for  PUMPS", "Any news?",
                                     f"<d-{tag}@customer.test>"))  # no thread headers: the subject says which

    # the worker is killed while storing the second mail: that mail's transaction is lost, not its position
    real, calls = runner_module.store_fetched, []

    def dies_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("worker killed")
        return real(*args, **kwargs)
    monkeypatch.setattr(runner_module, "store_fetched", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        mailbox.runner().fetch_account(mailbox.id)
    monkeypatch.setattr(runner_module, "store_fetched", real)
    assert [m["subject"] for m in mailbox.in_folder("Inbox")] == ["Offer for pumps"]

    # restarted: the rest, once each; again: nothing
    assert mailbox.runner().fetch_account(mailbox.id) == 3
    assert mailbox.runner().fetch_account(mailbox.id) == 0
    inbox = mailbox.in_folder("Inbox")
    assert sorted(m["message_id"] for m in inbox) == sorted(f"<{x}-{tag}@{d}.test>" for x, d in (
        ("a", "customer"), ("b", "customer"), ("c", "prospect"), ("d", "customer")))
    assert all(not m["is_read"] for m in inbox) and mailbox.folder("Inbox")["unread"] == 4
    by_id = {m["message_id"].split("-")[0][1:]: m for m in inbox}
    assert by_id["a"]["thread_id"] == by_id["b"]["thread_id"] == by_id["d"]["thread_id"] != by_id["c"]["thread_id"]
    thread = ok(rep.get("/api/v1/mailbox/messages", query_string={"thread_id": by_id["a"]["thread_id"]}))["items"]
    assert [m["subject"] for m in thread] == ["Offer for pumps", "Re: Offer for pumps", "AW: RE: offer for PUMPS"]

    # on the customer's and the lead's timelines; the mail names what it is linked to
    entries = timeline(db, party_id=person["id"], kind="mail_received")
    assert sorted(e.title for e in entries) == sorted(f"Mail from {n}: {s}" for n, s in (
        ("Ines", "Offer for pumps"), (customer, "Re: Offer for pumps"), (customer, "AW: RE: offer for PUMPS")))
    assert [e.title for e in timeline(db, lead_id=lead["id"], kind="mail_received")] == [
        f"Mail from lead-{tag}@prospect.test: Question"]
    full = ok(rep.get(f"/api/v1/mailbox/messages/{by_id['a']['id']}"))
    assert full["text_body"].strip() == "Can you quote 3?"
    assert full["links"] == [{"kind": "party", "record_id": person["id"], "found_by": "address"}]

    # one more mail after the restarts: fetched, none missed
    imap.deliver(mailbox.email, mail(customer, mailbox.email, "Invoice", "Please resend it",
                                     f"<e-{tag}@customer.test>"))
    assert mailbox.runner().fetch_account(mailbox.id) == 1
    assert len(mailbox.in_folder("Inbox")) == 5

    # folders of one's own: move a mail there and mark it read
    folder = ok(rep.post("/api/v1/mailbox/folders", json={"account_id": mailbox.id, "name": "Pumps"}), 201)
    moved = ok(rep.patch(f"/api/v1/mailbox/messages/{by_id['a']['id']}", json={"folder_id": folder["id"],
                                                                                 "is_read": True},
                         headers={"If-Match": f'"{full["version"]}"'}))
    assert moved["folder_id"] == folder["id"] and moved["is_read"] is True
    assert [m["subject"] for m in mailbox.in_folder("Pumps")] == ["Offer for pumps"]
    assert mailbox.folder("Inbox")["total"] == 4 and mailbox.folder("Inbox")["unread"] == 4


def test_a_mail_written_in_the_crm_leaves_by_the_users_smtp_server_and_the_answer_joins_its_thread_and_deal(
        mailbox, imap, smtp, db, as_user):
    tag, rep = uid(), mailbox.user
    customer = f"olaf-{tag}@customer.test"
    person = ok(rep.post("/api/v1/parties", json={"kind": "person", "first_name": "Olaf", "last_name": tag,
                                                  "emails": [{"value": customer}]}), 201)
    deal = ok(rep.post("/api/v1/deals", json={"name": f"Pumps {tag}", "party_id": person["id"]}), 201)
    template = ok(rep.post("/api/v1/mailbox/templates", json={
        "name": f"Offer {tag}", "subject": "Your offer, {{ recipient.first_name }}",
        "html_body": "<p>Dear {{ recipient.name }},</p><p>here is the offer. {{ owner.name }}</p>"}), 201)
    pdf = b"%PDF-1.4 offer " + tag.encode()
    sent = ok(rep.post("/api/v1/mailbox/messages", json={
        "account_id": mailbox.id, "to": [customer], "template_id": template["id"], "party_id": person["id"],
        "deal_id": deal["id"], "attachments": [{"filename": "offer.pdf", "content_type": "application/pdf",
                                                "content_base64": base64.b64encode(pdf).decode()}]}), 201)
    assert (sent["status"], sent["subject"]) == ("queued", "Your offer, Olaf")
    assert [m["id"] for m in mailbox.in_folder("Sent")] == [sent["id"]]

    assert mailbox.runner().send_one() is True
    (rcpts, msg), = smtp.messages
    assert rcpts == [customer] and smtp.senders == [mailbox.email]
    assert msg["From"] == f"Rita Rep <{mailbox.email}>" and msg["To"] == customer
    assert msg["Subject"] == "Your offer, Olaf" and msg["Message-ID"] == sent["message_id"]
    assert "Dear Olaf " in msg.get_body(("plain",)).get_content()
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "offer.pdf" and attachment.get_content() == pdf
    assert mailbox.runner().send_one() is False  # sent once
    assert ok(rep.get(f"/api/v1/mailbox/messages/{sent['id']}"))["status"] == "sent"
    assert [e.kind for e in timeline(db, deal_id=deal["id"])] == ["deal_created", "mail_sent"]

    # the customer answers (no ticket, no address of the deal): the reply joins the thread and the deal
    imap.deliver(mailbox.email, mail(customer, mailbox.email, "Re: Your offer, Olaf", "Agreed.",
                                     f"<r-{tag}@customer.test>", In_Reply_To=sent["message_id"],
                                     References=sent["message_id"]))
    assert mailbox.runner().fetch_account(mailbox.id) == 1
    (reply,) = mailbox.in_folder("Inbox")
    assert reply["thread_id"] == sent["thread_id"]
    links = ok(rep.get(f"/api/v1/mailbox/messages/{reply['id']}"))["links"]
    assert {"kind": "deal", "record_id": deal["id"], "found_by": "thread"} in links
    assert sorted(e.kind for e in timeline(db, deal_id=deal["id"])) == ["deal_created", "mail_received", "mail_sent"]

    # another user cannot read it, nor send from the account
    stranger = as_user("sales_rep")
    assert stranger.get(f"/api/v1/mailbox/messages/{reply['id']}").status_code == 404
    assert stranger.post("/api/v1/mailbox/messages", json={"account_id": mailbox.id, "to": [customer],
                                                           "subject": "x", "text_body": "y"}).status_code == 404


def test_bad_mail_is_refused_with_the_field_named_and_nothing_queued(mailbox, as_user, smtp):
    tag, rep = uid(), mailbox.user
    marketer = as_user("marketing")
    blocked = f"gone-{tag}@customer.test"
    ok(marketer.post("/api/v1/campaigns/suppressions", json={"email": blocked}))
    promo = ok(rep.post("/api/v1/mailbox/templates", json={"name": f"Promo {tag}", "subject": "Spring offers",
                                                           "html_body": "<p>Offers</p>", "marketing": True}), 201)
    plain = ok(rep.post("/api/v1/mailbox/templates", json={"name": f"Note {tag}", "subject": "About your order",
                                                           "html_body": "<p>Note</p>"}), 201)
    base = {"account_id": mailbox.id, "to": [blocked]}
    cases = [
        ({**base, "template_id": promo["id"]}, 409, "to", "suppressed"),
        ({**base, "to": ["not-an-address"], "template_id": plain["id"]}, 422, "to", "email"),
        ({**base, "template_id": str(uuid.uuid4())}, 422, "template_id", "no such"),
        ({**base, "subject": "Hello"}, 422, "text_body", "template_id"),
        ({**base, "subject": "Hi", "text_body": "x", "attachments": [{
            "filename": "big.bin", "content_type": "application/octet-stream",
            "content_base64": base64.b64encode(b"x" * (2 * 1024 * 1024 + 1)).decode()}]}, 413,
         "attachments[0].content_base64", "MiB"),
    ]
    for body, status, field, why in cases:
        r = rep.post("/api/v1/mailbox/messages", json=body)
        assert r.status_code == status and r.headers["Content-Type"] == "application/problem+json", (body, r.json)
        assert any(field in e["field"] and why.lower() in e["message"].lower() for e in r.json["errors"]), r.json
    r = rep.post("/api/v1/mailbox/templates", json={"name": f"Bad {tag}", "subject": "x",
                                                    "html_body": "<p>{{ recipient.shoe_size }}</p>"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "html_body"
    r = rep.post("/api/v1/mailbox/accounts", json={"email": f"x-{tag}@northwind.test", "smtp_host": "10.0.0.1",
                                                   "smtp_port": 25})
    assert r.status_code == 201  # private hosts are allowed in this test (CRM_MAILBOX_ALLOW_PRIVATE)
    assert mailbox.in_folder("Sent") == [] and mailbox.runner().send_one() is False and smtp.messages == []
    # the same address with a plain (not marketing) template is a personal mail: it goes
    ok(rep.post("/api/v1/mailbox/messages", json={**base, "template_id": plain["id"]}), 201)
    assert mailbox.runner().send_one() is True and [r for r, _ in smtp.messages] == [[blocked]]


def test_a_mail_server_on_a_private_address_is_refused_unless_allowed(as_user):
    rep = as_user("sales_rep")
    for host in ("127.0.0.1", "10.1.2.3", "192.168.0.10", "localhost"):
        r = rep.post("/api/v1/mailbox/accounts", json={"email": f"x-{uid()}@northwind.test", "smtp_host": host,
                                                       "smtp_port": 587})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "smtp_host", (host, r.json)
        assert "private or local" in r.json["errors"][0]["message"]
    assert ok(rep.get("/api/v1/mailbox/accounts")) == []
    r = rep.post("/api/v1/mailbox/accounts", json={"email": f"x-{uid()}@northwind.test", "smtp_host": "127.0.0.1",
                                                   "smtp_port": 587, "imap_host": "8.8.8.8"})
    assert r.status_code == 422


def test_a_folder_the_server_renumbered_is_read_again_without_storing_a_mail_twice(mailbox, imap, db):
    tag = uid()
    for i in range(3):
        imap.deliver(mailbox.email, mail(f"x-{tag}@customer.test", mailbox.email, f"Note {i}", "text",
                                         f"<{i}-{tag}@customer.test>"))
    assert mailbox.runner().fetch_account(mailbox.id) == 3
    with db.sessions.begin() as s:  # as if the server had given the folder a new UIDVALIDITY since
        s.execute(update(ImapPosition).where(ImapPosition.account_id == mailbox.id)
                  .values(uidvalidity=ImapPosition.uidvalidity + 1))
    assert mailbox.runner().fetch_account(mailbox.id) == 0  # read again from UID 1: all held already
    imap.deliver(mailbox.email, mail(f"x-{tag}@customer.test", mailbox.email, "Note 3", "text",
                                     f"<3-{tag}@customer.test>"))
    assert mailbox.runner().fetch_account(mailbox.id) == 1
    assert sorted(m["subject"] for m in mailbox.in_folder("Inbox")) == [f"Note {i}" for i in range(4)]
    with db.sessions() as s:
        assert s.execute(select(ImapPosition.last_uid).where(ImapPosition.account_id == mailbox.id)).scalar_one() == 4


def test_an_account_another_worker_is_fetching_is_left_to_it_until_that_worker_is_gone(mailbox, imap, db):
    tag = uid()
    imap.deliver(mailbox.email, mail(f"y-{tag}@customer.test", mailbox.email, "Hello", "text", f"<h-{tag}@c.test>"))
    other_worker = db.engine.connect()  # holds the account's fetch lock, as a worker in the middle of a fetch does
    other_worker.execute(text("select pg_advisory_lock(hashtext(:key))"), {"key": f"mailbox-fetch:{mailbox.id}"})
    other_worker.commit()
    assert mailbox.runner().fetch_account(mailbox.id) is None
    other_worker.invalidate()  # that worker dies: its connection (really closed), and the lock with it, are gone
    other_worker.close()
    assert mailbox.runner().fetch_account(mailbox.id) == 1
    assert [m["subject"] for m in mailbox.in_folder("Inbox")] == ["Hello"]


def sent_copies(imap, user: str) -> list[tuple[str, bool]]:
    """(Message-ID, \\Seen) of each mail in the user's Sent folder on the IMAP server."""
    client = imap.client(user)
    try:
        assert client.select('"Sent"', readonly=True)[0] == "OK"
        out = []
        for num in (client.search(None, "ALL")[1][0] or b"").split():
            _, fetched = client.fetch(num, "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            head, body = fetched[0]
            out.append((body.decode().split(":", 1)[1].strip(), b"\\Seen" in head))
        return out
    finally:
        client.logout()


def test_a_mail_sent_from_the_crm_is_copied_to_the_servers_sent_folder_and_not_fetched_back(mailbox, imap, smtp,
                                                                                              db):
    """The user's phone and desktop client see what they sent from the CRM: the worker puts the sent mail in the
    IMAP Sent folder, read; fetching that folder later does not bring it back as a second mail."""
    tag, rep = uid(), mailbox.user
    sent = ok(rep.post("/api/v1/mailbox/messages", json={
        "account_id": mailbox.id, "to": [f"kim-{tag}@customer.test"], "subject": f"Visit {tag}",
        "text_body": "See you on Monday."}), 201)
    assert sent_copies(imap, mailbox.email) == []
    assert mailbox.runner().send_one() is True
    assert len(smtp.messages) == 1
    assert sent_copies(imap, mailbox.email) == [(sent["message_id"], True)]
    got = ok(rep.get(f"/api/v1/mailbox/messages/{sent['id']}"))
    assert (got["status"], got.get("last_error")) == ("sent", None)

    account = ok(rep.get(f"/api/v1/mailbox/accounts/{mailbox.id}"))
    ok(rep.patch(f"/api/v1/mailbox/accounts/{mailbox.id}", json={"imap_folders": ["INBOX", "Sent"]},
                 headers={"If-Match": f'"{account["version"]}"'}))
    assert mailbox.runner().fetch_account(mailbox.id) == 0
    assert [m["id"] for m in mailbox.in_folder("Sent")] == [sent["id"]]

    # the IMAP server refuses the login now: the mail still leaves, and the missing copy is said on it
    with db.sessions.begin() as s:
        s.execute(text("update mail_accounts set imap_username = 'nobody' where id = :id"), {"id": mailbox.id})
    second = ok(rep.post("/api/v1/mailbox/messages", json={
        "account_id": mailbox.id, "to": [f"kim-{tag}@customer.test"], "subject": f"Visit {tag} (2)",
        "text_body": "Or Tuesday."}), 201)
    assert mailbox.runner().send_one() is True
    assert len(smtp.messages) == 2
    got = ok(rep.get(f"/api/v1/mailbox/messages/{second['id']}"))
    assert got["status"] == "sent" and "no copy in the IMAP Sent folder" in got["last_error"], got
    assert [m for m, _ in sent_copies(imap, mailbox.email)] == [sent["message_id"]]


def test_a_mail_the_server_refuses_for_good_shows_as_not_sent_on_the_customers_timeline(mailbox, smtp, db):
    tag, rep = uid(), mailbox.user
    customer = f"gone-{tag}@customer.test"
    person = ok(rep.post("/api/v1/parties", json={"kind": "person", "first_name": "Gus", "last_name": tag,
                                                  "emails": [{"value": customer}]}), 201)
    queued = ok(rep.post("/api/v1/mailbox/messages", json={
        "account_id": mailbox.id, "to": [customer], "subject": f"Offer {tag}", "text_body": "Here it is.",
        "party_id": person["id"]}), 201)
    assert [e.kind for e in timeline(db, party_id=person["id"])] == ["mail_sent"]
    smtp.answer = "550 5.1.1 No such user"
    assert mailbox.runner().send_one() is True
    got = ok(rep.get(f"/api/v1/mailbox/messages/{queued['id']}"))
    assert got["status"] == "failed" and "No such user" in got["last_error"]
    (entry,) = timeline(db, party_id=person["id"])
    assert (entry.kind, entry.title) == ("mail_failed", f"Mail to {customer} not sent: Offer {tag}")
    assert entry.data["status"] == "failed" and "No such user" in entry.data["error"]


def seen_on_server(imap, user: str, message_id: str) -> bool:
    client = imap.client(user)
    try:
        client.select("INBOX", readonly=True)
        (num,) = client.search(None, "HEADER", "Message-ID", message_id)[1][0].split()
        return b"\\Seen" in client.fetch(num, "(FLAGS)")[1][0]
    finally:
        client.logout()


def test_reading_a_fetched_mail_in_the_crm_marks_it_read_on_the_server_too(mailbox, imap):
    """The user reads the customer's mail in the CRM; their phone stops showing it as new (and marking it unread
    again brings it back), at the worker's next round."""
    tag, rep = uid(), mailbox.user
    message_id = f"<flag-{tag}@customer.test>"
    imap.deliver(mailbox.email, mail(f"pia-{tag}@customer.test", mailbox.email, "Invoice", "Paid.", message_id))
    assert mailbox.runner().fetch_account(mailbox.id) == 1
    (m,) = [x for x in mailbox.in_folder("Inbox") if x["message_id"] == message_id]
    assert not m["is_read"] and not seen_on_server(imap, mailbox.email, message_id)

    def mark(read: bool) -> None:
        now = ok(rep.get(f"/api/v1/mailbox/messages/{m['id']}"))
        ok(rep.patch(f"/api/v1/mailbox/messages/{m['id']}", json={"is_read": read},
                     headers={"If-Match": f'"{now["version"]}"'}))

    mark(True)
    assert not seen_on_server(imap, mailbox.email, message_id)  # the worker has not been round yet
    assert mailbox.runner().fetch_account(mailbox.id) == 0
    assert seen_on_server(imap, mailbox.email, message_id)
    mark(False)
    assert mailbox.runner().fetch_account(mailbox.id) == 0
    assert not seen_on_server(imap, mailbox.email, message_id)
    assert not ok(rep.get(f"/api/v1/mailbox/messages/{m['id']}"))["is_read"]


def test_the_attachments_of_a_fetched_mail_can_be_downloaded_and_html_never_runs_in_the_browser(
        mailbox, imap, as_user, monkeypatch, db):
    tag, rep = uid(), mailbox.user
    pdf, page = b"%PDF-1.4 order " + tag.encode(), b"<script>alert(1)</script>"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"ana-{tag}@customer.test", mailbox.email, "Our order"
    msg["Message-ID"], msg["Date"] = f"<att-{tag}@customer.test>", formatdate()
    msg.set_content("The order form and our page are attached.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="order form é.pdf")
    msg.add_attachment(page, maintype="text", subtype="html", filename="page.html")
    imap.deliver(mailbox.email, msg.as_bytes())
    assert mailbox.runner().fetch_account(mailbox.id) == 1
    (m,) = [x for x in mailbox.in_folder("Inbox") if x["message_id"] == f"<att-{tag}@customer.test>"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in m["attachments"]] == [
        ("order form é.pdf", "application/pdf", len(pdf)), ("page.html", "text/html", len(page))]

    r = rep.get(f"/api/v1/mailbox/messages/{m['id']}/attachments/0")
    assert (r.status_code, r.data, r.mimetype) == (200, pdf, "application/pdf")
    assert r.headers["Content-Disposition"] == "attachment; filename*=UTF-8''order%20form%20%C3%A9.pdf"
    r = rep.get(f"/api/v1/mailbox/messages/{m['id']}/attachments/1")
    assert (r.status_code, r.data, r.mimetype) == (200, page, "application/octet-stream")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert rep.get(f"/api/v1/mailbox/messages/{m['id']}/attachments/2").status_code == 404
    assert as_user("sales_rep").get(f"/api/v1/mailbox/messages/{m['id']}/attachments/0").status_code == 404

    # a mail over the size kept: listed, and its download says why it is not there
    monkeypatch.setattr(messages_module, "MAX_RAW", 100)
    msg.replace_header("Message-ID", f"<big-{tag}@customer.test>")
    imap.deliver(mailbox.email, msg.as_bytes())
    assert mailbox.runner().fetch_account(mailbox.id) == 1
    (big,) = [x for x in mailbox.in_folder("Inbox") if x["message_id"] == f"<big-{tag}@customer.test>"]
    assert len(big["attachments"]) == 2
    r = rep.get(f"/api/v1/mailbox/messages/{big['id']}/attachments/0")
    assert r.status_code == 410 and r.content_type == "application/problem+json"
