"""Sliding-window rate limits for the gateway's HTTP API, keyed by client address.

Pure and in memory (one gateway process counts its own requests; with several
gateways behind a load balancer each one allows the limit): no I/O, and the clock is
injected so tests need no sleeping.

* :class:`SlidingWindow` — at most ``limit`` attempts per key in any
  ``window_seconds``; an attempt can be forgiven afterwards (a successful sign-in
  does not count as a failed one);
* :func:`client_address` — who is asking, also behind trusted reverse proxies;
* :func:`limit_key` — the key for an address: IPv4 as is, IPv6 by its /64 network
  (one household or library gets a whole /64, so single addresses are free to rotate);
* :class:`RateLimits` — the gateway's two limits, built from the settings.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from refdesk.settings import Settings

Clock = Callable[[], float]
"""Seconds on a monotonic scale (:func:`time.monotonic`)."""


class RateLimited(Exception):
    """Too many attempts from one key.

    Attributes:
        retry_after: whole seconds (at least 1) until the oldest counted attempt
            leaves the window, i.e. until one more attempt would be allowed.
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


class SlidingWindow:
    """At most ``limit`` attempts per key within any ``window_seconds``.

    Usage::

        failures = SlidingWindow(10, 300)
        stamp = failures.take("192.0.2.7")      # raises RateLimited when over
        ...
        failures.forgive("192.0.2.7", stamp)    # this attempt should not count after all

    Attempts are counted when they start (so a burst of concurrent requests cannot
    all slip in before the first one is counted). Keys whose attempts have all left
    the window are dropped at most once per window, so memory follows the number of
    recently active keys.

    Args:
        limit: attempts allowed per window, at least 1.
        window_seconds: length of the window, more than 0.
        clock: monotonic seconds (tests pass a fake).
    """

    def __init__(self, limit: int, window_seconds: float, *, clock: Clock = time.monotonic) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window_seconds > 0")
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._swept_at = clock()

    def take(self, key: str) -> float:
        """Count one attempt for ``key`` now and return its time stamp (for
        :meth:`forgive`).

        Raises:
            RateLimited: ``limit`` attempts of ``key`` are already in the window (this
                one is not counted).
        """
        now = self._clock()
        self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        self._expire(hits, now)
        if len(hits) >= self.limit:
            raise RateLimited(max(1, math.ceil(hits[0] + self.window - now)))
        hits.append(now)
        return now

    def forgive(self, key: str, stamp: float) -> None:
        """Stop counting the attempt :meth:`take` stamped ``stamp`` (no-op when it
        already left the window)."""
        hits = self._hits.get(key)
        if hits is not None:
            try:
                hits.remove(stamp)
            except ValueError:
                pass
            if not hits:
                del self._hits[key]

    def keys(self) -> int:
        """How many keys are remembered (for tests and metrics)."""
        return len(self._hits)

    def _expire(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window:
            hits.popleft()

    def _sweep(self, now: float) -> None:
        """Once per window: forget keys with no attempt left in it."""
        if now - self._swept_at < self.window:
            return
        self._swept_at = now
        for key in list(self._hits):
            hits = self._hits[key]
            self._expire(hits, now)
            if not hits:
                del self._hits[key]


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The address of the client behind a request.

    Args:
        peer: the connecting address (``request.client.host``), ``None`` if unknown.
        forwarded_for: the ``X-Forwarded-For`` header (``"client, proxy1, proxy2"``).
        trusted_proxies: addresses of the reverse proxies in front of the gateway.

    Returns:
        ``peer`` unless it is a trusted proxy; then the right-most address of
        ``forwarded_for`` that is not a trusted proxy (the left part of the header is
        written by the client and cannot be believed). ``"unknown"`` without a peer.
    """
    trusted = set(trusted_proxies)
    if peer is None:
        return "unknown"
    if peer not in trusted or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else peer


def limit_key(address: str) -> str:
    """The rate-limit key of an address: an IPv4 address as is, an IPv6 address as
    its /64 network (``"2001:db8:1:2::/64"``), anything unparsable as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class RateLimits:
    """The gateway's limits (see :class:`~refdesk.settings.Settings`).

    Attributes:
        patron_chats: ``POST /api/patron/chats`` per client (every attempt counts).
        failed_logins: failed ``POST /api/auth/login`` per client.
        trusted_proxies: reverse proxies whose ``X-Forwarded-For`` is believed.
    """

    patron_chats: SlidingWindow
    failed_logins: SlidingWindow
    trusted_proxies: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = time.monotonic) -> RateLimits:
        """The limits the settings ask for (``patron_chat_*``, ``login_failure_*``,
        ``trusted_proxies``)."""
        proxies = frozenset(p.strip() for p in settings.trusted_proxies.split(",") if p.strip())
        return cls(
            patron_chats=SlidingWindow(settings.patron_chat_limit, settings.patron_chat_window_seconds, clock=clock),
            failed_logins=SlidingWindow(settings.login_failure_limit, settings.login_failure_window_seconds,
                                        clock=clock),
            trusted_proxies=proxies,
        )

    def key(self, peer: str | None, forwarded_for: str | None) -> str:
        """The rate-limit key of a request (:func:`client_address`, :func:`limit_key`)."""
        return limit_key(client_address(peer, forwarded_for, self.trusted_proxies))
