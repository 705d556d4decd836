"""Ticket mail through the real stack: a customer's mail handed to the CRM worker's LMTP endpoint (a real
process) becomes a ticket and is acknowledged; the agent's reply leaves through the worker's mail sender to a real
SMTP server (aiosmtpd), threaded; the customer's answer to it lands on the same ticket and reopens it."""

import smtplib
import uuid

import pytest

from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

SUPPORT = "support@crm.localhost"  # the worker's default CRM_SUPPORT_ADDRESSES


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def deliver(stack, sender: str, subject: str, body: str, message_id: str, **headers) -> None:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    text = (f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n{extra}"
            f"\r\n{body}\r\n")
    with smtplib.LMTP("127.0.0.1", int(stack.env["CRM_LMTP_PORT"])) as lmtp:
        lmtp.sendmail(sender, [SUPPORT], text)


def mail_to(mailbox, address: str) -> list:
    return [m for rcpts, m in list(mailbox.messages) if rcpts == [address]]


def test_a_customer_mail_becomes_a_ticket_and_the_conversation_goes_back_and_forth_by_mail(stack, mailbox):
    tag = uuid.uuid4().hex[:8]
    http, base = stack.crm_http, stack.crm + "/api/v1/tickets"
    customer = f"ana-{tag}@acme.example"
    deliver(stack, customer, f"Router {tag} keeps rebooting", "Since yesterday, every ten minutes.", f"q-{tag}@acme")
    found = ok(http.get(base, params={"q": tag}, timeout=10))["items"]
    assert len(found) == 1  # applied before the endpoint answered 250
    t = found[0]
    assert (t["channel"], t["requester_email"], t["status"]) == ("email", customer, "new")

    (ack,) = wait_until(lambda: mail_to(mailbox, customer), 30, 0.2, "the acknowledgement")
    assert f"[{t['number']}]" in ack["Subject"] and ack["Auto-Submitted"] == "auto-replied"

    ok(http.post(f"{base}/{t['id']}/messages", json={"kind": "reply", "body": "Please update the firmware."},
                 timeout=10), 201)
    reply = wait_until(lambda: [m for m in mail_to(mailbox, customer) if "firmware" in m.get_content()], 30, 0.2,
                       "the agent's reply")[0]
    assert reply["In-Reply-To"] == f"<q-{tag}@acme>" and f"[{t['number']}]" in reply["Subject"]
    assert f"<q-{tag}@acme>" in reply["References"]
    etag = http.get(f"{base}/{t['id']}", timeout=10).headers["ETag"]
    ok(http.post(f"{base}/{t['id']}/status", json={"status": "pending"}, headers={"If-Match": etag}, timeout=10))

    deliver(stack, customer, f"Re: {reply['Subject']}", "Updated, still rebooting.\r\n\r\n> Please update",
            f"a-{tag}@acme", In_Reply_To=reply["Message-ID"], References=f"<q-{tag}@acme> {reply['Message-ID']}")
    shown = ok(http.get(f"{base}/{t['id']}", timeout=10))
    assert shown["status"] == "open" and shown["first_responded_at"] is not None
    bodies = [(m["author_type"], m["body"]) for m in ok(http.get(f"{base}/{t['id']}/messages", timeout=10))]
    assert bodies == [("agent", "Please update the firmware."), ("customer", "Updated, still rebooting.")]
    assert len(ok(http.get(base, params={"q": tag}, timeout=10))["items"]) == 1
