"""Operator presence in the queue service: gateways' heartbeats in, Offline out.

Gateways publish :class:`~refdesk.contracts.queue.PresenceHeartbeat` on
``rd.rt.presence`` (core NATS); :func:`listen` records each one (queue group ``queue``,
so one instance handles each beat). :func:`sweep` periodically sets Offline the Online
operators that no gateway has listed for ``presence_timeout_seconds`` — the operator
closed the tab, lost the network or their gateway died — so the widget stops telling
patrons that someone is there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import ValidationError

from refdesk.contracts.queue import PRESENCE, PresenceHeartbeat


async def listen(nc: Client, record: Callable[[PresenceHeartbeat], Awaitable[None]], log: Any) -> None:
    """Subscribe to heartbeats; a malformed beat or a failed write is logged and
    dropped (the next beat, seconds later, carries the same news)."""

    async def on_beat(msg: Msg) -> None:
        try:
            await record(PresenceHeartbeat.model_validate_json(msg.data))
        except ValidationError:
            log.warning("presence.bad_heartbeat")
        except Exception as exc:  # noqa: BLE001 - never let one beat kill the subscription
            log.warning("presence.record_failed", error=repr(exc))

    await nc.subscribe(PRESENCE, queue="queue", cb=on_beat)


def sweep_interval(timeout_seconds: float) -> float:
    """How often to look for absent operators: a quarter of the timeout, 0.1–5 s."""
    return min(5.0, max(0.1, timeout_seconds / 4))


async def sweep(expire: Callable[[float], Awaitable[list[str]]], timeout_seconds: float, stop: asyncio.Event, log: Any) -> None:
    """Call ``expire(timeout_seconds)`` every :func:`sweep_interval` until ``stop``."""
    while not stop.is_set():
        try:
            await expire(timeout_seconds)
        except Exception as exc:  # noqa: BLE001 - the database may be briefly away
            log.warning("presence.sweep_failed", error=repr(exc))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), sweep_interval(timeout_seconds))
