"""Customers write to the support address and agents answer from the ticket: the worker's real LMTP endpoint
(aiosmtpd, fed with smtplib.LMTP) turns mail into tickets or threads it into the right one, and the worker's mail
sender hands the replies and acknowledgements to a real SMTP server (aiosmtpd)."""

import smtplib
import threading
import uuid
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from crm.config import support_addresses
from crm.db import mail_outbox
from crm.mail.inbound import InboundMail
from crm.tickets.mail_models import TicketMail
from crm.tickets.models import Ticket, TicketAttachment
from servicekit.mail_outbox import MailSender, SmtpTransport
from sqlalchemy import func, select, update

from tests.support.smtp import Inbox, free_port, start_server

pytestmark = pytest.mark.db

SUPPORT = "help@northwind.test"


def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def mail_settings(app, tmp_path_factory):
    """The app's settings with this module's support address, small limits and a private file store."""
    return replace(app.extensions["servicekit.web"].settings, support_addresses=(SUPPORT, "support@crm.localhost"),
                   support_from=f"Northwind Support <{SUPPORT}>", inbound_max_bytes=300_000,
                   ticket_attachment_max_bytes=2048, ticket_storage_dir=str(tmp_path_factory.mktemp("ticket-files")))


@contextmanager
def serve_lmtp(db, settings):
    """The worker's inbound endpoint on a free loopback port; .deliver(text, rcpt) hands it a message by LMTP."""
    port = free_port()
    inbound = InboundMail(db.sessions, settings, "127.0.0.1", port)
    thread = threading.Thread(target=inbound.run, daemon=True)
    thread.start()

    class Endpoint:
        @staticmethod
        def deliver(text: str | bytes, rcpt: str = SUPPORT, sender: str = "someone@example.com", *more) -> dict:
            for _ in range(50):
                try:
                    with smtplib.LMTP("127.0.0.1", port) as client:
                        return client.sendmail(sender, [rcpt, *more], text)
                except ConnectionRefusedError:
                    threading.Event().wait(0.05)
            raise AssertionError("the LMTP endpoint did not start")
    try:
        yield Endpoint
    finally:
        inbound.stop()
        thread.join(5)


@pytest.fixture
def lmtp(db, mail_settings):
    with serve_lmtp(db, mail_settings) as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def _web_settings(app, mail_settings, monkeypatch):
    """The web app uses the module's settings too (the sender of replies, the file store)."""
    monkeypatch.setitem(app.extensions["servicekit.web"].__dict__, "settings", mail_settings)


@pytest.fixture
def smtp(db):
    """A real SMTP server; .deliver() runs the worker's mail sender over the ticket mail queued by this test."""
    inbox = Inbox()
    controller = start_server(inbox)
    since = datetime.now(UTC)
    sender = MailSender(db.engine, mail_outbox, SmtpTransport("127.0.0.1", controller.port),
                        scope=(mail_outbox.c.created_at >= since) & (mail_outbox.c.ref_type == "ticket_mail"))
    inbox.deliver = lambda: sender.send_due()
    yield inbox
    controller.stop()


def mail(sender: str, subject: str, body: str = "My printer jams on every page.", **headers) -> str:
    lines = [f"From: {sender}", f"To: {SUPPORT}", f"Subject: {subject}",
             f"Message-ID: <{headers.pop('message_id', tag())}@mail.example.com>"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n"


def tickets_from(db, address: str) -> list[Ticket]:
    with db.sessions() as s:
        return list(s.execute(select(Ticket).where(Ticket.requester_email == address)
                              .order_by(Ticket.created_at)).scalars())


def get(client, ticket_id) -> dict:
    r = client.get(f"/api/v1/tickets/{ticket_id}")
    assert r.status_code == 200, r.json
    return r.json


def messages(client, ticket_id) -> list[dict]:
    r = client.get(f"/api/v1/tickets/{ticket_id}/messages")
    assert r.status_code == 200, r.json
    return r.json


def customer(client, email: str) -> tuple[dict, dict]:
    """A company and a person working there with this address."""
    company = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {tag()}",
                                                   "roles": ["customer"]}).json
    person = client.post("/api/v1/parties", json={"kind": "person", "first_name": "Ana", "last_name": "Diaz",
                                                  "company_id": company["id"], "emails": [email]})
    assert person.status_code == 201, person.json
    return company, person.json


def test_a_mail_from_a_known_contact_opens_an_email_ticket_for_their_company_and_is_acknowledged(
        client, db, lmtp, smtp):
    ana = f"ana-{tag()}@acme.example"
    company, person = customer(client, ana)
    lmtp.deliver(mail(f"Ana Diaz <{ana.upper()}>", "Printer jams", message_id="first-" + ana))
    (t,) = tickets_from(db, ana)
    shown = get(client, t.id)
    assert (shown["party_id"], shown["contact_id"], shown["channel"], shown["status"]) == \
        (company["id"], person["id"], "email", "new")
    assert shown["subject"] == "Printer jams" and "jams on every page" in shown["description"]
    assert smtp.deliver() == 1
    (to, ack), = smtp.messages
    assert to == [ana] and f"[{t.number}]" in ack["Subject"] and ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == f"<first-{ana}>" and ack["From"] == f"Northwind Support <{SUPPORT}>"


def test_a_mail_from_an_unknown_address_opens_a_ticket_without_customer_keeping_the_address(client, db, lmtp):
    stranger = f"who-{tag()}@nowhere.example"
    lmtp.deliver(mail(stranger, "Fwd: Question about pricing"))
    (t,) = tickets_from(db, stranger)
    shown = get(client, t.id)
    assert shown["party_id"] is None and shown["requester_email"] == stranger
    assert shown["subject"] == "Question about pricing"


def test_an_agent_reply_is_mailed_threaded_and_the_customer_answer_lands_on_the_ticket(client, db, lmtp, smtp):
    ana = f"ana-{tag()}@acme.example"
    lmtp.deliver(mail(ana, "Screen flickers", message_id="q-" + ana))
    (t,) = tickets_from(db, ana)
    r = client.post(f"/api/v1/tickets/{t.id}/messages", json={"kind": "reply", "body": "Try another cable."})
    assert r.status_code == 201, r.json
    client.post(f"/api/v1/tickets/{t.id}/messages", json={"kind": "note", "body": "Probably the cable."})
    shown = get(client, t.id)
    assert shown["first_responded_at"] is not None and shown["sla"]["first_response_due_at"] is None
    assert smtp.deliver() == 2  # the acknowledgement and the reply; never the internal note
    reply = next(m for _, m in smtp.messages if "Try another cable." in m.get_content())
    assert reply["Subject"] == f"Re: [{t.number}] Screen flickers" and reply["In-Reply-To"] == f"<q-{ana}>"
    assert f"<q-{ana}>" in reply["References"] and reply["Message-ID"].endswith("@northwind.test>")
    assert "Probably" not in "".join(m.get_content() for _, m in smtp.messages)

    r = client.post(f"/api/v1/tickets/{t.id}/status", json={"status": "pending"})
    assert r.status_code == 200, r.json
    answer = (f"Still flickers with the new cable.\n\nOn Mon, 7 Dec 2026, Northwind Support <{SUPPORT}> wrote:\n"
              "> Try another cable.")
    lmtp.deliver(mail(ana, f"Re: {reply['Subject']}", answer, In_Reply_To=reply["Message-ID"],
                      References=f"<q-{ana}> {reply['Message-ID']}"))
    assert len(tickets_from(db, ana)) == 1
    shown = get(client, t.id)
    assert shown["status"] == "open"  # the customer answered: waiting on us again
    last = messages(client, t.id)[-1]
    assert (last["author_type"], last["body"]) == ("customer", "Still flickers with the new cable.")


def test_the_ticket_number_in_the_subject_threads_a_mail_from_the_customer_only(client, db, lmtp):
    ana = f"ana-{tag()}@acme.example"
    lmtp.deliver(mail(ana, "Invoice is wrong"))
    (t,) = tickets_from(db, ana)
    lmtp.deliver(mail(ana, f"About [{t.number}] again", "I attached nothing, sorry."))
    assert len(tickets_from(db, ana)) == 1 and messages(client, t.id)[-1]["body"] == "I attached nothing, sorry."
    intruder = f"mallory-{tag()}@evil.example"
    lmtp.deliver(mail(intruder, f"Re: [{t.number}]", "Add me to this ticket"))
    assert len(messages(client, t.id)) == 1  # not on the customer's ticket
    (other,) = tickets_from(db, intruder)
    assert other.id != t.id


@pytest.mark.parametrize("header", ["Auto-Submitted: auto-replied", "Precedence: bulk", "X-Autoreply: yes"])
def test_auto_replies_open_no_ticket_and_get_no_answer(db, lmtp, smtp, header):
    robot = f"away-{tag()}@acme.example"
    name, _, value = header.partition(": ")
    lmtp.deliver(mail(robot, "Out of office", "I am away until Monday.", **{name.replace("-", "_"): value}))
    assert tickets_from(db, robot) == [] and smtp.deliver() == 0


def test_an_auto_reply_to_a_ticket_adds_nothing_to_it(client, db, lmtp, smtp):
    ana = f"ana-{tag()}@acme.example"
    lmtp.deliver(mail(ana, "Broken hinge", message_id="h-" + ana))
    (t,) = tickets_from(db, ana)
    lmtp.deliver(mail(ana, f"Automatic reply: [{t.number}]", "Away", Auto_Submitted="auto-replied",
                      In_Reply_To=f"<h-{ana}>"))
    assert messages(client, t.id) == [] and get(client, t.id)["status"] == "new"
    assert smtp.deliver() == 1  # the acknowledgement of the first mail only


def test_the_same_message_delivered_twice_lands_once(client, db, lmtp, smtp):
    ana = f"ana-{tag()}@acme.example"
    once = mail(ana, "Double delivery", message_id="dup-" + ana)
    lmtp.deliver(once)
    lmtp.deliver(once)
    (t,) = tickets_from(db, ana)
    lmtp.deliver(mail(ana, "x", "A reply", message_id="dup2-" + ana, In_Reply_To=f"<dup-{ana}>"))
    lmtp.deliver(mail(ana, "x", "A reply", message_id="dup2-" + ana, In_Reply_To=f"<dup-{ana}>"))
    assert len(tickets_from(db, ana)) == 1 and len(messages(client, t.id)) == 1
    assert smtp.deliver() == 1


def count_everything(db) -> tuple[int, int, int]:
    with db.sessions() as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (Ticket, TicketMail, TicketAttachment))


def test_malformed_oversize_and_misaddressed_mail_is_refused_and_nothing_is_stored(db, lmtp):
    before = count_everything(db)
    sender = f"bad-{tag()}@example.com"
    with pytest.raises(smtplib.SMTPDataError) as refused:
        lmtp.deliver("no headers at all, just words\r\n")
    assert refused.value.smtp_code == 554
    with pytest.raises(smtplib.SMTPDataError) as refused:
        lmtp.deliver(mail(sender, "Bad charset", Content_Type="text/plain; charset=x-unknown-9"))
    assert refused.value.smtp_code == 554
    broken = mail(sender, "Bad bytes", "caf\xe9", Content_Type="text/plain; charset=utf-8").encode("latin-1")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        lmtp.deliver(broken)
    assert refused.value.smtp_code == 554
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:  # SIZE, else at DATA
        lmtp.deliver(mail(sender, "Huge", ("x" * 70 + "\n") * 6000))
    assert refused.value.smtp_code == 552
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        lmtp.deliver(mail(sender, "Wrong door"), rcpt=f"nobody-{tag()}@northwind.test")
    assert list(refused.value.recipients.values())[0][0] == 550
    assert count_everything(db) == before and tickets_from(db, sender) == []


def test_attachments_are_kept_within_the_limits_and_an_oversize_one_is_dropped_with_a_note(client, db, lmtp):
    ana = f"ana-{tag()}@acme.example"
    body = "\r\n".join([
        f"From: {ana}", f"To: {SUPPORT}", "Subject: Photos of the damage", f"Message-ID: <att-{tag()}@x>",
        "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b1"', "", "--b1",
        "Content-Type: text/plain; charset=utf-8", "", "See the files.", "--b1",
        'Content-Type: text/plain; name="log.txt"', 'Content-Disposition: attachment; filename="log.txt"', "",
        "error 42", "--b1", 'Content-Type: application/pdf; name="big.pdf"',
        'Content-Disposition: attachment; filename="big.pdf"', "Content-Transfer-Encoding: base64", "",
        *["JVBERi0" + "A" * 69] * 60, "--b1--", ""])
    lmtp.deliver(body)
    (t,) = tickets_from(db, ana)
    files = client.get(f"/api/v1/tickets/{t.id}/attachments").json
    assert [f["filename"] for f in files] == ["log.txt"]
    r = client.get(f"/api/v1/tickets/{t.id}/attachments/{files[0]['id']}")
    assert r.data.strip() == b"error 42"
    (note,) = messages(client, t.id)
    assert note["kind"] == "note" and "big.pdf" in note["body"] and "2048 bytes" in note["body"]


def test_a_reply_after_the_reopening_window_opens_a_follow_up_ticket(client, db, lmtp, mail_settings):
    ana = f"ana-{tag()}@acme.example"
    lmtp.deliver(mail(ana, "Noise", message_id="n-" + ana))
    (t,) = tickets_from(db, ana)
    assert client.post(f"/api/v1/tickets/{t.id}/status", json={"status": "resolved"}).status_code == 200
    lmtp.deliver(mail(ana, f"Re: [{t.number}] Noise", "It came back."))
    assert get(client, t.id)["status"] == "open" and len(tickets_from(db, ana)) == 1  # within the window: reopened
    assert client.post(f"/api/v1/tickets/{t.id}/status", json={"status": "resolved"}).status_code == 200
    with db.sessions.begin() as s:
        s.execute(update(Ticket).where(Ticket.id == t.id).values(
            resolved_at=datetime.now(UTC) - timedelta(days=mail_settings.ticket_reopen_days + 1)))
    lmtp.deliver(mail(ana, "Re: Noise", "It is back again, months later.", In_Reply_To=f"<n-{ana}>"))
    old, new = tickets_from(db, ana)
    assert get(client, old.id)["status"] == "resolved"
    assert get(client, new.id)["follow_up_of_id"] == old.id and "months later" in new.description


def test_a_reply_to_a_merged_ticket_lands_on_the_ticket_it_was_merged_into(client, db, lmtp):
    ana = f"ana-{tag()}@acme.example"
    customer(client, ana)
    lmtp.deliver(mail(ana, "First", message_id="m1-" + ana))
    lmtp.deliver(mail(ana, "Same again", message_id="m2-" + ana))
    first, second = tickets_from(db, ana)
    r = client.post(f"/api/v1/tickets/{second.id}/merge", json={"into_id": first.id})
    assert r.status_code == 200, r.json
    lmtp.deliver(mail(ana, "Re: Same again", "Any news?", In_Reply_To=f"<m2-{ana}>"))
    assert [m["body"] for m in messages(client, first.id)][-1] == "Any news?"


def test_a_mail_to_a_support_address_and_a_stranger_lands_once_and_the_stranger_is_refused(client, db, lmtp):
    ana = f"ana-{tag()}@acme.example"
    stranger = f"nobody-{tag()}@northwind.test"
    refused = lmtp.deliver(mail(ana, "Two recipients"), SUPPORT, "someone@example.com", stranger)
    assert list(refused) == [stranger] and refused[stranger][0] == 550
    assert len(tickets_from(db, ana)) == 1


def test_a_support_address_of_a_team_puts_its_new_tickets_in_that_team_s_queue(client, db, mail_settings):
    team = client.post("/api/v1/teams", json={"name": f"Billing {tag()}"}).json
    billing = f"billing-{tag()}@northwind.test"
    configured = support_addresses(f"{SUPPORT}, {billing.upper()} = {team['name']}")
    assert configured == {"support_addresses": (SUPPORT, billing), "support_queues": ((billing, team["name"]),)}
    ana = f"ana-{tag()}@acme.example"
    with serve_lmtp(db, replace(mail_settings, **configured)) as endpoint:
        endpoint.deliver(mail(ana, "Invoice twice"), billing)
        endpoint.deliver(mail(ana, "Printer"), SUPPORT)
    by_subject = {t.subject: t for t in tickets_from(db, ana)}
    assert by_subject["Invoice twice"].team_id == team["id"] and by_subject["Printer"].team_id is None
    queue = client.get("/api/v1/tickets", query_string={"team_id": team["id"]}).json["items"]
    assert [t["subject"] for t in queue] == ["Invoice twice"]
