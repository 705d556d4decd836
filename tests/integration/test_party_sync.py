"""Customer master data flows CRM → ERP over the real broker: once, in order, through outages and poison."""

import subprocess
import time
import uuid

import pytest
import requests
from kafka import KafkaProducer
from shared_events import envelope
from shared_events.testing import party_state

from .conftest import BIN, wait_until
from .support import messages_about, republish

pytestmark = pytest.mark.integration

TOPIC = "crm.party.v1"


def company(**over):
    body = {"kind": "company", "legal_name": f"Umbrella {uuid.uuid4().hex[:8]}", "roles": ["customer"]}
    body.update(over)
    return body


def test_a_party_created_in_the_crm_appears_in_the_erp(stack):
    p = stack.create_party(**company(tax_id="NL001", billing_address={"city": "Delft", "country": "NL"}))
    got = stack.wait_in_erp(p["id"])
    assert got["display_name"] == p["display_name"] and got["tax_id"] == "NL001"
    assert got["billing_address"] == {"city": "Delft", "country": "NL"}
    listed = stack.erp_http.get(stack.erp + "/api/v1/customers", params={"q": p["display_name"]}, timeout=5).json()
    assert [c["id"] for c in listed["items"]] == [p["id"]]
    (change,) = stack.erp_changes(p["id"])
    assert change["actor"].startswith(f"crm:{stack.crm_http.admin_email} (")  # the ERP knows who did it


def test_an_update_advances_the_replica_and_a_late_older_event_is_ignored(stack, bootstrap):
    p = stack.create_party(**company())
    stack.wait_in_erp(p["id"])
    v2 = stack.update_party(p, tax_id="FR-NEW", billing_address={"city": "Nantes", "country": "FR"})
    got = stack.wait_in_erp(p["id"], 2)
    assert got["tax_id"] == "FR-NEW" and got["billing_address"]["city"] == "Nantes"

    # the v1 state arrives again, late, as a distinct event (e.g. replayed from elsewhere)
    v1_record = next(r for r in messages_about(bootstrap, TOPIC, p["id"].encode())
                     if dict(r.headers)["ce_sequence"] == b"1")
    republish(bootstrap, v1_record, ce_id=str(uuid.uuid4()).encode())
    # a later change on the same key is the barrier: once it is applied, the late event was consumed
    stack.update_party(v2, job_title=None, website="https://umbrella.example")
    got = stack.wait_in_erp(p["id"], 3)
    assert got["tax_id"] == "FR-NEW" and got["website"] == "https://umbrella.example"
    assert [c["sequence"] for c in stack.erp_changes(p["id"])] == [3, 2, 1]


def test_the_same_event_delivered_twice_has_one_effect(stack, bootstrap):
    p = stack.create_party(**company())
    v2 = stack.update_party(p, tax_id="DUP-2")
    stack.wait_in_erp(p["id"], 2)
    records = messages_about(bootstrap, TOPIC, p["id"].encode())
    assert len(records) == 2
    for r in records:  # Kafka redelivers both, byte for byte
        republish(bootstrap, r)
    stack.update_party(v2, tax_id="DUP-3")
    got = stack.wait_in_erp(p["id"], 3)
    assert got["tax_id"] == "DUP-3"
    changes = stack.erp_changes(p["id"])
    assert [c["sequence"] for c in changes] == [3, 2, 1]
    assert len({c["event_id"] for c in changes}) == 3


def test_with_kafka_down_the_crm_keeps_accepting_writes_and_all_of_them_arrive_once(stack, broker):
    broker.stop()
    try:
        created = [stack.create_party(**company(legal_name=f"Outage {i} {uuid.uuid4().hex[:6]}")) for i in range(15)]
        updated = stack.update_party(created[0], tax_id="WHILE-DOWN")
        assert requests.get(stack.crm + "/readyz", timeout=5).status_code == 200
        wait_until(lambda: requests.get(stack.crm_worker_url + "/readyz", timeout=20).status_code == 503,
                   30, 0.5, "the CRM worker to report the broker unreachable")
        time.sleep(2)
        assert stack.erp_party(created[-1]["id"]) is None  # nothing can have crossed yet
    finally:
        broker.start()
    for p in created[1:]:
        stack.wait_in_erp(p["id"], 1, timeout=120)
    assert stack.wait_in_erp(updated["id"], 2, timeout=60)["tax_id"] == "WHILE-DOWN"
    for p in created[1:]:
        assert len(stack.erp_changes(p["id"])) == 1, p["id"]
    assert [c["sequence"] for c in stack.erp_changes(updated["id"])] == [2, 1]
    wait_until(lambda: requests.get(stack.crm_worker_url + "/readyz", timeout=20).status_code == 200,
               60, 0.5, "the CRM worker to be ready again")


def test_a_malformed_message_goes_to_the_dlq_and_later_events_still_apply(stack, bootstrap):
    garbage_key = f"garbage-{uuid.uuid4()}".encode()
    poison_id = str(uuid.uuid4())
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(TOPIC, key=garbage_key, value=b"\x00 this is not an event").get(timeout=30)
        # a well-formed envelope whose data breaks the contract: dead-lettered at once (retrying cannot fix it)
        headers = [("ce_id", str(uuid.uuid4()).encode()), ("ce_type", b"crm.party.updated"),
                   ("ce_source", b"/crm"), ("ce_specversion", b"1.0"), ("ce_subject", poison_id.encode()),
                   ("ce_sequence", b"1"), ("ce_time", b"2026-11-23T10:00:00Z"),
                   ("content-type", b"application/json")]
        producer.send(TOPIC, key=poison_id.encode(), value=b'{"id": "%s"}' % poison_id.encode(),
                      headers=headers).get(timeout=30)
    finally:
        producer.close()
    p = stack.create_party(**company())
    stack.wait_in_erp(p["id"])

    garbage = wait_until(lambda: messages_about(bootstrap, TOPIC + ".dlq", garbage_key), 30, 0.5, "garbage in DLQ")
    h = dict(garbage[0].headers)
    assert garbage[0].value == b"\x00 this is not an event"
    assert b"MalformedEvent" in h["dlq_error"] and h["dlq_original_topic"] == TOPIC.encode()
    poison = wait_until(lambda: messages_about(bootstrap, TOPIC + ".dlq", poison_id.encode()), 30, 0.5, "poison")
    ph = dict(poison[0].headers)
    assert b"ContractViolation" in ph["dlq_error"] and b"display_name" in ph["dlq_error"]
    assert ph["dlq_attempts"] == b"1" and ph["dlq_consumer"] == b"erp.parties"
    assert stack.erp_party(poison_id) is None


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(stack):
    created = [stack.create_party(**company(legal_name=f"Crash {i} {uuid.uuid4().hex[:6]}")) for i in range(40)]
    stack.procs["erp-worker"].kill()  # SIGKILL: no graceful shutdown, offsets possibly behind the database
    stack.procs["crm-worker"].kill()
    more = [stack.create_party(**company(legal_name=f"After {i} {uuid.uuid4().hex[:6]}")) for i in range(10)]
    stack.procs["erp-worker"].start().wait_ready()
    stack.procs["crm-worker"].start().wait_ready()
    for p in created + more:
        stack.wait_in_erp(p["id"], 1, timeout=90)
    for p in created + more:
        assert len(stack.erp_changes(p["id"])) == 1, p["id"]


def test_replaying_dead_letters_applies_what_now_works_and_leaves_what_still_fails_in_place(stack, bootstrap):
    garbage = f"replay-{uuid.uuid4()}".encode()
    # a party event dead-lettered by a bug since fixed: its state is valid, it was never applied
    lost = party_state(display_name=f"Rescued {uuid.uuid4().hex[:6]}", legal_name="Rescued SA", version=1)
    _, key, value, headers = envelope.to_kafka(envelope.new_event("crm.party.created", lost["id"], lost, 1))
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(TOPIC, key=garbage, value=b"not an event either").get(timeout=30)
        producer.send(TOPIC + ".dlq", key=key, value=value, headers=list(headers) + [
            ("dlq_error", b"RuntimeError: a bug since fixed"), ("dlq_consumer", b"erp.parties"),
            ("dlq_original_topic", TOPIC.encode())]).get(timeout=30)
    finally:
        producer.close()
    wait_until(lambda: messages_about(bootstrap, TOPIC + ".dlq", garbage), 30, 0.5, "the dead letter")
    assert stack.erp_party(lost["id"]) is None

    def replay():
        return subprocess.run([str(BIN / "erp"), "replay-dlq", TOPIC], env=stack.env, capture_output=True,
                              text=True, timeout=180)

    first = replay()
    assert first.returncode == 1, first.stdout + first.stderr  # something still fails: listed, exit 1
    assert "still failing" in first.stdout and "MalformedEvent" in first.stdout
    assert stack.erp_party(lost["id"])["legal_name"] == "Rescued SA"  # what works now is applied
    dead = len(messages_about(bootstrap, TOPIC + ".dlq", garbage))
    second = replay()
    assert second.returncode == 1 and "MalformedEvent" in second.stdout  # still there, still reported
    assert len(messages_about(bootstrap, TOPIC + ".dlq", garbage)) == dead == 1  # never dead-lettered again
    assert len(messages_about(bootstrap, TOPIC, garbage)) == 1  # and never re-published into the topic
    assert len(stack.erp_changes(lost["id"])) == 1  # the second replay applied nothing twice
