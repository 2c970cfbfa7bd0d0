"""The durable consumer that records chat lifecycle events of the queue service
(queued, claimed, ended) as messages of the conversation.

It is the backstop: the gateway already asks ``rd.chat.lifecycle`` right after each
change, and both paths derive the message (and its cmid) from the chat and the
transition only, so a transition is stored once whichever arrives first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nats.aio.client import Client

from refdesk import bus
from refdesk.contracts.chat import LifecycleRequest
from refdesk.contracts.common import Ok
from refdesk.contracts.queue import ChatEvent

from .config import LIFECYCLE_DURABLE, LIFECYCLE_STREAM, LIFECYCLE_SUBJECTS

Record = Callable[[LifecycleRequest], Awaitable[Ok]]


def event_handler(record: Record) -> Callable[[ChatEvent], Awaitable[None]]:
    """A consumer handler that passes each :class:`ChatEvent` to ``record`` (the
    ``rd.chat.lifecycle`` handler). Idempotent: a redelivery, or a transition the
    gateway already reported, is answered as a duplicate."""

    async def handle(event: ChatEvent) -> None:
        await record(LifecycleRequest(type=event.type, chat=event.chat, transfer=event.transfer))

    return handle


async def run_consumer(nc: Client, record: Record, stop: asyncio.Event) -> None:
    """Consume ``QUEUE_EVENTS`` chat events (durable ``chat-lifecycle``) until ``stop``
    is set; waits for the stream while the queue service has not created it yet."""
    await bus.consume(
        nc, stream=LIFECYCLE_STREAM, durable=LIFECYCLE_DURABLE, subjects=LIFECYCLE_SUBJECTS,
        event_type=ChatEvent, handler=event_handler(record), stop=stop,
    )
