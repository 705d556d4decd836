"""The price rule the ERP and the CRM share: customer > group > general > base, quantity breaks, validity dates."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from shared_events.pricing import Candidate, resolve_price

TODAY = date(2026, 6, 15)
ACME, GLOBEX = "party-acme", "party-globex"


def item(price, min_quantity="1", party_id=None, customer_group=None, valid_from=None, valid_to=None, list_id="L"):
    return Candidate(Decimal(price), Decimal(min_quantity), party_id, customer_group, valid_from, valid_to, list_id)


def resolve(candidates, quantity="1", on=TODAY, party_id=ACME, customer_group="resellers", base="100"):
    return resolve_price(Decimal(base), candidates, Decimal(quantity), on, party_id, customer_group)


def test_without_any_list_the_base_price_applies():
    r = resolve([])
    assert (r.unit_price, r.source, r.price_list_id) == (Decimal("100"), "base", None)


def test_a_customer_list_beats_a_group_list_which_beats_a_general_list():
    general = item("90", list_id="general")
    group = item("95", customer_group="resellers", list_id="group")
    own = item("97", party_id=ACME, list_id="own")
    assert resolve([general, group, own]).price_list_id == "own"  # even though it is dearer
    assert resolve([general, group]).source == "group"
    assert resolve([general]).source == "general"
    assert resolve([general, group, own], party_id=GLOBEX).source == "group"
    assert resolve([general, group, own], party_id=GLOBEX, customer_group=None).source == "general"
    assert resolve([group, own], party_id=None, customer_group=None).source == "base"


def test_a_group_list_does_not_apply_to_another_group():
    assert resolve([item("80", customer_group="wholesale")]).source == "base"


def test_the_highest_quantity_break_not_above_the_quantity_applies():
    breaks = [item("10", "1"), item("9", "10"), item("8", "100")]
    assert resolve(breaks, quantity="9.99").unit_price == Decimal("10")
    assert resolve(breaks, quantity="10").unit_price == Decimal("9")
    assert resolve(breaks, quantity="250").unit_price == Decimal("8")
    assert resolve([item("9", "10")], quantity="5").source == "base"


def test_a_higher_break_wins_even_when_a_lower_break_is_cheaper():
    assert resolve([item("5", "1"), item("9", "10")], quantity="12").unit_price == Decimal("9")


def test_among_equal_breaks_the_lower_price_wins():
    r = resolve([item("12", "5", list_id="a"), item("11", "5", list_id="b"), item("13", "5", list_id="c")],
                quantity="5")
    assert (r.unit_price, r.price_list_id) == (Decimal("11"), "b")


def test_a_list_applies_only_within_its_validity_dates_inclusive():
    summer = item("70", valid_from=date(2026, 6, 1), valid_to=date(2026, 8, 31))
    assert resolve([summer], on=date(2026, 6, 1)).unit_price == Decimal("70")
    assert resolve([summer], on=date(2026, 8, 31)).unit_price == Decimal("70")
    assert resolve([summer], on=date(2026, 5, 31)).source == "base"
    assert resolve([summer], on=date(2026, 9, 1)).source == "base"
    assert resolve([item("60", valid_from=TODAY)]).unit_price == Decimal("60")
    assert resolve([item("60", valid_to=TODAY - timedelta(days=1))]).source == "base"


def test_an_expired_customer_list_falls_back_to_the_general_list():
    expired_own = item("50", party_id=ACME, valid_to=date(2026, 1, 1), list_id="own")
    assert resolve([expired_own, item("90", list_id="general")]).price_list_id == "general"


def test_a_customer_list_whose_breaks_are_all_too_high_falls_back_to_the_next_level():
    assert resolve([item("50", "100", party_id=ACME), item("90")], quantity="3").unit_price == Decimal("90")


# -- properties ------------------------------------------------------------------------------------------

PARTIES = st.sampled_from([ACME, GLOBEX, None])
GROUPS = st.sampled_from(["resellers", "wholesale", None])
DAYS = st.one_of(st.none(), st.integers(-30, 30).map(lambda d: TODAY + timedelta(days=d)))
AMOUNTS = st.decimals(min_value=0, max_value=10000, places=2, allow_nan=False, allow_infinity=False)
QUANTITIES = st.decimals(min_value=0, max_value=500, places=1, allow_nan=False, allow_infinity=False)


@st.composite
def candidates(draw):
    party = draw(PARTIES)
    return Candidate(draw(AMOUNTS), draw(QUANTITIES), party, None if party else draw(GROUPS), draw(DAYS), draw(DAYS),
                     f"list-{draw(st.integers(0, 5))}")


def _applies(c: Candidate, quantity: Decimal, on: date) -> bool:
    return ((c.valid_from is None or c.valid_from <= on) and (c.valid_to is None or on <= c.valid_to)
            and c.min_quantity <= quantity)


@given(st.lists(candidates(), max_size=12), AMOUNTS, QUANTITIES.filter(lambda q: q > 0), PARTIES, GROUPS,
       st.integers(-40, 40))
def test_the_price_is_a_list_price_that_applies_or_else_the_base_price(cands, base, quantity, party, group, day):
    on = TODAY + timedelta(days=day)
    r = resolve_price(base, cands, quantity, on, party, group)
    if r.source == "base":
        assert r.unit_price == base and r.price_list_id is None
    else:
        assert any(c.price == r.unit_price and c.price_list_id == r.price_list_id and _applies(c, quantity, on)
                   for c in cands)
    own = [c for c in cands if party is not None and c.party_id == party and _applies(c, quantity, on)]
    if own:  # a customer's own list always wins when it applies, and then at its best break
        best = max(c.min_quantity for c in own)
        assert r.source == "customer"
        assert r.unit_price == min(c.price for c in own if c.min_quantity == best)
    if not any(_applies(c, quantity, on) for c in cands):
        assert r.source == "base"


@given(st.lists(candidates(), max_size=12), AMOUNTS, QUANTITIES.filter(lambda q: q > 0), PARTIES, GROUPS)
def test_the_order_of_the_lists_does_not_change_the_price(cands, base, quantity, party, group):
    forward = resolve_price(base, cands, quantity, TODAY, party, group)
    backward = resolve_price(base, list(reversed(cands)), quantity, TODAY, party, group)
    assert (forward.unit_price, forward.source) == (backward.unit_price, backward.source)
