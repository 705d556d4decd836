"""The compiled validator on the hot path says what the reference implementation says: for valid party states and
for states with random fields replaced by random JSON values (wrong types, bad formats, unknown keys), jsonschema-rs
and jsonschema agree on valid or not, so the fast path never lets through what the contract refuses."""

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
def test_both_validators_agree_on_changed_states(changes):
    compiled, reference = verdicts({**party_state(), **changes})
    assert compiled == reference
