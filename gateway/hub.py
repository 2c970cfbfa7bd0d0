"""The hub: ONE set of core NATS subscriptions per gateway process, fanning events
out to the connected peers chosen by the :class:`~gateway.registry.Registry`.

=============================  =========================================================
subject                        delivered as
=============================  =========================================================
``rd.ev.queue.chat.<id>.*``    ``chat.update`` to the department's watching operators, the
                               owner and the patron; ``queue.position`` to every patron
                               among the first 200 waiting in that department (those
                               further back keep the place their hello gave them); a
                               ``closed`` chat's feeds are dropped. Transfers: also the
                               sender, the target(s) and participants (``transfer`` in
                               the frame; the patron's copy has no transfer note), and
                               ``transfer.offer`` to the targets (:mod:`gateway.transfer_offers`);
                               the feeds of operators who may no longer read the chat
                               are closed (:meth:`Hub.recheck_feeds`)
``rd.ev.queue.operator.<id>``  the operator's new profile (status, monitored departments)
(both of the above)            a staff-list refresh: ``staff.update`` to every operator for
                               each entry that changed (:mod:`gateway.staff`)
``rd.ev.chat.msg.<id>.posted`` ``message`` to the chat's feeds (each seq once per feed)
``rd.ev.chat.internal.<id>.*`` ``internal.message`` to the room's operators (:mod:`gateway.rooms`)
``rd.ev.chat.screenshare.<id>`` ``screenshare.offer`` / ``screenshare.update`` to the chat's
                               patron sockets and operator subscribers
                               (:mod:`gateway.screenshare`; the host link to staff only)
``rd.rt.typing.<id>``          ``typing`` to the chat's feeds on the other side
``rd.ev.*.mail.<id>.<status>`` ``mail.status`` to the operator who asked for the mail (or the
                               patron, for their own transcript) (:mod:`gateway.mail_status`)
``rd.ev.tickets.ticket.<id>.*`` ``ticket.update`` to the operators who can reach the ticket: its
                               department's, its owner, admins (:mod:`gateway.ticket_access`)
=============================  =========================================================

Events reach the hub through plain core subscriptions (JetStream publishes are also
seen by core subscribers); the durable copy stays in the streams and the chat history
covers anything a socket missed. Callbacks do in-memory work only, so nats-py's
one-message-at-a-time callbacks are not a bottleneck; each frame is serialised once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from refdesk.contracts import chat as chat_contract
from refdesk.contracts import queue as queue_contract
from refdesk.contracts.chat import InternalMessagePosted, Message, MessagePosted, ScreenshareEvent, TypingSignal
from refdesk.contracts.queue import ChatEvent, ChatView, OperatorStatusEvent

from . import frames, frames_transfer, policy, rooms, screenshare
from .policy import queue_positions
from . import mail_status
from . import ticket_access
from .registry import Registry
from .staff import StaffRoster
from .transfer_offers import TransferOffers

log = structlog.get_logger()

QUEUE_EVENTS = queue_contract.STREAM_SUBJECTS[0]  # rd.ev.queue.>
CHAT_EVENTS = chat_contract.STREAM_SUBJECTS[0]  # rd.ev.chat.>
TYPING = chat_contract.typing_subject("*")  # rd.rt.typing.*

PENDING_MESSAGES = 65_536
"""Per-subscription backlog before NATS flags this gateway a slow consumer."""


class Hub:
    """Routes the services' events to this process's peers.

    Usage::

        hub = Hub(nc)
        await hub.start()     # subscribe
        hub.registry.join_operator(conn, profile)
        ...
        await hub.stop()      # unsubscribe
    """

    def __init__(self, nc: Client, registry: Registry | None = None) -> None:
        self.nc = nc
        self.registry = registry or Registry()
        self._subscriptions: list[Subscription] = []
        self.staff = StaffRoster(nc, self.registry)
        self.transfer_offers = TransferOffers(nc, self.registry)

    async def start(self) -> None:
        """Subscribe to queue events, chat events and typing signals."""
        routes: list[tuple[str, Callable[[Msg], None]]] = [
            (QUEUE_EVENTS, self._route_queue_event),
            (CHAT_EVENTS, self._route_chat_event),
            (TYPING, self._route_typing),
            (mail_status.SUBJECT, lambda msg: mail_status.route(self.registry, msg)),
            (ticket_access.SUBJECT, lambda msg: ticket_access.route(self.registry, msg)),
        ]
        for subject, route in routes:
            self._subscriptions.append(
                await self.nc.subscribe(subject, cb=_guarded(route), pending_msgs_limit=PENDING_MESSAGES)
            )
        await self.nc.flush()

    async def stop(self) -> None:
        """Unsubscribe (idempotent)."""
        subscriptions, self._subscriptions = self._subscriptions, []
        await self.staff.stop()
        await self.transfer_offers.stop()
        for subscription in subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    # --- routing (synchronous, in memory) --------------------------------------

    def chat_changed(self, event: ChatEvent) -> None:
        """A chat lifecycle event: ``chat.update`` and the department's queue positions."""
        update = frames_transfer.chat_update(event.type, event.chat, event.transfer) if event.transfer \
            else frames.chat_update(event.type, event.chat)
        patrons = self.registry.patrons(event.chat.id)
        patron_update = frames.chat_update(event.type, policy.patron_view(event.chat)) if patrons else update
        for peer in self.registry.chat_update_recipients(event.chat, event.transfer):
            peer.send(patron_update if peer in patrons else update)
        self.transfer_offers.event(event)
        # department_queue lists the oldest DEPARTMENT_QUEUE_IDS chats; waiting counts them all
        waiting = max(event.waiting, len(event.department_queue))
        for chat_id, position, _ in queue_positions(event.department_queue):
            recipients = self.registry.patrons(chat_id)
            if recipients:
                frame = frames.queue_position(chat_id, position, waiting)
                for peer in recipients:
                    peer.send(frame)
        if event.chat.state == "closed":  # closed, or dismissed
            self.registry.close_chat_feeds(event.chat.id)
        else:
            self.recheck_feeds(event.chat)

    def recheck_feeds(self, chat: ChatView) -> None:
        """Close the live feeds of ``chat`` held by operators who may no longer read it
        (:func:`gateway.policy.operator_reaches`: a declined or cancelled transfer
        target from another department, an owner's chat claimed away…). They already
        got the ``chat.update`` that says why; messages, internal notes, typing and
        screenshare updates stop reaching them."""
        self.registry.close_feeds_unless(chat.id, lambda profile: policy.operator_reaches(profile, chat))

    def message_posted(self, message: Message) -> None:
        """A stored message: ``message`` to the chat's feeds — an internal note to the
        operators' feeds only (a patron's feed just marks its seq as passed)."""
        feeds = self.registry.feeds(message.chat_id)
        if feeds:
            frame = frames.message(message)
            for feed in feeds:
                feed.offer(message.seq, None if message.internal and feed.side == "patron" else frame)

    def typed(self, signal: TypingSignal) -> None:
        """A typing signal: ``typing`` to the chat's feeds on the other side."""
        feeds = [feed for feed in self.registry.feeds(signal.chat_id) if feed.side != signal.author_kind]
        if feeds:
            frame = frames.typing(signal)
            for feed in feeds:
                feed.peer.send(frame)

    # --- NATS callbacks --------------------------------------------------------

    def _route_queue_event(self, msg: Msg) -> None:
        parts = msg.subject.split(".")  # rd.ev.queue.<entity>.<id>.<event>
        if len(parts) == 6 and parts[3] == "chat":
            event = ChatEvent.model_validate_json(msg.data)
            self.chat_changed(event)
            if event.type not in ("queued", "rated"):  # may change an owner's count of active chats
                self.staff.poke()
        elif len(parts) == 6 and parts[3] == "operator":
            self.registry.update_operator(OperatorStatusEvent.model_validate_json(msg.data).operator)
            self.staff.poke()

    def _route_chat_event(self, msg: Msg) -> None:
        parts = msg.subject.split(".")  # rd.ev.chat.msg.<chat_id>.posted
        if len(parts) == 6 and parts[3] == "msg" and parts[5] == "posted":
            self.message_posted(MessagePosted.model_validate_json(msg.data).message)
        elif len(parts) == 6 and parts[3] == "internal" and parts[5] == "posted":  # rd.ev.chat.internal.<room_id>.posted
            posted = InternalMessagePosted.model_validate_json(msg.data)
            rooms.deliver(self.registry, posted.room, posted.message)
        elif len(parts) == 6 and parts[3] == "screenshare":  # rd.ev.chat.screenshare.<chat_id>.<state>
            screenshare.deliver(self.registry, ScreenshareEvent.model_validate_json(msg.data).request)

    def _route_typing(self, msg: Msg) -> None:
        self.typed(TypingSignal.model_validate_json(msg.data))


def _guarded(route: Callable[[Msg], None]) -> Callable[[Msg], Awaitable[None]]:
    """A subscription callback running ``route``; a bad payload or a routing bug is
    logged and never stops the subscription."""

    async def callback(msg: Msg) -> None:
        try:
            route(msg)
        except ValidationError:
            log.warning("hub.bad_payload", subject=msg.subject)
        except Exception:
            log.exception("hub.route_failed", subject=msg.subject)

    return callback
