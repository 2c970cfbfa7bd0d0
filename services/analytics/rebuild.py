"""Rebuild of the chat-facts read model from the event streams: the pure fold
(:class:`Fold`, the same functions the live consumers apply) and the replay of
``QUEUE_EVENTS``, ``CHAT_EVENTS`` and ``TICKETS_EVENTS`` from their first message
(:func:`rebuild`). ``python -m services.analytics rebuild`` and
``POST /api/admin/rebuild`` run it.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field

from nats.aio.client import Client
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ValidationError

from refdesk import bus, db
from refdesk.contracts import chat as chat_contract
from refdesk.contracts import queue as queue_contract
from refdesk.contracts import tickets as tickets_contract
from refdesk.settings import Settings, get_settings

from . import facts
from .consumers import status_change, ticket_chat
from .facts_store import FactsStore, StatusChange

#: Seconds to wait for the next message of a stream being replayed before giving up.
REPLAY_IDLE_SECONDS = 5.0


@dataclass
class Fold:
    """The read model in memory: feed it events in any order, any number of times."""

    facts: dict[str, facts.ChatFacts] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    changes: dict[str, StatusChange] = field(default_factory=dict)
    events: int = 0

    def _apply(self, key: str, chat_id: str, change) -> None:
        if key in self.keys:
            return
        self.keys.add(key)
        self.facts[chat_id] = change(self.facts.get(chat_id) or facts.ChatFacts(chat_id=chat_id))

    def add(self, event: BaseModel) -> None:
        """Fold one contract event (:class:`ChatEvent`, :class:`OperatorStatusEvent`,
        :class:`MessagePosted` or :class:`TicketEvent`); other types are ignored."""
        self.events += 1
        if isinstance(event, queue_contract.ChatEvent):
            self._apply(facts.event_key("chat", event.event_id), event.chat.id,
                        lambda f: facts.apply_chat_event(f, event))
        elif isinstance(event, chat_contract.MessagePosted):
            message = event.message
            self._apply(facts.event_key("message", message.id), message.chat_id,
                        lambda f: facts.apply_message(f, message))
        elif isinstance(event, queue_contract.OperatorStatusEvent):
            self.changes.setdefault(event.event_id, status_change(event))
        elif isinstance(event, tickets_contract.TicketEvent) and (chat_id := ticket_chat(event)):
            ticket = event.ticket
            self._apply(facts.event_key("ticket", ticket.id), chat_id,
                        lambda f: facts.apply_ticket(f, ticket.id, ticket.created_at))


#: (stream, subject pattern, event type) of every event the read model folds.
SOURCES: list[tuple[str, str, type[BaseModel]]] = [
    (queue_contract.STREAM, "rd.ev.queue.chat.*.*", queue_contract.ChatEvent),
    (queue_contract.STREAM, "rd.ev.queue.operator.*.status", queue_contract.OperatorStatusEvent),
    (chat_contract.STREAM, "rd.ev.chat.msg.*.posted", chat_contract.MessagePosted),
    (tickets_contract.STREAM, "rd.ev.tickets.ticket.*.created", tickets_contract.TicketEvent),
]


def _decode(subject: str, data: bytes, stream: str) -> BaseModel | None:
    for source, pattern, kind in SOURCES:
        if source == stream and fnmatch.fnmatchcase(subject, pattern.replace(">", "*")):
            try:
                return kind.model_validate_json(data)
            except ValidationError:
                return None  # the live consumer terminates it too
    return None


async def replay(nc: Client, fold: Fold) -> None:
    """Fold every message of the source streams, from the first up to the last one
    present when the replay of that stream starts. A stream that does not exist yet
    contributes nothing.

    Raises:
        TimeoutError: a stream stopped delivering for ``REPLAY_IDLE_SECONDS``.
    """
    js = nc.jetstream()
    for stream in dict.fromkeys(source for source, _, _ in SOURCES):
        try:
            info = await nc.jsm().stream_info(stream)
        except NotFoundError:
            continue
        last = info.state.last_seq
        if info.state.messages == 0:
            continue
        sub = await js.subscribe(">", stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
        try:
            while True:
                msg = await sub.next_msg(timeout=REPLAY_IDLE_SECONDS)
                event = _decode(msg.subject, msg.data, stream)
                if event is not None:
                    fold.add(event)
                if msg.metadata.sequence.stream >= last:
                    break
        finally:
            await sub.unsubscribe()


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild folded: messages read, chats and status changes written."""

    events: int
    chats: int
    status_changes: int


async def rebuild(nc: Client, store: FactsStore) -> RebuildResult:
    """Replay the streams into a fresh model and swap it in atomically
    (:meth:`FactsStore.replace_all`): afterwards the tables equal a fold of every
    event in the streams, which is what the live consumers built."""
    fold = Fold()

    async def build() -> None:
        await replay(nc, fold)

    await store.replace_all(build, lambda: fold.facts.values(), lambda: fold.keys, lambda: fold.changes.values())
    return RebuildResult(events=fold.events, chats=len(fold.facts), status_changes=len(fold.changes))



async def rebuild_command(settings: Settings | None = None) -> RebuildResult:
    """``python -m services.analytics rebuild``: migrate the schema, rebuild the read
    model from the streams (while the service may be running) and return the counts."""
    from pathlib import Path

    settings = settings or get_settings()
    await db.migrate(settings.database_url, "analytics", Path(__file__).parent / "migrations")
    pool = await db.create_pool(settings.database_url, schema="analytics")
    nc = await bus.connect(settings.nats_url, f"analytics-rebuild-{os.getpid()}")
    try:
        return await rebuild(nc, FactsStore(pool))
    finally:
        await nc.drain()
        await pool.close()
