"""Handlers of the durable JetStream consumers that fold queue, chat and tickets
events into the chat-facts read model (run by :func:`refdesk.bus.consume`). Each
applies its event once (by :func:`services.analytics.facts.event_key`); a database
failure raises, so the message is redelivered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from refdesk.contracts.chat import MessagePosted
from refdesk.contracts.queue import ChatEvent, OperatorStatusEvent
from refdesk.contracts.tickets import TicketEvent

from . import facts
from .facts_store import FactsStore, StatusChange


def status_change(event: OperatorStatusEvent) -> StatusChange:
    """The :class:`StatusChange` an operator status event records."""
    operator = event.operator
    return StatusChange(event_id=event.event_id, operator_id=operator.id, occurred_at=event.occurred_at,
                        status=operator.status, monitored=tuple(sorted(operator.monitored)))


def ticket_chat(event: TicketEvent) -> str | None:
    """The chat a ``created`` ticket event makes ticketed, or None."""
    return event.ticket.chat_id if event.type == "created" else None


def chat_event_handler(store: FactsStore) -> Callable[[ChatEvent], Awaitable[None]]:
    """Handler for ``rd.ev.queue.chat.<id>.<type>``."""

    async def handle(event: ChatEvent) -> None:
        await store.apply(facts.event_key("chat", event.event_id), event.chat.id,
                          lambda fact: facts.apply_chat_event(fact, event))

    return handle


def status_handler(store: FactsStore) -> Callable[[OperatorStatusEvent], Awaitable[None]]:
    """Handler for ``rd.ev.queue.operator.<id>.status`` (coverage)."""

    async def handle(event: OperatorStatusEvent) -> None:
        await store.record_status(status_change(event))

    return handle


def message_handler(store: FactsStore) -> Callable[[MessagePosted], Awaitable[None]]:
    """Handler for ``rd.ev.chat.msg.<id>.posted``."""

    async def handle(event: MessagePosted) -> None:
        message = event.message
        await store.apply(facts.event_key("message", message.id), message.chat_id,
                          lambda fact: facts.apply_message(fact, message))

    return handle


def ticket_handler(store: FactsStore) -> Callable[[TicketEvent], Awaitable[None]]:
    """Handler for ``rd.ev.tickets.ticket.<id>.created``: marks the chat ticketed."""

    async def handle(event: TicketEvent) -> None:
        chat_id = ticket_chat(event)
        if chat_id:
            ticket = event.ticket
            await store.apply(facts.event_key("ticket", ticket.id), chat_id,
                              lambda fact: facts.apply_ticket(fact, ticket.id, ticket.created_at))

    return handle
