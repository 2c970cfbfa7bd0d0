"""Wiring of the chat-facts read model: its four durable consumers, the operator
lookup the reports API authorises with, and the rebuild it can trigger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from refdesk import bus
from refdesk.contracts import chat as chat_contract
from refdesk.contracts import queue as queue_contract
from refdesk.contracts import tickets as tickets_contract
from refdesk.service import Context

from . import config
from .consumers import chat_event_handler, message_handler, status_handler, ticket_handler
from .facts_store import FactsStore
from .rebuild import RebuildResult, rebuild


def start_consumers(ctx: Context, store: FactsStore) -> None:
    """Run the durable consumers: chat lifecycle (``analytics-facts``), messages
    (``analytics-messages``), operator status (``analytics-coverage``) and tickets
    created from chats (``analytics-tickets``)."""
    for stream, durable, subjects, kind, handler in (
        (queue_contract.STREAM, config.FACTS_DURABLE, config.FACTS_SUBJECTS, queue_contract.ChatEvent,
         chat_event_handler(store)),
        (chat_contract.STREAM, config.MESSAGES_DURABLE, config.MESSAGES_SUBJECTS, chat_contract.MessagePosted,
         message_handler(store)),
        (queue_contract.STREAM, config.STATUS_DURABLE, config.STATUS_SUBJECTS, queue_contract.OperatorStatusEvent,
         status_handler(store)),
        (tickets_contract.STREAM, config.TICKETS_DURABLE, config.TICKETS_SUBJECTS, tickets_contract.TicketEvent,
         ticket_handler(store)),
    ):
        ctx.background(bus.consume(ctx.nc, stream=stream, durable=durable, subjects=subjects, event_type=kind,
                                   handler=handler, stop=ctx.stop), name=durable)


def operator_lookup(ctx: Context) -> Callable[[str], Awaitable[queue_contract.OperatorProfile]]:
    """Fetch an operator's profile from the queue service (``rd.queue.operator.get``).

    Raises (from the returned function):
        refdesk.bus.NotFound: unknown operator; other errors when the queue is unreachable.
    """

    async def lookup(operator_id: str) -> queue_contract.OperatorProfile:
        return await bus.request(ctx.nc, queue_contract.OPERATOR_GET, queue_contract.OperatorRef(operator_id=operator_id),
                                 queue_contract.OperatorProfile, timeout=3.0)

    return lookup


def rebuilder(ctx: Context, store: FactsStore) -> Callable[[], Awaitable[RebuildResult]]:
    """A function that rebuilds the read model from the streams."""

    async def run() -> RebuildResult:
        return await rebuild(ctx.nc, store)

    return run
