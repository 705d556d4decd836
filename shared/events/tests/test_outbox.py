"""The outbox on a real PostgreSQL: rows ride the domain transaction; the relay marks only acknowledged rows."""

import threading
import time

import pytest
from kafka.errors import KafkaTimeoutError
from shared_events import envelope
from shared_events.outbox import OutboxRelay, backlog, record_event
from shared_events.testing import RecordingProducer, wait_for
from shared_events.testing import party_state as party
from sqlalchemy import select, text

pytestmark = pytest.mark.db


def add_events(sessions, outbox, n):
    ids = []
    with sessions.begin() as s:
        for _ in range(n):
            data = party()
            ev = envelope.new_event("crm.party.created", data["id"], data, sequence=1)
            record_event(s, outbox, ev, "party")
            ids.append(ev.get_id())
    return ids


def test_a_rolled_back_change_leaves_no_event(scratch):
    engine, sessions, t = scratch
    with pytest.raises(RuntimeError):
        with sessions.begin() as s:
            data = party()
            record_event(s, t["outbox"], envelope.new_event("crm.party.created", data["id"], data, 1), "party")
            raise RuntimeError("the domain change failed half-way")
    with sessions() as s:
        assert backlog(s, t["outbox"]) == 0


def test_relay_publishes_in_order_and_marks_rows_published(scratch):
    engine, sessions, t = scratch
    ids = add_events(sessions, t["outbox"], 5)
    producer = RecordingProducer()
    relay = OutboxRelay(engine, t["outbox"], "unused:1", "test", producer_factory=lambda: producer)
    assert relay.publish_batch() == 5
    assert [dict(h)["ce_id"].decode() for _, _, _, h in producer.sent] == ids
    assert all(topic == "crm.party.v1" for topic, *_ in producer.sent)
    with sessions() as s:
        assert backlog(s, t["outbox"]) == 0
    assert relay.publish_batch() == 0


def test_rows_stay_unpublished_when_the_broker_does_not_acknowledge(scratch):
    engine, sessions, t = scratch
    add_events(sessions, t["outbox"], 3)
    failing = RecordingProducer(fail=KafkaTimeoutError("broker down"))
    relay = OutboxRelay(engine, t["outbox"], "unused:1", "test", producer_factory=lambda: failing)
    with pytest.raises(KafkaTimeoutError):
        relay.publish_batch()
    with sessions() as s:
        assert backlog(s, t["outbox"]) == 3
        rows = s.execute(select(t["outbox"].c.attempts, t["outbox"].c.last_error)).all()
    assert all(r.attempts == 1 and "broker down" in r.last_error for r in rows)
    ok = RecordingProducer()
    relay2 = OutboxRelay(engine, t["outbox"], "unused:1", "test", producer_factory=lambda: ok)
    assert relay2.publish_batch() == 3


def test_two_relays_never_claim_the_same_rows(scratch):
    engine, sessions, t = scratch
    add_events(sessions, t["outbox"], 4)
    o = t["outbox"]
    with engine.connect() as other:
        # another relay holds a claim on the two oldest rows
        tx = other.begin()
        held = other.execute(select(o.c.id).order_by(o.c.id).limit(2).with_for_update(skip_locked=True)).scalars().all()
        producer = RecordingProducer()
        relay = OutboxRelay(engine, o, "unused:1", "test", producer_factory=lambda: producer)
        assert relay.publish_batch() == 2
        with sessions() as s:
            published = s.execute(select(o.c.id).where(o.c.published_at.is_not(None))).scalars().all()
        assert set(published).isdisjoint(held)
        tx.rollback()
    assert relay.publish_batch() == 2


def test_relay_run_loop_rides_out_an_outage(scratch):
    """The loop retries with backoff until the broker answers, then drains the backlog."""
    import threading

    engine, sessions, t = scratch
    add_events(sessions, t["outbox"], 2)
    calls = {"n": 0}
    good = RecordingProducer()

    def factory():
        calls["n"] += 1
        if calls["n"] < 3:
            raise KafkaTimeoutError("no broker yet")
        return good

    relay = OutboxRelay(engine, t["outbox"], "unused:1", "test", producer_factory=factory, poll_interval=0.05)
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        for _ in range(200):
            with sessions() as s:
                if backlog(s, t["outbox"]) == 0:
                    break
            relay.stopping.wait(0.05)
    finally:
        relay.stop()
        thread.join(10)
    assert len(good.sent) == 2 and calls["n"] == 3


def test_outbox_rows_have_the_debezium_columns(scratch):
    engine, _, _ = scratch
    with engine.connect() as c:
        cols = set(c.execute(text(
            "select column_name from information_schema.columns where table_name='outbox' "
            "and table_schema = current_schema()")).scalars())
    assert {"id", "aggregatetype", "aggregateid", "type", "payload"} <= cols


def test_published_rows_are_purged_after_the_retention_and_unpublished_ones_never(scratch):
    from datetime import timedelta

    from shared_events.outbox import purge_published
    from sqlalchemy import func, update

    engine, sessions, t = scratch
    o = t["outbox"]
    add_events(sessions, o, 3)
    relay = OutboxRelay(engine, o, "unused:1", "test", producer_factory=RecordingProducer, batch_size=2)
    relay.publish_batch()  # two published, one still waiting
    with engine.begin() as c:
        c.execute(update(o).where(o.c.published_at.is_not(None)).values(published_at=func.now() - timedelta(days=8)))
    assert purge_published(engine, o, timedelta(days=7)) == 2
    with sessions() as s:
        assert backlog(s, o) == 1
        assert s.execute(select(func.count()).select_from(o)).scalar_one() == 1


def test_a_committed_event_wakes_the_idle_relay_without_waiting_for_the_next_poll(scratch):
    """The relay sleeps on LISTEN; the NOTIFY sent with the outbox row wakes it (the 60 s poll would not)."""
    import threading

    engine, sessions, t = scratch
    producer = RecordingProducer()
    relay = OutboxRelay(engine, t["outbox"], "unused:1", "test", producer_factory=lambda: producer,
                        poll_interval=60)
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        for _ in range(100):  # the relay is listening once its first, empty, round is over
            if relay._listener is not None:
                break
            relay.stopping.wait(0.05)
        add_events(sessions, t["outbox"], 1)
        for _ in range(200):
            if producer.sent:
                break
            relay.stopping.wait(0.05)
        assert len(producer.sent) == 1
    finally:
        relay.stop()  # also interrupts the 60 s wait
        thread.join(10)
    assert not thread.is_alive()


def test_the_relay_resumes_within_a_second_of_the_database_coming_back(own_database):
    """An 8 s outage grows the relay's backoff past 3 s; the relay still publishes within 1 s of the database
    answering again, because it probes the database instead of sleeping the backoff out."""
    engine, outbox = own_database.engine, own_database.tables["outbox"]
    producer = RecordingProducer()
    relay = OutboxRelay(engine, outbox, "unused:1", "test", producer_factory=lambda: producer)
    thread = threading.Thread(target=relay.run)
    thread.start()
    held = engine.connect()  # a session that outlives the outage, to write an event the relay cannot see yet
    try:
        wait_for(lambda: relay._listener is not None, "the relay to listen")
        own_database.close(spare=held)
        time.sleep(8)
        with held.begin():
            data = party()
            record_event(held, outbox, envelope.new_event("crm.party.created", data["id"], data, 1), "party")
        assert producer.sent == []
        own_database.open()
        back = time.monotonic()
        wait_for(lambda: producer.sent, "the event to be published", timeout=10)
        resumed = time.monotonic() - back
    finally:
        held.close()
        relay.stop()
        thread.join(15)
    print(f"\nrelay published {resumed:.2f} s after the database came back")
    assert resumed < 1, resumed
    assert len(producer.sent) == 1 and not thread.is_alive()
