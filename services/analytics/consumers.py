"""Durable JetStream consumers that fold queue and chat events into chat facts."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.aio.client import Client
from pydantic import ValidationError

from refdesk import bus
from refdesk.bus import EventHandler
from refdesk.contracts.chat import MessagePosted
from refdesk.contracts.queue import ChatEvent

from . import domain
from .config import STREAM_RETRY_MAX_SECONDS, STREAM_RETRY_SECONDS
from .store import AnalyticsStore

log = structlog.get_logger()


def chat_event_handler(store: AnalyticsStore) -> EventHandler:
    """Handler for ``rd.ev.queue.chat.<id>.<event>``: applies the :class:`ChatEvent`
    to the chat's fact. An unreadable event is logged and skipped (retrying cannot
    fix it); a database failure raises, so the message is redelivered."""

    async def handle(subject: str, data: bytes) -> None:
        try:
            event = ChatEvent.model_validate_json(data)
        except ValidationError as exc:
            log.warning("analytics.event_unreadable", subject=subject, error=str(exc))
            return
        await store.update_fact(
            event.chat.id, lambda fact: domain.apply_chat_event(fact, event.chat, event.occurred_at)
        )

    return handle


def message_handler(store: AnalyticsStore) -> EventHandler:
    """Handler for ``rd.ev.chat.msg.<id>.posted``: applies the :class:`MessagePosted`
    message to its chat's fact (first response time, message count)."""

    async def handle(subject: str, data: bytes) -> None:
        try:
            event = MessagePosted.model_validate_json(data)
        except ValidationError as exc:
            log.warning("analytics.event_unreadable", subject=subject, error=str(exc))
            return
        await store.update_fact(event.message.chat_id, lambda fact: domain.apply_message(fact, event.message))

    return handle


async def consume_when_ready(
    nc: Client, *, stream: str, durable: str, subjects: list[str], handler: EventHandler, stop: asyncio.Event
) -> None:
    """Run :func:`refdesk.bus.consume` until ``stop`` is set, starting (again) whenever
    it fails — notably while ``stream`` does not exist yet because the service that
    owns it has not started. Waits ``STREAM_RETRY_SECONDS``, doubling up to
    ``STREAM_RETRY_MAX_SECONDS``, between attempts; never raises."""
    delay = STREAM_RETRY_SECONDS
    while not stop.is_set():
        try:
            await bus.consume(nc, stream=stream, durable=durable, subjects=subjects, handler=handler, stop=stop)
        except Exception as exc:  # noqa: BLE001 - the consumer must outlive a missing stream
            log.info("analytics.consumer_waiting", stream=stream, durable=durable, reason=str(exc), retry_seconds=delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, STREAM_RETRY_MAX_SECONDS)
        else:
            return
