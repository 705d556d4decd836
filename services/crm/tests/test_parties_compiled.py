"""POST /parties loads and answers through precompiled functions (parties/schemas.py `precompiled`): on generated
bodies and records they give exactly what the marshmallow schemas give, errors included."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

from crm.parties.models import KINDS, ROLES, Party
from crm.parties.schemas import CREATE, PARTY, PartyCreateSchema, PartySchema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields
from servicekit.compiled_dump import compile_dump

short = st.text(min_size=1, max_size=12)
names = st.one_of(short, short, st.just(""), st.none(), st.text(min_size=140, max_size=310), st.integers())
email = st.one_of(st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|fr|test)", fullmatch=True), short)
phone = st.one_of(st.from_regex(r"\+?[0-9 ().\-/]{3,40}", fullmatch=True), short)


def channels(value):
    item = st.fixed_dictionaries({"value": value}, optional={
        "label": st.one_of(st.none(), short, st.text(min_size=51, max_size=60)), "primary": st.booleans(),
        "extra": short})
    return st.lists(st.one_of(item, item, value, st.integers()), max_size=3)


address = st.one_of(st.none(), st.just("Paris"), st.dictionaries(
    st.sampled_from(["line1", "line2", "city", "postal_code", "region", "country", "street"]),
    st.one_of(short, st.none(), st.just("FR"), st.just("fr"), st.text(min_size=95, max_size=210)), max_size=4))
body_values = {
    "kind": st.one_of(st.sampled_from([*KINDS, "robot"]), st.none()),
    "legal_name": names, "first_name": names, "last_name": names, "job_title": names, "tax_id": names,
    "roles": st.one_of(st.lists(st.sampled_from([*ROLES, "emperor"]), max_size=5), st.just("customer")),
    "emails": channels(email), "phones": channels(phone),
    "website": st.one_of(st.just("https://acme.example.com/x"), st.just("acme"), st.none(), short),
    "billing_address": address, "shipping_address": address,
    "company_id": st.one_of(st.uuids().map(str), short, st.none()),
    "owner_id": st.one_of(st.uuids().map(str), st.none()), "unknown_field": short,
}
company = st.fixed_dictionaries({"kind": st.just("company"), "legal_name": short},
                                optional={k: v for k, v in body_values.items() if k not in ("kind", "legal_name")})
bodies = st.one_of(company, company, st.fixed_dictionaries({}, optional=body_values), st.lists(short), st.none())

SCHEMA_IN, SCHEMA_OUT = PartyCreateSchema(), PartySchema()


def outcome(load, data):
    try:
        return "ok", load(data)
    except ValidationError as err:
        return "error", err.messages


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_a_create_body_loads_as_the_schema_loads_it_and_is_refused_where_it_refuses(body):
    fast, expected = outcome(CREATE.load, body), outcome(SCHEMA_IN.load, body)
    assert fast == expected
    if fast[0] == "ok":
        assert list(fast[1]) == list(expected[1])


stamp = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]))
view_values = {
    "id": st.one_of(st.uuids().map(str), st.uuids()), "kind": st.sampled_from(KINDS), "display_name": short,
    "legal_name": names, "first_name": names, "last_name": names, "job_title": names, "tax_id": names,
    "company_id": st.one_of(st.none(), st.uuids().map(str)), "owner_id": st.one_of(st.none(), st.uuids()),
    "roles": st.lists(st.sampled_from(ROLES), max_size=4),
    "emails": st.lists(st.fixed_dictionaries({"value": email}, optional={"label": st.one_of(st.none(), short),
                                                                         "primary": st.booleans(),
                                                                         "extra": short}), max_size=3),
    "phones": st.lists(st.fixed_dictionaries({"value": phone, "primary": st.booleans()}), max_size=2),
    "website": st.one_of(st.none(), short), "billing_address": address.filter(lambda a: not isinstance(a, str)),
    "shipping_address": st.none(), "status": st.sampled_from(["active", "archived", "merged"]),
    "version": st.integers(1, 10**6), "created_at": stamp, "updated_at": stamp,
    "archived_at": st.one_of(st.none(), stamp), "merged_into_id": st.one_of(st.none(), st.uuids().map(str)),
    "import_batch_id": st.none(),
}
views = st.fixed_dictionaries({k: view_values[k] for k in ("id", "kind", "version")},
                              optional={k: v for k, v in view_values.items() if k not in ("id", "kind", "version")})


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(views)
def test_a_party_is_answered_as_the_schema_dumps_it(view):
    fast, expected = PARTY.dump(view), SCHEMA_OUT.dump(view)
    assert fast == expected and list(fast) == list(expected)
    for name in ("emails", "phones"):
        assert [list(c) for c in fast.get(name) or []] == [list(c) for c in expected.get(name) or []]


def test_a_party_row_object_is_answered_as_the_schema_dumps_it():
    now = datetime.now(UTC)
    party = Party(id=str(uuid.uuid4()), kind="person", display_name="Ann Lee", first_name="Ann", last_name="Lee",
                  roles=["customer"], emails=[{"value": "ann@x.test", "primary": True}], phones=[], version=3,
                  status="active", created_at=now, updated_at=now, billing_address={"city": "Lyon", "x": 1})
    assert PARTY.dump(party) == SCHEMA_OUT.dump(party)
    assert PARTY.dump(party)["billing_address"] == {"city": "Lyon"}  # undeclared keys never leak out


def test_a_schema_with_what_the_compiler_does_not_reproduce_keeps_its_own_dump():
    class Priced(Schema):
        amount = fields.Decimal(as_string=True)
        note = fields.Method("shout")

        def shout(self, obj):
            return obj["name"].upper()

    schema = Priced()
    assert compile_dump(schema) == schema.dump
    assert compile_dump(schema)({"amount": "1.50", "name": "x"}) == {"amount": "1.50", "note": "X"}
