"""Version-guarded replica upserts: whatever order events arrive in, the newest state wins."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared_events.replica import upsert_if_newer
from sqlalchemy import BigInteger, Column, MetaData, String, Table, select

pytestmark = pytest.mark.db


@pytest.fixture
def replica(scratch):
    engine, sessions, _ = scratch
    md = MetaData()
    table = Table("things", md, Column("id", String(10), primary_key=True), Column("sequence", BigInteger),
                  Column("name", String(50)))
    md.create_all(engine)
    return sessions, table


def state(sessions, table, key="a"):
    with sessions() as s:
        return s.execute(select(table.c.sequence, table.c.name).where(table.c.id == key)).one_or_none()


def test_newer_applies_older_and_equal_are_ignored(replica):
    sessions, table = replica
    with sessions.begin() as s:
        assert upsert_if_newer(s, table, {"id": "a"}, 2, {"name": "v2"})
        assert not upsert_if_newer(s, table, {"id": "a"}, 1, {"name": "v1 late"})
        assert not upsert_if_newer(s, table, {"id": "a"}, 2, {"name": "v2 again"})
        assert upsert_if_newer(s, table, {"id": "a"}, 5, {"name": "v5"})
    assert state(sessions, table) == (5, "v5")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(list(range(1, 8))))
def test_any_arrival_order_ends_in_the_newest_state(replica, order):
    sessions, table = replica
    key = "p" + "".join(map(str, order))
    with sessions.begin() as s:
        for seq in order:
            upsert_if_newer(s, table, {"id": key}, seq, {"name": f"v{seq}"})
    assert state(sessions, table, key) == (7, "v7")
