"""The durable consumer that records chat lifecycle events of the queue service
(queued, claimed, ended) as messages of the conversation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nats.aio.client import Client

from refdesk import bus
from refdesk.contracts.chat import SendAck, SendRequest
from refdesk.contracts.queue import ChatEvent

from .config import LIFECYCLE_DURABLE, LIFECYCLE_STREAM, LIFECYCLE_SUBJECTS
from .domain import lifecycle_message

Send = Callable[[SendRequest], Awaitable[SendAck]]


def event_handler(send: Send) -> Callable[[ChatEvent], Awaitable[None]]:
    """A consumer handler that stores the message of each :class:`ChatEvent` through
    ``send`` (the ``rd.chat.send`` path). Idempotent: the message's cmid comes from the
    event, so a redelivery is answered as a duplicate."""

    async def handle(event: ChatEvent) -> None:
        request = lifecycle_message(event)
        if request is not None:
            await send(request)

    return handle


async def run_consumer(nc: Client, send: Send, stop: asyncio.Event) -> None:
    """Consume ``QUEUE_EVENTS`` chat events (durable ``chat-lifecycle``) until ``stop``
    is set; waits for the stream while the queue service has not created it yet."""
    await bus.consume(
        nc, stream=LIFECYCLE_STREAM, durable=LIFECYCLE_DURABLE, subjects=LIFECYCLE_SUBJECTS,
        event_type=ChatEvent, handler=event_handler(send), stop=stop,
    )
