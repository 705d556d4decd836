"""Campaigns through the real stack: the CRM worker (a real process) sends to a real SMTP server (aiosmtpd)
exactly one message per recipient, even when it is SIGKILLed at random moments and restarted; a one-click
unsubscribe posted with `requests` as a mail client does suppresses the address; a DSN handed to the worker's
LMTP endpoint suppresses a bounced address and the next campaign skips it."""

import random
import smtplib
import time
import uuid
from collections import Counter

import pytest
import requests

from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

N = 2000
DOMAINS = 200  # the worker's per-domain limit (20/s) is not what this test measures


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def audience(stack, tag: str, n: int = N) -> dict:
    http, base = stack.crm_http, stack.crm + "/api/v1/campaigns"
    lst = ok(http.post(base + "/lists", json={"name": f"Readers {tag}"}, timeout=10), 201)
    rows = "\n".join(f"r{i}-{tag}@d{i % DOMAINS}.example.test" for i in range(n))
    result = ok(http.post(f"{base}/lists/{lst['id']}/import", json={"csv": f"email\n{rows}\n", "source": "it"},
                          timeout=120))
    assert result["added"] == n
    return lst


def send(stack, lst: dict, tag: str, **body) -> dict:
    http, base = stack.crm_http, stack.crm + "/api/v1/campaigns/mailings"
    c = ok(http.post(base, json={"name": f"News {tag} {uuid.uuid4().hex[:4]}", "subject": "News for {{ "
                                 "recipient.email }}", "html_body": "<p>Hello</p><p><a href=\"https://x.example/"
                                 "\">more</a></p>", "list_id": lst["id"], **body}, timeout=10), 201)
    ok(http.post(f"{base}/{c['id']}/schedule", json={}, timeout=10))
    return c


def figures(stack, c) -> dict:
    return ok(stack.crm_http.get(f"{stack.crm}/api/v1/campaigns/mailings/{c['id']}/statistics", timeout=10))


def delivered(mailbox, tag: str) -> list:
    return [(rcpts, msg) for rcpts, msg in list(mailbox.messages) if rcpts[0].endswith(".example.test")
            and f"-{tag}@" in rcpts[0]]


def assert_exactly_once(mailbox, tag: str, n: int = N) -> None:
    got = delivered(mailbox, tag)
    per_recipient = Counter(r[0] for r, _ in got)
    twice = [r for r, k in per_recipient.items() if k > 1]
    missing = {f"r{i}-{tag}@d{i % DOMAINS}.example.test" for i in range(n)} - set(per_recipient)
    print(f"\ncampaign {tag}: {len(got)} messages, {len(per_recipient)} recipients, "
          f"{len(twice)} twice, {len(missing)} missing")
    assert not twice and not missing and len(got) == n
    assert len({m["Message-ID"] for _, m in got}) == n


def test_two_thousand_recipients_get_exactly_one_message_each_with_the_list_headers(stack, mailbox):
    tag = uuid.uuid4().hex[:8]
    lst = audience(stack, tag)
    started = time.monotonic()
    c = send(stack, lst, tag)
    wait_until(lambda: figures(stack, c)["status"] == "sent", 240, 0.5, "the campaign sent")
    elapsed = time.monotonic() - started
    assert_exactly_once(mailbox, tag)
    print(f"2000 messages in {elapsed:.1f} s ({N / elapsed:.0f}/s, worker limit CRM_CAMPAIGN_RATE=100/s)")
    _, msg = delivered(mailbox, tag)[0]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = [p.strip(" <>") for p in msg["List-Unsubscribe"].split(",")]
    assert https.startswith(stack.crm + "/api/v1/public/campaign-mail/unsubscribe/") and mailto.startswith("mailto:")
    assert msg["List-Id"] and msg["Message-ID"].startswith("<campaign.")
    assert figures(stack, c)["sent"] == N


def test_the_worker_killed_at_ten_random_moments_still_sends_each_recipient_exactly_once(stack, mailbox):
    tag = uuid.uuid4().hex[:8]
    lst = audience(stack, tag)
    worker = stack.procs["crm-worker"]
    c = send(stack, lst, tag)
    rng = random.Random()
    kills = []
    for _ in range(10):
        before = figures(stack, c)["sent"]
        wait_until(lambda before=before: figures(stack, c)["sent"] > before, 60, 0.05, "the restarted worker sending")
        time.sleep(rng.uniform(0.0, 0.8))
        worker.kill()  # SIGKILL to the worker's process group, in the middle of sending
        kills.append(figures(stack, c)["sent"])
        worker.start()
    worker.wait_ready()
    print(f"\nkilled at sent = {kills}")
    wait_until(lambda: figures(stack, c)["status"] == "sent", 300, 0.5, "the campaign sent")
    assert len(set(kills)) > 1 and kills[-1] < N, "the kills did not land during sending"
    assert_exactly_once(mailbox, tag)


DSN = """From: MAILER-DAEMON@mx.example.test (Mail Delivery System)
To: {verp}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0"

--b0
Content-Type: text/plain

Your message could not be delivered.

--b0
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b0--
"""


def test_one_click_unsubscribe_and_a_bounce_keep_the_next_campaign_away(stack, mailbox):
    tag = uuid.uuid4().hex[:8]
    lst = audience(stack, tag, 5)
    c = send(stack, lst, tag)
    wait_until(lambda: figures(stack, c)["status"] == "sent", 60, 0.2, "the campaign sent")
    got = {r[0]: m for r, m in delivered(mailbox, tag)}
    leaver, bounced = f"r0-{tag}@d0.example.test", f"r1-{tag}@d1.example.test"

    url = got[leaver]["List-Unsubscribe"].split(",")[0].strip(" <>")
    assert requests.get(url, timeout=10).status_code == 200  # a link scanner: nothing happens
    r = requests.post(url, data={"List-Unsubscribe": "One-Click"}, allow_redirects=False, timeout=10)
    assert r.status_code == 200 and "Location" not in r.headers and "Set-Cookie" not in r.headers

    bounce_address = next(s for (r, _), s in zip(mailbox.messages, mailbox.senders, strict=True) if r == [bounced])
    assert bounce_address.startswith("bounces+")  # VERP: the return path names this recipient's ledger row
    with smtplib.LMTP("127.0.0.1", int(stack.env["CRM_LMTP_PORT"])) as lmtp:
        lmtp.sendmail("", [bounce_address], DSN.format(verp=bounce_address, email=bounced))

    def address(e):
        return ok(stack.crm_http.get(f"{stack.crm}/api/v1/campaigns/addresses", params={"email": e}, timeout=10))
    # a list's campaign: its one-click leaves that list only (other lists and segments may still mail the address)
    assert address(leaver)["suppressed_reason"] is None
    assert [(h["change"], h["method"]) for h in address(leaver)["history"]] == [("unsubscribed_from_list", "one_click")]
    assert address(bounced)["suppressed_reason"] == "hard_bounce"

    again = send(stack, lst, tag)
    wait_until(lambda: figures(stack, again)["status"] == "sent", 60, 0.2, "the second campaign sent")
    assert figures(stack, again)["sent"] == 3
    second = [r[0] for r, m in delivered(mailbox, tag) if m["Message-ID"].split(".")[2].startswith(again["id"][:8])]
    assert sorted(second) == sorted(f"r{i}-{tag}@d{i}.example.test" for i in (2, 3, 4))

