"""The real CRM worker announces an agenda reminder once, by mail through a real SMTP server and in the app, and a
worker killed and restarted afterwards does not announce it again."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

SCAN_INTERVAL = 5  # the worker's default CRM_REMINDER_INTERVAL_SECONDS


def test_the_worker_mails_a_reminder_once_and_shows_it_in_the_app_even_across_a_restart(stack, mailbox):
    crm = stack.crm_http
    title = f"Call with Globex {uuid.uuid4().hex[:6]}"
    starts = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    # a fifteen-minute reminder on a meeting ten minutes away: due already, so it goes out at the next scan
    r = crm.post(f"{stack.crm}/api/v1/agenda/events", json={
        "title": title, "starts_at": starts.isoformat(), "tz": "Europe/Paris", "location": "Video call",
        "transparency": "free", "reminders": [{"minutes": 15}]}, timeout=10)
    assert r.status_code == 201, r.text
    event = r.json()

    def mails():
        return [(to, m) for to, m in mailbox.messages if title in m["Subject"]]
    (recipients, msg), = wait_until(mails, 30, 0.2, "the reminder at the SMTP server")
    assert recipients == [crm.admin_email] and msg["Subject"].startswith(f"Reminder: {title}, ")
    assert f"{stack.crm}/api/v1/agenda/events/{event['id']}" in msg.get_content()

    def notes():
        items = crm.get(f"{stack.crm}/api/v1/me/notifications", params={"state": "all", "page_size": 200},
                        timeout=5).json()["items"]
        return [n for n in items if n["ref_id"] == event["id"]]
    (note,) = wait_until(notes, 10, 0.2, "the reminder in the app")
    assert note["state"] == "unread" and not note["late"]

    worker = stack.procs["crm-worker"]
    worker.kill()
    worker.start().wait_ready()
    time.sleep(2 * SCAN_INTERVAL + 1)  # two scans of the restarted worker
    assert len(mails()) == 1 and len(notes()) == 1
