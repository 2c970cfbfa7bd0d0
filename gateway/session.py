"""A signed-in socket (:class:`Session`) and the process-wide things handlers need
(:class:`Gateway`): the NATS connection, settings, the hub, and typed service calls
whose failures read well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from nats.aio.client import Client
from pydantic import BaseModel

from refdesk import bus
from refdesk.bus import BusError
from refdesk.contracts.chat import LIFECYCLE, LifecycleRequest
from refdesk.contracts.common import Ok
from refdesk.contracts.queue import CHAT_GET, ChatEventType, ChatRef, ChatView, OperatorProfile, TransferView
from refdesk.settings import Settings

from . import frames, policy
from .connection import Connection
from .errors import unavailable_message
from .frames import ClientFrame
from .hub import Hub
from .patron_view import for_patron
from .policy import Identity, OperatorIdentity, PatronIdentity
from .registry import Registry
from .security import INTERNAL_ERROR

log = structlog.get_logger()

R = TypeVar("R", bound=BaseModel)

NO_REPLY = object()
"""Returned by a handler whose frame is not answered (``chat.typing``)."""


@dataclass(frozen=True)
class Gateway:
    """What every request of this gateway process shares."""

    nc: Client
    settings: Settings
    hub: Hub

    async def call(self, subject: str, payload: BaseModel, reply_type: type[R]) -> R:
        """Request ``subject`` and return its validated reply.

        Raises:
            BusError: the service's own code and sentence; ``503`` with "The chat
                service is not answering; please try again." when nobody answers in
                ``settings.request_timeout_seconds``; ``500`` with
                :data:`gateway.security.INTERNAL_ERROR` whatever the service said (its words
                are logged, never shown: they may name internals).
        """
        try:
            return await bus.request(self.nc, subject, payload, reply_type,
                                     timeout=self.settings.request_timeout_seconds)
        except BusError as exc:
            if exc.code == "503":
                log.warning("gateway.service_unavailable", subject=subject, error=exc.message)
                raise BusError("503", unavailable_message(subject)) from None
            if exc.code == "500" or not exc.code.startswith("4"):
                log.error("gateway.service_failed", subject=subject, code=exc.code, error=exc.message)
                raise BusError("500", INTERNAL_ERROR) from None
            raise

    async def record_lifecycle(self, transition: ChatEventType, chat: ChatView,
                               transfer: TransferView | None = None) -> None:
        """Have the chat service record the message of a lifecycle change that just
        happened (``rd.chat.lifecycle``: the question, "Ana joined the chat.", "Maya
        ended the chat.") before the user who caused it is answered, so it comes
        before anything they say next. ``transfer``: the transfer the change concerns
        (its steps have sentences of their own). Never raises: a failure is logged and
        the chat service's queue-event consumer records the same message later, once."""
        try:
            await self.call(LIFECYCLE, LifecycleRequest(type=transition, chat=chat, transfer=transfer), Ok)
        except Exception as exc:  # noqa: BLE001 - the consumer is the backstop
            log.warning("gateway.lifecycle_not_recorded", chat_id=chat.id, transition=transition, error=repr(exc))


Handler = Callable[["Session", Any], Awaitable[Any]]


class Session:
    """One signed-in socket: who it is and how its frames are answered.

    Args:
        gateway: the process-wide :class:`Gateway`.
        conn: the socket.
        identity: from the hello's token.
        handlers: frame model → handler ``(session, frame) -> reply data`` (or
            :data:`NO_REPLY`); a :class:`~refdesk.bus.BusError` it raises becomes an
            ``error`` frame with its code and sentence.
    """

    def __init__(self, gateway: Gateway, conn: Connection, identity: Identity,
                 handlers: Mapping[type[ClientFrame], Handler]) -> None:
        self.gateway = gateway
        self.conn = conn
        self.identity = identity
        self._handlers = handlers

    @property
    def registry(self) -> Registry:
        """The process's recipient registry."""
        return self.gateway.hub.registry

    @property
    def settings(self) -> Settings:
        """The process settings."""
        return self.gateway.settings

    @property
    def operator(self) -> OperatorIdentity:
        """The operator behind this socket. Raises Forbidden for a patron."""
        return policy.require_operator(self.identity)

    @property
    def profile(self) -> OperatorProfile:
        """The operator's latest profile (kept current by status events).
        Raises Forbidden for a patron."""
        profile = self.registry.profile(self.operator.operator_id)
        if profile is None:  # only between leave() and the socket closing
            raise BusError("401", "Please sign in again.")
        return profile

    def send(self, frame: str) -> None:
        """Queue a frame for this socket."""
        self.conn.send(frame)

    async def call(self, subject: str, payload: BaseModel, reply_type: type[R]) -> R:
        """:meth:`Gateway.call`."""
        return await self.gateway.call(subject, payload, reply_type)

    async def chat(self, chat_id: str) -> ChatView:
        """Fetch a chat this socket may reach.

        Raises:
            BusError: ``403`` (another patron's chat, a department the operator is
                not in), ``404`` unknown chat, ``503``.
        """
        policy.check_chat_id(self.identity, chat_id)
        chat = await self.call(CHAT_GET, ChatRef(chat_id=chat_id), ChatView)
        policy.check_reach(self.identity, self.profile if isinstance(self.identity, OperatorIdentity) else None, chat)
        return chat

    async def handle(self, frame: ClientFrame) -> None:
        """Run the frame's handler and answer with ``reply`` (or ``error``). A
        patron's reply passes through :func:`gateway.patron_view.for_patron` first, so
        no handler can hand them a staff-only field of a chat."""
        handler = self._handlers.get(type(frame))
        if handler is None:
            self.send(frames.error("400", f'"{getattr(frame, "type", "?")}" frames are not handled here.', frame.ref))
            return
        try:
            data = await handler(self, frame)
        except BusError as exc:
            self.send(frames.error(exc.code, exc.message, frame.ref))
            return
        if data is not NO_REPLY:
            if isinstance(self.identity, PatronIdentity):  # the one door for a patron's replies
                data = for_patron(data)
            self.send(frames.reply(data, frame.ref))

    def closed(self) -> None:
        """The socket closed: forget it in the registry."""
        self.registry.leave(self.conn)
