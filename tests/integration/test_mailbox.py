"""The CRM mailbox through the real stack: the CRM worker (a real process) fetches a user's mail from a real
Dovecot IMAP server into the CRM Inbox, threaded and on the customer's timeline; SIGKILLed and restarted it
fetches nothing twice; a mail written through the API leaves through the user's SMTP server (aiosmtpd) and
lands in Sent."""

import uuid
from email.utils import formatdate

import pytest

from tests.integration.conftest import wait_until
from tests.support.dovecot import start_dovecot

pytestmark = pytest.mark.integration


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture(scope="module")
def imap():
    server = start_dovecot()
    yield server
    server.stop()


def raw(frm: str, to: str, subject: str, message_id: str, **headers) -> bytes:
    lines = [f"From: {frm}", f"To: {to}", f"Subject: {subject}", f"Date: {formatdate()}", f"Message-ID: {message_id}",
             *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()), "Content-Type: text/plain", "", "Hello", ""]
    return "\r\n".join(lines).encode()


def test_the_worker_fetches_threads_links_and_sends_and_a_killed_worker_fetches_nothing_twice(stack, mailbox, imap):
    http, base, tag = stack.crm_http, stack.crm + "/api/v1", uuid.uuid4().hex[:8]
    me, customer = f"rep-{tag}@northwind.test", f"kim-{tag}@customer.test"
    imap.add_user(me, "imap-pw-123")
    party = stack.create_party(kind="person", first_name="Kim", last_name=tag, emails=[{"value": customer}])
    account = ok(http.post(f"{base}/mailbox/accounts", json={
        "email": me, "smtp_host": stack.env["CRM_SMTP_HOST"], "smtp_port": int(stack.env["CRM_SMTP_PORT"]),
        "smtp_security": "none", "imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none",
        "imap_password": "imap-pw-123"}, timeout=10), 201)
    inbox_id = next(f["id"] for f in ok(http.get(f"{base}/mailbox/folders", timeout=10))
                    if f["account_id"] == account["id"] and f["role"] == "inbox")

    def inbox():
        return ok(http.get(f"{base}/mailbox/messages", params={"folder_id": inbox_id, "page_size": 100},
                           timeout=10))["items"]

    imap.deliver(me, raw(customer, me, "Pump order", f"<1-{tag}@customer.test>"))
    imap.deliver(me, raw(customer, me, "Re: Pump order", f"<2-{tag}@customer.test>",
                         In_Reply_To=f"<1-{tag}@customer.test>"))
    got = wait_until(lambda: len(inbox()) == 2 and inbox(), 60, 0.5, "the worker fetching two mails")
    assert got[0]["thread_id"] == got[1]["thread_id"]
    timeline = ok(http.get(f"{base}/parties/{party['id']}/timeline", timeout=10))
    items = timeline["items"] if isinstance(timeline, dict) else timeline
    assert sorted(e["kind"] for e in items if e["kind"].startswith("mail_")) == ["mail_received", "mail_received"]

    # SIGKILL the worker, deliver one more, restart: the new mail once, the old ones not again
    worker = stack.procs["crm-worker"]
    worker.kill()
    imap.deliver(me, raw(customer, me, "Re: Pump order", f"<3-{tag}@customer.test>",
                         In_Reply_To=f"<2-{tag}@customer.test>"))
    worker.start()
    worker.wait_ready()
    wait_until(lambda: len(inbox()) >= 3, 60, 0.5, "the restarted worker fetching the third mail")
    assert sorted(m["message_id"] for m in inbox()) == [f"<{i}-{tag}@customer.test>" for i in (1, 2, 3)]

    # a mail written in the CRM leaves through the account's SMTP server and is marked sent in Sent
    sent = ok(http.post(f"{base}/mailbox/messages", json={
        "account_id": account["id"], "to": [customer], "subject": "Your pumps", "text_body": "They ship Monday.",
        "party_id": party["id"], "reply_to_message_id": got[0]["id"]}, timeout=10), 201)
    wait_until(lambda: any(m["Message-ID"] == sent["message_id"] for _, m in list(mailbox.messages)), 60, 0.5,
               "the worker sending the mail")
    (msg,) = [m for _, m in list(mailbox.messages) if m["Message-ID"] == sent["message_id"]]
    assert msg["From"] == me and msg["To"] == customer and msg["In-Reply-To"] in (
        f"<1-{tag}@customer.test>", f"<2-{tag}@customer.test>", f"<3-{tag}@customer.test>")
    wait_until(lambda: ok(http.get(f"{base}/mailbox/messages/{sent['id']}", timeout=10))["status"] == "sent", 30,
               0.5, "the mail marked sent")
    assert ok(http.get(f"{base}/mailbox/messages/{sent['id']}", timeout=10))["thread_id"] == got[0]["thread_id"]
