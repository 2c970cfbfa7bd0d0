"""Unit tests of the gateway's sliding-window rate limits (gateway/ratelimit.py),
with an injected clock."""

from __future__ import annotations

import pytest

from gateway.ratelimit import RateLimited, RateLimits, SlidingWindow, client_address, limit_key
from refdesk.settings import Settings


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def over_limit(window: SlidingWindow, key: str) -> int:
    with pytest.raises(RateLimited) as info:
        window.take(key)
    return info.value.retry_after


def test_allows_the_limit_then_refuses_with_the_time_until_the_oldest_attempt_expires(clock):
    window = SlidingWindow(3, 60, clock=clock)
    for _ in range(3):
        window.take("192.0.2.1")
        clock.now += 10
    assert over_limit(window, "192.0.2.1") == 30  # the first attempt (t=1000) leaves at t=1060; now 1030
    clock.now += 29.5
    assert over_limit(window, "192.0.2.1") == 1  # rounded up, never 0
    clock.now += 0.5
    window.take("192.0.2.1")  # the first attempt has left the window
    assert over_limit(window, "192.0.2.1") == 10


def test_refused_attempts_do_not_count(clock):
    window = SlidingWindow(1, 60, clock=clock)
    window.take("a")
    for _ in range(5):
        clock.now += 10
        over_limit(window, "a")
    clock.now += 10  # 60 s after the one counted attempt
    window.take("a")


def test_keys_are_counted_separately(clock):
    window = SlidingWindow(1, 60, clock=clock)
    window.take("192.0.2.1")
    window.take("192.0.2.2")
    over_limit(window, "192.0.2.1")


def test_a_forgiven_attempt_no_longer_counts(clock):
    window = SlidingWindow(2, 300, clock=clock)
    first = window.take("ip")
    clock.now += 1
    second = window.take("ip")
    over_limit(window, "ip")
    window.forgive("ip", second)
    window.take("ip")  # counted instead of the forgiven one
    over_limit(window, "ip")
    window.forgive("ip", first)
    window.forgive("ip", first)  # twice, or after expiry: nothing more happens
    window.take("ip")
    over_limit(window, "ip")


def test_idle_keys_are_forgotten(clock):
    window = SlidingWindow(5, 60, clock=clock)
    for n in range(100):
        window.take(f"198.51.100.{n}")
    assert window.keys() == 100
    clock.now += 61
    window.take("203.0.113.9")
    assert window.keys() == 1


def test_a_window_needs_a_positive_limit_and_length():
    with pytest.raises(ValueError):
        SlidingWindow(0, 60)
    with pytest.raises(ValueError):
        SlidingWindow(1, 0)


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("192.0.2.1", None, "192.0.2.1"),
        ("192.0.2.1", "203.0.113.5", "192.0.2.1"),  # not from a trusted proxy: the header is ignored
        ("10.0.0.2", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # the left part is the client's own claim
        ("10.0.0.2", "203.0.113.5, 10.0.0.3", "203.0.113.5"),  # skip trusted hops from the right
        ("10.0.0.2", "10.0.0.3", "10.0.0.3"),
        ("10.0.0.2", None, "10.0.0.2"),
        (None, "203.0.113.5", "unknown"),
    ],
)
def test_client_address_believes_forwarded_for_only_from_trusted_proxies(peer, forwarded_for, expected):
    assert client_address(peer, forwarded_for, {"10.0.0.2", "10.0.0.3"}) == expected


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("testclient", "testclient"),
    ],
)
def test_limit_key_groups_ipv6_by_64_network(address, key):
    assert limit_key(address) == key


def test_limits_come_from_the_settings(clock):
    settings = Settings(patron_chat_limit=2, patron_chat_window_seconds=5, login_failure_limit=1,
                        login_failure_window_seconds=7, trusted_proxies=" 10.0.0.2 ,, 10.0.0.3")
    limits = RateLimits.from_settings(settings, clock=clock)
    assert (limits.patron_chats.limit, limits.patron_chats.window) == (2, 5)
    assert (limits.failed_logins.limit, limits.failed_logins.window) == (1, 7)
    assert limits.key("10.0.0.3", "2001:db8::1") == "2001:db8::/64"
    assert limits.key("192.0.2.1", "2001:db8::1") == "192.0.2.1"
