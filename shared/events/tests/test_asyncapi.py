"""shared/events/asyncapi.yaml agrees with the catalogue: every topic and its dead-letter topic is a channel, every
event type is a message on the channel of its topic, and each message's payload is the catalogue's schema.

Adding a topic or an event type to shared_events.catalogue without documenting it makes these tests fail.
"""

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from shared_events import contracts
from shared_events.catalogue import EVENT_TYPES, TOPICS, all_topics, dlq_topic

DOC_PATH = Path(__file__).resolve().parents[1] / "asyncapi.yaml"
SCHEMAS_DIR = Path(str(resources.files("shared_events").joinpath("schemas"))).resolve()
CATALOGUED_TOPICS = {t.name: t for t in all_topics()}


@pytest.fixture(scope="module")
def doc() -> dict:
    loaded = yaml.safe_load(DOC_PATH.read_text())
    assert isinstance(loaded, dict), f"{DOC_PATH} is not a YAML mapping"
    return loaded


# --- reading the document -----------------------------------------------------------------------------------------

def pointer(doc: dict, ref: str):
    """The node a local reference ('#/a/b') points at."""
    assert ref.startswith("#/"), f"not a local reference: {ref}"
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"dangling reference {ref}"
        node = node[part]
    return node


def resolve(doc: dict, node):
    """Follow local $ref chains; a reference to another file is returned as it is."""
    seen = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        assert node["$ref"] not in seen, f"reference cycle at {node['$ref']}"
        seen.add(node["$ref"])
        node = pointer(doc, node["$ref"])
    return node


def deref(doc: dict, node):
    """The node with every local reference replaced by its target (references to other files stay)."""
    node = resolve(doc, node)
    if isinstance(node, dict):
        return {k: deref(doc, v) for k, v in node.items()}
    if isinstance(node, list):
        return [deref(doc, v) for v in node]
    return node


def channels_by_address(doc: dict) -> dict[str, dict]:
    channels = {}
    for channel_id, channel in (doc.get("channels") or {}).items():
        channel = resolve(doc, channel)
        address = channel.get("address")
        assert address, f"channel {channel_id} has no address"
        assert address not in channels, f"two channels with address {address}"
        channels[address] = channel
    return channels


def messages_by_name(doc: dict, channel: dict) -> dict[str, dict]:
    messages = {}
    for message_id, message in (channel.get("messages") or {}).items():
        message = resolve(doc, message)
        name = message.get("name")
        assert name, f"message {message_id} has no name"
        assert name not in messages, f"two messages named {name} on channel {channel['address']}"
        messages[name] = message
    return messages


def payload_schema(message: dict) -> dict:
    """The JSON Schema the payload names: a referenced file under shared_events/schemas, or inline."""
    payload = message.get("payload")
    assert isinstance(payload, dict), f"message {message['name']} has no payload schema"
    if "schemaFormat" in payload:  # an AsyncAPI Multi Format Schema Object
        payload = payload["schema"]
    ref = payload.get("$ref")
    if ref is None:
        return payload
    file_part, _, fragment = ref.partition("#")
    assert file_part and not fragment, f"{message['name']}: payload must reference a whole schema file, not {ref}"
    path = (DOC_PATH.parent / file_part).resolve()
    assert path.parent == SCHEMAS_DIR, f"{message['name']}: {ref} is not a schema of the shared_events package"
    assert path.is_file(), f"{message['name']}: {ref} does not exist"
    return json.loads(path.read_text())


def header_consts(headers: dict, name: str) -> set:
    """The values a (dereferenced) headers schema pins a header to with `const`, through allOf."""
    found = set()
    prop = (headers.get("properties") or {}).get(name) or {}
    if "const" in prop:
        found.add(prop["const"])
    for part in headers.get("allOf") or []:
        found |= header_consts(part, name)
    return found


# --- the document against the catalogue ---------------------------------------------------------------------------

def test_the_document_is_asyncapi_3_with_a_kafka_server(doc):
    assert str(doc.get("asyncapi", "")).startswith("3."), "the document must be AsyncAPI 3.x"
    assert doc["info"]["title"] and doc["info"]["version"]
    protocols = {resolve(doc, s).get("protocol") for s in (doc.get("servers") or {}).values()}
    assert "kafka" in protocols


@pytest.mark.parametrize("topic", sorted(CATALOGUED_TOPICS))
def test_every_catalogued_topic_is_a_channel_with_its_settings(doc, topic):
    spec = CATALOGUED_TOPICS[topic]
    channels = channels_by_address(doc)
    assert topic in channels, f"topic {topic} is in the catalogue but not a channel of {DOC_PATH.name}"
    kafka = ((channels[topic].get("bindings") or {}).get("kafka")) or {}
    if "topic" in kafka:
        assert kafka["topic"] == topic
    assert kafka.get("partitions") == spec.partitions, f"{topic}: partitions differ from the catalogue"
    policy = (kafka.get("topicConfiguration") or {}).get("cleanup.policy")
    assert policy == [spec.topic_config()["cleanup.policy"]], f"{topic}: cleanup.policy differs from the catalogue"


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_topic_has_its_dead_letter_channel(doc, topic):
    assert dlq_topic(topic) in channels_by_address(doc), f"no channel for {dlq_topic(topic)}"


def test_every_channel_is_a_catalogued_topic(doc):
    undocumented = set(channels_by_address(doc)) - set(CATALOGUED_TOPICS)
    assert not undocumented, f"channels that are not topics of the catalogue: {sorted(undocumented)}"


@pytest.mark.parametrize("type_", sorted(EVENT_TYPES))
def test_every_event_type_is_a_message_on_the_channel_of_its_topic(doc, type_):
    spec = EVENT_TYPES[type_]
    channel = channels_by_address(doc).get(spec.topic)
    assert channel is not None, f"{type_}: no channel for its topic {spec.topic}"
    messages = messages_by_name(doc, channel)
    assert type_ in messages, (f"event type {type_} is in the catalogue but not a message of channel {spec.topic} "
                               f"in {DOC_PATH.name}")
    message = messages[type_]
    assert payload_schema(message) == contracts.load_schema(spec.schema), (
        f"{type_}: the payload is not the catalogue's schema {spec.schema}")
    headers = deref(doc, message.get("headers") or {})
    assert header_consts(headers, "ce_type") == {type_}, f"{type_}: headers must pin ce_type to {type_}"
    assert header_consts(headers, "ce_source") <= {spec.source}
    assert header_consts(headers, "ce_dataschema") <= {spec.dataschema}


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_the_messages_of_a_topic_are_catalogued_types_of_that_topic(doc, topic):
    channel = channels_by_address(doc).get(topic)
    assert channel is not None
    for name in messages_by_name(doc, channel):
        assert name in EVENT_TYPES, f"{topic}: message {name} is not an event type of the catalogue"
        assert EVENT_TYPES[name].topic == topic, f"{name} travels on {EVENT_TYPES[name].topic}, not {topic}"


def test_the_examples_are_valid_events(doc):
    checked = 0
    for topic in TOPICS:
        for name, message in messages_by_name(doc, channels_by_address(doc)[topic]).items():
            headers_schema = deref(doc, message.get("headers") or {})
            validator = Draft202012Validator(headers_schema, format_checker=FormatChecker())
            for example in message.get("examples") or []:
                contracts.validate(name, example["payload"])
                errors = [e.message for e in validator.iter_errors(example.get("headers") or {})]
                assert not errors, f"{name} example {example.get('name')}: headers {errors}"
                assert example["headers"]["ce_type"] == name
                if "id" in example["payload"]:
                    assert example["headers"]["ce_subject"] == example["payload"]["id"]
                checked += 1
    assert checked, "the document has no example to check"


def test_operations_point_at_channels_and_their_messages(doc):
    channels = doc.get("channels") or {}
    for op_id, op in (doc.get("operations") or {}).items():
        op = resolve(doc, op)
        assert op.get("action") in ("send", "receive"), f"operation {op_id}: action"
        channel_ref = op["channel"]["$ref"]
        assert channel_ref.startswith("#/channels/") and channel_ref.split("/")[2] in channels, (
            f"operation {op_id}: {channel_ref}")
        for m in op.get("messages") or []:
            assert m["$ref"].startswith(channel_ref + "/messages/"), (
                f"operation {op_id}: message {m['$ref']} is not one of its channel's messages")
            pointer(doc, m["$ref"])
