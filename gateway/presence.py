"""Presence heartbeats: tell the queue service which operators have a dashboard open.

Every ``presence_heartbeat_seconds`` this gateway publishes one
:class:`~refdesk.contracts.queue.PresenceHeartbeat` on ``rd.rt.presence`` (core NATS)
listing the operators with at least one socket here. The queue service sets an Online
operator Offline once no gateway has listed them for ``presence_timeout_seconds``, so a
closed tab, a crashed browser or a crashed gateway never leaves patrons waiting for
someone who left. Works with any number of gateways: each lists its own sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from nats.aio.client import Client

from refdesk.contracts.queue import PRESENCE, PresenceHeartbeat

log = structlog.get_logger()


async def heartbeat(nc: Client, operator_ids: Callable[[], list[str]], every_seconds: float, stop: asyncio.Event) -> None:
    """Publish the connected operators every ``every_seconds`` until ``stop`` is set
    (nothing when none is connected). A failed publish is logged and retried on the
    next beat."""
    while not stop.is_set():
        ids = operator_ids()
        if ids:
            try:
                await nc.publish(PRESENCE, PresenceHeartbeat(operator_ids=ids).model_dump_json().encode())
            except Exception as exc:  # noqa: BLE001 - NATS reconnecting: try again next beat
                log.warning("presence.heartbeat_failed", error=repr(exc))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
