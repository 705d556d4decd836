"""The CloudEvents 1.0 envelope and its Kafka binary-mode encoding."""

import json
import uuid
from datetime import UTC, datetime

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from . import contracts
from .catalogue import event_type

_FORMAT = JSONFormat()


class MalformedEvent(ValueError):
    """A Kafka message that is not a valid CloudEvent of this project."""


def _attributes(type_: str, subject: str, data: dict, sequence: int, actor_id: str | None,
                actor_name: str | None) -> dict:
    spec = event_type(type_)
    contracts.validate(type_, data)
    attributes = {
        "id": str(uuid.uuid4()),
        "source": spec.source,
        "type": type_,
        "subject": str(subject),
        "time": datetime.now(UTC),
        "datacontenttype": "application/json",
        "dataschema": spec.dataschema,
        "sequence": str(int(sequence)),
    }
    if actor_id:
        attributes["actor"] = str(actor_id)
    if actor_name:
        attributes["actorname"] = actor_name
    return attributes


def new_event(type_: str, subject: str, data: dict, sequence: int, actor_id: str | None = None,
              actor_name: str | None = None) -> CloudEvent:
    """Build a validated event of a catalogued type; `sequence` is the aggregate's version, and the acting
    user (if any) travels in the `actor` (id) and `actorname` extensions."""
    return CloudEvent(_attributes(type_, subject, data, sequence, actor_id, actor_name), data)


def new_record(type_: str, subject: str, data: dict, sequence: int, actor_id: str | None = None,
               actor_name: str | None = None) -> dict:
    """to_record(new_event(...)) without building the CloudEvent (bulk writers make thousands): the same
    validation, the same attributes in the same order."""
    attributes = _attributes(type_, subject, data, sequence, actor_id, actor_name)
    attributes["time"] = attributes["time"].isoformat()
    attributes["specversion"] = "1.0"
    return {"attributes": attributes, "data": data}


def sequence_of(event: CloudEvent) -> int:
    return int(event.get_extension("sequence"))


def to_record(event: CloudEvent) -> dict:
    """The structured JSON form stored in the outbox: every attribute plus data."""
    attrs = dict(event.get_attributes())
    attrs["time"] = attrs["time"].isoformat()
    return {"attributes": attrs, "data": event.get_data()}


def from_record(record: dict) -> CloudEvent:
    attrs = dict(record["attributes"])
    attrs["time"] = datetime.fromisoformat(attrs["time"])
    return CloudEvent(attrs, record["data"])


def to_kafka(event: CloudEvent) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    """(topic, key, value, headers) in binary content mode; key = aggregate id."""
    msg = ce_kafka.to_binary(event, _FORMAT, key_mapper=lambda e: e.get_subject())
    key = msg.key.encode() if isinstance(msg.key, str) else msg.key
    return event_type(event.get_type()).topic, key, msg.value, list(msg.headers.items())


def record_to_kafka(record: dict) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    """to_kafka(from_record(record)) without building the CloudEvent: the relay's path for every outbox row.
    Byte for byte what the SDK writes (a test compares them): ce_ headers in attribute order, the time in UTC
    with a Z, content-type from datacontenttype, the data as JSON."""
    attrs = record["attributes"]
    headers = []
    for name, value in attrs.items():
        if value is None:
            continue
        if name == "datacontenttype":
            headers.append(("content-type", value.encode()))
            continue
        if name == "time" and value.endswith("+00:00"):
            value = value[:-6] + "Z"
        headers.append((f"ce_{name}", str(value).encode()))
    return event_type(attrs["type"]).topic, attrs["subject"].encode(), json.dumps(record["data"]).encode(), headers


def from_kafka(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> CloudEvent:
    """Parse a binary-mode message; raise MalformedEvent for anything that is not a valid event."""
    hdrs = {k: v for k, v in (headers or []) if k.startswith("ce_") or k == "content-type"}
    for required in ("ce_id", "ce_type", "ce_source", "ce_specversion", "ce_sequence", "ce_subject"):
        if required not in hdrs:
            raise MalformedEvent(f"missing header {required}")
    try:
        event = ce_kafka.from_binary(ce_kafka.KafkaMessage(headers=hdrs, key=None, value=value or b""), _FORMAT)
        data = event.get_data()
        if not isinstance(data, dict):
            raise MalformedEvent("data is not a JSON object")
        int(event.get_extension("sequence"))
        uuid.UUID(event.get_id())
    except MalformedEvent:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the SDK or the JSON parser objects to
        raise MalformedEvent(f"{type(exc).__name__}: {exc}") from exc
    return event
