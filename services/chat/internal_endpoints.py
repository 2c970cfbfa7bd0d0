"""Handlers of ``rd.chat.internal.*`` (Internal Chat; subjects and shapes in
:mod:`refdesk.contracts.chat`, section "Internal chat"). Every request names the
operator and their departments; a room that is not theirs answers 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refdesk.bus import Invalid, NotFound
from refdesk.contracts import chat
from refdesk.outbox import OutboxRelay

from . import domain, internal
from .config import HISTORY_PAGE_BYTES
from .internal_store import InternalStore


class InternalEndpoints:
    """Internal Chat's handlers over one :class:`InternalStore`; the relay is woken
    after each stored message."""

    def __init__(self, store: InternalStore, relay: OutboxRelay) -> None:
        self._store = store
        self._relay = relay

    def routes(self) -> list[tuple[str, type, Callable[[Any], Any]]]:
        """``(subject, request model, handler)`` of every endpoint."""
        return [
            (chat.INTERNAL_ROOMS, chat.InternalRoomsRequest, self.rooms),
            (chat.INTERNAL_OPEN, chat.InternalOpenRequest, self.open),
            (chat.INTERNAL_SEND, chat.InternalSendRequest, self.send),
            (chat.INTERNAL_HISTORY, chat.InternalHistoryRequest, self.history),
            (chat.INTERNAL_READ, chat.InternalReadRequest, self.read),
        ]

    async def rooms(self, request: chat.InternalRoomsRequest) -> chat.InternalRoomList:
        """``rd.chat.internal.rooms``: All Staff, the standing room of each of the
        operator's departments (created on first use), their direct rooms — in
        :func:`.internal.order_rooms` order."""
        await self._store.ensure_standing(request.department_ids)
        rows = await self._store.room_views(request.operator_id, request.department_ids)
        return chat.InternalRoomList(rooms=internal.order_rooms(internal.room_view(row) for row in rows))

    async def open(self, request: chat.InternalOpenRequest) -> chat.RoomView:
        """``rd.chat.internal.open``: the direct room with ``other_operator_id`` or the
        room of ``department_id``, created on first use.

        Raises:
            Invalid: (422) neither or both given; the other operator is the asker.
            Forbidden: (403) a department the operator's profile does not list.
        """
        if (request.other_operator_id is None) == (request.department_id is None):
            raise Invalid("Give either the operator or the department to open a room with.")
        if request.department_id is not None:
            internal.check_department(request.department_id, request.department_ids)
            room_id = await self._store.department_room_id(request.department_id)
        else:
            room_id = await self._store.direct_room_id(
                internal.direct_pair(request.operator_id, request.other_operator_id or ""))
        return await self._view(request, room_id)

    async def send(self, request: chat.InternalSendRequest) -> chat.InternalSendAck:
        """``rd.chat.internal.send``: store a message (body cleaned as patron chat
        messages are) with the room's next seq and publish ``InternalMessagePosted``;
        a retry with the same (room, author, cmid) answers the original ack with
        ``duplicate=true``.

        Raises:
            NotFound: (404) unknown room. Forbidden: (403) not the operator's room.
            Invalid: (422) the body is blank or too long once cleaned.
        """
        room = await self._room(request)
        body = domain.normalise_body(request.body)
        message, duplicate = await self._store.add_message(
            room, cmid=request.cmid, author_id=request.operator_id, author_name=request.author_name, body=body)
        if not duplicate:
            self._relay.wake()
        return internal.ack_for(message, duplicate=duplicate)

    async def history(self, request: chat.InternalHistoryRequest) -> chat.InternalHistory:
        """``rd.chat.internal.history``: oldest first; with ``before_seq`` the latest
        ``limit`` messages before it and ``more`` when earlier ones remain ("load
        earlier"), otherwise those after ``after_seq`` and ``more`` when later ones
        remain. Pages also stop at about ``HISTORY_PAGE_BYTES`` of JSON.

        Raises:
            NotFound: (404) unknown room. Forbidden: (403) not the operator's room.
        """
        room = await self._room(request)
        rows, top_seq = await self._store.history(room.id, after_seq=request.after_seq,
                                                  before_seq=request.before_seq, limit=request.limit + 1)
        messages, more = domain.page(rows, request.limit, HISTORY_PAGE_BYTES)
        if request.before_seq is not None:
            messages.reverse()  # fetched newest first so the page ends right before before_seq
        return chat.InternalHistory(room_id=room.id, messages=messages, top_seq=top_seq, more=more)

    async def read(self, request: chat.InternalReadRequest) -> chat.RoomView:
        """``rd.chat.internal.read``: move the operator's read marker (never back,
        capped at the room's top seq) and answer the room as they now see it.

        Raises:
            NotFound: (404) unknown room. Forbidden: (403) not the operator's room.
        """
        room = await self._room(request)
        await self._store.mark_read(room.id, request.operator_id, request.seq)
        return await self._view(request, room.id)

    async def _room(self, request: chat.InternalSendRequest | chat.InternalHistoryRequest
                    | chat.InternalReadRequest) -> chat.RoomAudience:
        """The request's room once the operator is found to be in it (404, 403)."""
        room = await self._store.audience(request.room_id)
        if room is None:
            raise NotFound("There is no such room.")
        internal.check_member(room, request.operator_id, request.department_ids)
        return room

    async def _view(self, viewer: chat.Viewer, room_id: str) -> chat.RoomView:
        rows = await self._store.room_views(viewer.operator_id, viewer.department_ids, room_id)
        if not rows:  # pragma: no cover - the caller checked membership
            raise NotFound("There is no such room.")
        return internal.room_view(rows[0])
