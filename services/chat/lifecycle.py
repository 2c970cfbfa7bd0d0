"""The durable consumer that records chat lifecycle events of the queue service
(queued, claimed, ended) as messages of the conversation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from nats.aio.client import Client
from pydantic import ValidationError

from refdesk import bus
from refdesk.contracts.chat import SendAck, SendRequest
from refdesk.contracts.queue import ChatEvent

from .config import LIFECYCLE_DURABLE, LIFECYCLE_STREAM, LIFECYCLE_SUBJECTS, STREAM_RETRY_SECONDS
from .domain import lifecycle_message

log = structlog.get_logger()

Send = Callable[[SendRequest], Awaitable[SendAck]]


def event_handler(send: Send) -> bus.EventHandler:
    """A consumer handler that stores the message of each :class:`ChatEvent` through
    ``send`` (the ``rd.chat.send`` path). Idempotent: the message's cmid comes from the
    event, so a redelivery is answered as a duplicate. An event that is not a valid
    ChatEvent is logged and skipped (redelivering it would not help)."""

    async def handle(subject: str, data: bytes) -> None:
        try:
            event = ChatEvent.model_validate_json(data)
        except ValidationError as exc:
            log.warning("lifecycle.bad_event", subject=subject, error=str(exc))
            return
        request = lifecycle_message(event)
        if request is not None:
            await send(request)

    return handle


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_consumer(nc: Client, send: Send, stop: asyncio.Event) -> None:
    """Consume ``QUEUE_EVENTS`` chat events (durable ``chat-lifecycle``) until ``stop``
    is set.

    The queue service creates the stream, so it may not exist yet: attaching is retried
    every ``STREAM_RETRY_SECONDS`` seconds, as is any other failure to attach, until it
    works or ``stop`` is set. Never raises.
    """
    handler = event_handler(send)
    last_reason = ""
    while not stop.is_set():
        try:
            await bus.consume(
                nc, stream=LIFECYCLE_STREAM, durable=LIFECYCLE_DURABLE,
                subjects=LIFECYCLE_SUBJECTS, handler=handler, stop=stop,
            )
            return
        except Exception as exc:  # noqa: BLE001 - keep trying, the stream may appear later
            if repr(exc) != last_reason:  # log each new reason once, not every retry
                last_reason = repr(exc)
                log.info("lifecycle.waiting_for_stream", stream=LIFECYCLE_STREAM, reason=last_reason)
            await _wait(stop, STREAM_RETRY_SECONDS)
