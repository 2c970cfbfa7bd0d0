"""Handlers of the durable JetStream consumers that fold queue and chat events into
chat facts (run by :func:`refdesk.bus.consume`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from refdesk.contracts.chat import MessagePosted
from refdesk.contracts.queue import ChatEvent

from . import domain
from .store import AnalyticsStore


def chat_event_handler(store: AnalyticsStore) -> Callable[[ChatEvent], Awaitable[None]]:
    """Handler for ``rd.ev.queue.chat.<id>.<event>``: applies the :class:`ChatEvent`
    to the chat's fact; a database failure raises, so the message is redelivered."""

    async def handle(event: ChatEvent) -> None:
        await store.update_fact(
            event.chat.id, lambda fact: domain.apply_chat_event(fact, event.chat, event.occurred_at)
        )

    return handle


def message_handler(store: AnalyticsStore) -> Callable[[MessagePosted], Awaitable[None]]:
    """Handler for ``rd.ev.chat.msg.<id>.posted``: applies the :class:`MessagePosted`
    message to its chat's fact (first response time, message count)."""

    async def handle(event: MessagePosted) -> None:
        await store.update_fact(event.message.chat_id, lambda fact: domain.apply_message(fact, event.message))

    return handle
