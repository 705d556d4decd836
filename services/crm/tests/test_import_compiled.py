"""The import's compiled row loader (imports/compiled.py) against the schema it is derived from: on generated rows
it never accepts what POST /parties refuses, and gives exactly what the schema gives."""

from crm.imports.compiled import compile_schema
from crm.imports.fields import _PARTY_FAST, party_data, party_payload, row_fields
from crm.parties.models import KINDS, ROLES
from crm.parties.schemas import PartyCreateSchema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

SCHEMA = PartyCreateSchema()

short = st.text(min_size=1, max_size=12)
good_email = st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|fr|test)", fullmatch=True)
good_phone = st.from_regex(r"\+?[0-9 ().\-/]{3,40}", fullmatch=True)


def mostly(good, *bad):
    """Usually a value the schema takes, sometimes one it may refuse."""
    return st.integers(0, 9).flatmap(lambda i: st.one_of(*bad) if i == 0 else good)


def channels(value):
    item = st.fixed_dictionaries({"value": value}, optional={"label": mostly(st.one_of(st.none(), short),
                                                                               st.text(min_size=51, max_size=60)),
                                                             "primary": st.booleans()})
    return mostly(st.lists(item, max_size=3), st.lists(st.one_of(item, value, st.just({"value": "x", "z": 1})),
                                                        max_size=3), st.lists(item, min_size=21, max_size=21))


address = mostly(st.dictionaries(
    st.sampled_from(["line1", "line2", "city", "postal_code", "region", "country"]),
    mostly(short, st.text(min_size=95, max_size=210), st.none()), max_size=3).map(
        lambda a: {**a, "country": "FR"} if "country" in a else a),
    st.just({"country": "fr"}), st.just({"street": "x"}), st.none(), st.just("Paris"))
names = mostly(short, st.just(""), st.none(), st.text(min_size=140, max_size=310), st.integers())
values = {
    "legal_name": names, "first_name": names, "last_name": names, "job_title": names, "tax_id": names,
    "roles": mostly(st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
                    st.lists(st.sampled_from([*ROLES, "emperor"]), min_size=1, max_size=5), st.just("customer")),
    "emails": channels(mostly(good_email, short, st.just("not-an-email"))),
    "phones": channels(mostly(good_phone, short)),
    "website": mostly(st.just("https://acme.example.com/x"), st.just("acme"), st.just("http://"), names),
    "billing_address": address, "shipping_address": address,
}
rare = {"company_id": st.one_of(st.uuids().map(str), short), "unknown_field": short}
person = st.fixed_dictionaries({"kind": st.just("person"), "last_name": names},
                               optional={k: v for k, v in values.items() if k not in ("legal_name", "last_name")})
company = st.fixed_dictionaries({"kind": st.just("company"), "legal_name": names},
                                optional={k: v for k, v in values.items() if k not in ("legal_name", "first_name",
                                                                                        "last_name", "job_title")})
rows = st.one_of(person, company, person, company,
    st.fixed_dictionaries({}, optional={**values, **rare, "kind": st.one_of(st.sampled_from([*KINDS, "robot"]),
                                                                             st.none())}))


def schema_load(data):
    try:
        return SCHEMA.load(data)
    except ValidationError:
        return None


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_the_compiled_loader_accepts_only_what_the_schema_accepts_and_gives_the_same(data):
    fast = _PARTY_FAST(data)
    if fast is not None:
        expected = schema_load(data)
        assert expected is not None, f"the compiled loader accepted what the schema refuses: {data!r}"
        assert fast == expected and list(fast) == list(expected)
        for name in ("emails", "phones"):
            assert [list(c) for c in fast.get(name) or []] == [list(c) for c in expected.get(name) or []]


def test_the_rows_an_import_usually_gives_take_the_compiled_path():
    """Not a vacuous yes/no: typical rows, valid, are loaded without the schema and as the schema would."""
    mapping = {c: c for c in ("kind", "first_name", "last_name", "legal_name", "email", "phone", "job_title",
                              "roles", "tax_id", "website", "billing_city", "billing_country", "shipping_line1")}
    samples = [
        {"kind": "person", "first_name": "Ann", "last_name": "Lee", "email": "ann@x.test; a.lee@x.test",
         "phone": "+33 1 23 45 67 89", "job_title": "Buyer", "billing_city": "Lyon", "billing_country": "fr"},
        {"kind": "company", "legal_name": "Acme SA", "roles": "customer, supplier", "tax_id": "FR 123",
         "website": "https://acme.example.com", "shipping_line1": "1 rue X"},
    ]
    for number, values in enumerate(samples, start=2):
        f, columns = row_fields(values, mapping)
        data, _, _ = party_data(f, columns, number, None)
        fast = _PARTY_FAST(data)
        assert fast is not None and fast == SCHEMA.load(data)
        assert party_payload(f, columns, number, None)[0] == fast


def test_a_schema_the_compiler_does_not_know_is_always_left_to_marshmallow():
    from marshmallow import EXCLUDE, Schema, fields

    class Loose(Schema):
        class Meta:
            unknown = EXCLUDE
        name = fields.String()

    class Counted(Schema):
        n = fields.Integer()

    assert compile_schema(Loose())({"name": "x"}) is None
    assert compile_schema(Counted())({"n": 1}) is None
    assert compile_schema(Counted())({}) == {}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({"kind": st.sampled_from(KINDS)}, optional={
    "emails": st.lists(st.fixed_dictionaries({"value": st.one_of(st.text(max_size=15), good_email)})),
    "phones": st.lists(st.fixed_dictionaries({"value": st.one_of(st.text(max_size=15), good_phone)})),
    "tax_id": st.one_of(st.none(), st.text(max_size=12), st.just(" fr 12-345 678 ")),
    "legal_name": st.text(max_size=10)}))
def test_an_import_rows_match_keys_are_the_duplicate_rules_keys(data):
    from types import SimpleNamespace

    from crm.imports.party_rows import EMPTY, MATCH_REASONS, _keys
    from crm.merge.duplicates import exact_keys
    assert _keys(data) == {k for k in exact_keys(SimpleNamespace(**{**EMPTY, **data})) if k[0] in MATCH_REASONS}
