"""The envelope: CloudEvents 1.0 attributes, binary-mode Kafka encoding, contracts."""

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_events import contracts, envelope
from shared_events.catalogue import EVENT_TYPES, TOPICS
from shared_events.testing import party_state as party


def test_a_new_event_carries_every_required_attribute():
    data = party()
    ev = envelope.new_event("crm.party.updated", data["id"], data, sequence=3, actor_id="user-7",
                            actor_name="ada@example.test")
    attrs = ev.get_attributes()
    assert attrs["specversion"] == "1.0"
    assert uuid.UUID(attrs["id"])
    assert attrs["source"] == "/crm"
    assert attrs["type"] == "crm.party.updated"
    assert attrs["subject"] == data["id"]
    assert attrs["time"].tzinfo is not None
    assert attrs["datacontenttype"] == "application/json"
    assert attrs["dataschema"] == "urn:crm-erp:schema:crm.party.v1"
    assert envelope.sequence_of(ev) == 3
    assert attrs["actor"] == "user-7" and attrs["actorname"] == "ada@example.test"


def test_kafka_binary_mode_round_trip_keeps_the_event_and_keys_by_aggregate():
    data = party()
    ev = envelope.new_event("crm.party.created", data["id"], data, sequence=1)
    topic, key, value, headers = envelope.to_kafka(ev)
    assert topic == "crm.party.v1"
    assert key == data["id"].encode()
    assert json.loads(value) == data  # binary mode: the value is the data alone
    names = dict(headers)
    assert names["ce_type"] == b"crm.party.created" and names["content-type"] == b"application/json"
    back = envelope.from_kafka(key, value, headers)
    assert back.get_id() == ev.get_id()
    assert back.get_data() == data
    assert envelope.sequence_of(back) == 1
    assert back.get_time() == ev.get_time()


def test_outbox_record_round_trip():
    data = party()
    ev = envelope.new_event("crm.party.archived", data["id"], data, sequence=9)
    back = envelope.from_record(json.loads(json.dumps(envelope.to_record(ev))))
    assert back.get_attributes() == ev.get_attributes()
    assert back.get_data() == ev.get_data()


@pytest.mark.parametrize("actor_id, actor_name", [(None, None), ("user-7", "ada@example.test")])
def test_a_record_built_without_the_sdk_is_the_one_the_sdk_would_store(actor_id, actor_name):
    data = party()
    record = envelope.new_record("crm.party.created", data["id"], data, 4, actor_id, actor_name)
    via_sdk = envelope.to_record(envelope.from_record(record))
    assert json.dumps(record) == json.dumps(via_sdk)  # same attributes, same order: the relay sends the same bytes
    ev = envelope.new_event("crm.party.created", data["id"], data, 4, actor_id, actor_name)
    expected = envelope.to_record(ev)
    for volatile in ("id", "time"):
        expected["attributes"].pop(volatile), record["attributes"].pop(volatile)
    assert record == expected
    with pytest.raises(contracts.ContractViolation):
        envelope.new_record("crm.party.created", data["id"], {**data, "kind": "robot"}, 4)


@pytest.mark.parametrize("bad, field", [
    ({"kind": "robot"}, "kind"),
    ({"roles": ["customer", "emperor"]}, "roles/1"),
    ({"billing_address": {"country": "france"}}, "billing_address/country"),
    ({"id": "not-a-uuid"}, "id"),
    ({"version": 0}, "version"),
])
def test_data_that_breaks_the_contract_is_refused_before_it_reaches_the_outbox(bad, field):
    data = party(**bad)
    with pytest.raises(contracts.ContractViolation) as info:
        envelope.new_event("crm.party.updated", data["id"], data, sequence=1)
    assert any(e.startswith(field) for e in info.value.errors), info.value.errors


def test_missing_required_fields_are_named():
    data = party()
    del data["display_name"]
    with pytest.raises(contracts.ContractViolation, match="display_name"):
        contracts.validate("crm.party.created", data)


@pytest.mark.parametrize("headers, value", [
    ([], b"{}"),
    ([("ce_id", b"x"), ("ce_type", b"crm.party.created"), ("ce_source", b"/crm"), ("ce_specversion", b"1.0"),
      ("ce_subject", b"s"), ("ce_sequence", b"1")], b"{}"),  # id is not a UUID
    ([("ce_id", str(uuid.uuid4()).encode()), ("ce_type", b"t"), ("ce_source", b"/crm"),
      ("ce_specversion", b"1.0"), ("ce_subject", b"s"), ("ce_sequence", b"one"),
      ("content-type", b"application/json")], b"{}"),
    ([("ce_id", str(uuid.uuid4()).encode()), ("ce_type", b"t"), ("ce_source", b"/crm"),
      ("ce_specversion", b"1.0"), ("ce_subject", b"s"), ("ce_sequence", b"1"),
      ("content-type", b"application/json")], b"\xff not json"),
])
def test_malformed_messages_are_recognized(headers, value):
    with pytest.raises(envelope.MalformedEvent):
        envelope.from_kafka(b"k", value, headers)


def test_every_catalogued_type_has_a_loadable_schema_on_a_known_topic():
    for name, spec in EVENT_TYPES.items():
        schema = contracts.load_schema(spec.schema)
        assert schema["$id"] == spec.dataschema, name
        assert spec.topic in TOPICS, name
        assert name.split(".")[0] == spec.topic.split(".")[0], name  # a service publishes on its own topics


def test_master_data_topics_are_compacted():
    assert TOPICS["crm.party.v1"].topic_config()["cleanup.policy"] == "compact"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30), st.integers(1, 10**6), st.sampled_from([None, "ada@example.com", "Zoë"]),
       st.sampled_from(["company", "person"]))
def test_the_relay_encodes_an_outbox_record_exactly_as_the_sdk_does(name, sequence, actor_name, kind):
    data = party(display_name=name, legal_name=name, kind=kind)
    event = envelope.new_event("crm.party.updated", data["id"], data, sequence,
                               actor_id="5b0f7d3e-0000-4000-8000-000000000001" if actor_name else None,
                               actor_name=actor_name)
    assert envelope.record_to_kafka(envelope.to_record(event)) == envelope.to_kafka(event)
