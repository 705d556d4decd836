"""The compiled validator on the hot path never lets through what the reference implementation refuses: for party
states with random fields replaced by random JSON values (wrong types, bad formats, unknown keys), whatever
jsonschema-rs accepts, jsonschema accepts too. (It is stricter on formats, e.g. an empty date-time: such data then
goes to jsonschema, whose verdict stands, so the contract is applied as before.)"""

from hypothesis import given, settings
from hypothesis import strategies as st
from shared_events import contracts
from shared_events.catalogue import event_type
from shared_events.testing import party_state

SCHEMA = event_type("crm.party.updated").schema
KEYS = sorted(party_state())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20)
    | st.sampled_from(["2026-12-05T10:00:00+00:00", "2026-13-45T99:00:00Z", "not-a-date", "ada@example.com",
                       "@@", "FR", "france", "6f1c2a9e-8a8b-4c1e-9d2e-3b4a5c6d7e8f", "customer", "company"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6)


def verdicts(data: dict) -> tuple[bool, bool]:
    return contracts._compiled(SCHEMA).is_valid(data), contracts._validator(SCHEMA).is_valid(data)


def test_a_valid_state_is_valid_for_both():
    assert verdicts(party_state()) == (True, True)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from([*KEYS, "unknown_field"]), json_values, min_size=1, max_size=3))
def test_what_the_compiled_validator_accepts_the_reference_accepts(changes):
    data = {**party_state(), **changes}
    compiled, reference = verdicts(data)
    assert reference or not compiled
    if not reference:  # and a refusal always names the fields, from the reference's messages
        try:
            contracts.validate("crm.party.updated", data)
        except contracts.ContractViolation as refused:
            assert refused.errors
        else:
            raise AssertionError("refused data passed validate()")
