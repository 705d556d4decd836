"""The per-process principal cache: a token's principal is reused for PRINCIPAL_TTL seconds at most, never past the
token's own expiry, and forgotten at once when the process changes users, roles or tokens."""

from datetime import UTC, datetime, timedelta

from servicekit.auth.api import PRINCIPAL_TTL, PrincipalCache
from servicekit.auth.principal import Principal

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def principal(expires_at=None) -> Principal:
    return Principal("u1", "ada@example.com", "Ada", "t1", frozenset({"sales_rep"}), frozenset({"parties:read"}),
                     expires_at)


def test_a_principal_is_reused_for_the_ttl_and_then_looked_up_again():
    clock = Clock()
    cache = PrincipalCache(clock=clock, now=lambda: NOW)
    cache.put("k", principal())
    clock.t += PRINCIPAL_TTL - 0.01
    assert cache.get("k") == principal()
    clock.t += 0.02
    assert cache.get("k") is None  # a change made by another process counts from here on


def test_an_expired_token_is_not_served_from_the_cache():
    cache = PrincipalCache(clock=Clock(), now=lambda: NOW)
    cache.put("soon", principal(expires_at=NOW + timedelta(seconds=1)))
    cache.put("gone", principal(expires_at=NOW))
    assert cache.get("soon") is not None and cache.get("gone") is None


def test_clear_forgets_everything_and_the_size_is_bounded():
    cache = PrincipalCache(clock=Clock(), now=lambda: NOW, max_size=3)
    for key in "abc":
        cache.put(key, principal())
    cache.put("d", principal())  # full: starts again rather than growing
    assert [cache.get(k) is not None for k in "abcd"] == [False, False, False, True]
    cache.clear()
    assert cache.get("d") is None
