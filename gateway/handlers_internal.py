"""Handlers for Internal Chat: one-to-one operator chats, department rooms, All Staff,
who is online (``docs/protocol.md``, "Internal Chat").

Each handler authorises its frame, asks the owning service and returns the ``reply``
data (see :mod:`gateway.handlers`). Room membership is decided by the chat service
from the operator's id and the departments of their current profile, which every
request carries (:class:`~refdesk.contracts.chat.Viewer`); it answers ``403``
otherwise.
"""

from __future__ import annotations

from typing import Any

from refdesk.bus import Invalid
from refdesk.contracts.chat import (
    INTERNAL_HISTORY, INTERNAL_OPEN, INTERNAL_READ, INTERNAL_ROOMS, INTERNAL_SEND, InternalHistory,
    InternalHistoryRequest, InternalMessage, InternalOpenRequest, InternalReadRequest, InternalRoomList,
    InternalRoomsRequest, InternalSendAck, InternalSendRequest, RoomView,
)
from refdesk.contracts.queue import OPERATOR_GET, OPERATORS_LIST, OperatorList, OperatorProfile, OperatorRef
from refdesk.contracts.queue import OperatorsListRequest

from .frames_internal import (
    InternalEarlier, InternalOpen, InternalRead, InternalRooms, InternalSend, InternalSubscribe, StaffList,
    internal_history, internal_read,
)
from .handlers import HISTORY_PAGE, covered_seq, message_body, replay_pages
from .policy import require_operator
from .rooms import feed_key
from .session import Handler, Session


def _viewer(session: Session) -> dict[str, Any]:
    """The ``operator_id`` and ``department_ids`` every internal request carries, from
    the signed-in operator's current profile (403 for a patron)."""
    profile = session.profile
    return {"operator_id": profile.id, "department_ids": [department.id for department in profile.departments]}


async def staff_list(session: Session, frame: StaffList) -> dict[str, Any]:
    """``staff.list``: every operator with id, nickname, full_name, status,
    departments ``[{id, name}]``, monitored ids and ``active_chats``, by nickname.
    Later changes arrive as ``staff.update`` pushes."""
    require_operator(session.identity)  # 403 for a patron
    operators = await session.gateway.hub.staff.listing(
        lambda: session.call(OPERATORS_LIST, OperatorsListRequest(), OperatorList))
    return {"operators": operators}


async def internal_rooms(session: Session, frame: InternalRooms) -> InternalRoomList:
    """``internal.rooms``: All Staff, the operator's department rooms and their direct
    rooms, each with ``unread``, ``last_message`` and ``top_seq``."""
    return await session.call(INTERNAL_ROOMS, InternalRoomsRequest(**_viewer(session)), InternalRoomList)


async def internal_open(session: Session, frame: InternalOpen) -> RoomView:
    """``internal.open``: the direct room with another operator (``404`` unknown
    operator, ``422`` oneself) or the standing room of one of the operator's
    departments (``403`` otherwise), created on first use."""
    viewer = _viewer(session)
    if frame.operator_id is not None:
        if frame.operator_id == viewer["operator_id"]:
            raise Invalid("You cannot open a direct chat with yourself.")
        await session.call(OPERATOR_GET, OperatorRef(operator_id=frame.operator_id), OperatorProfile)  # 404
    request = InternalOpenRequest(**viewer, other_operator_id=frame.operator_id, department_id=frame.department_id)
    return await session.call(INTERNAL_OPEN, request, RoomView)


async def internal_subscribe(session: Session, frame: InternalSubscribe) -> dict[str, Any]:
    """``internal.subscribe``: go live on a room first (buffering), replay the messages
    after ``after_seq`` as one ``internal.history`` frame, then release the buffered
    live messages it did not cover — no gap, no duplicate (as ``chat.subscribe``).
    Replies ``{room_id, top_seq}``."""
    viewer = _viewer(session)
    key = feed_key(frame.room_id)
    feed = session.registry.open_feed(session.conn, key, "operator")
    try:
        messages, top_seq, more = await _replay(session, viewer, frame.room_id, frame.after_seq)
    except BaseException:
        session.registry.close_feed(session.conn, key)
        raise
    session.send(internal_history(frame.room_id, messages, top_seq, more))
    feed.go_live(covered_seq(frame.after_seq, messages, top_seq, more), (message.seq for message in messages))
    return {"room_id": frame.room_id, "top_seq": max(top_seq, feed.top_seq)}


async def _replay(session: Session, viewer: dict[str, Any], room_id: str,
                  after_seq: int) -> tuple[list[InternalMessage], int, bool]:
    """A room's messages after ``after_seq``, its top seq and whether more remain (as
    :func:`gateway.handlers.replay_pages`)."""
    async def fetch(cursor: int) -> InternalHistory:
        request = InternalHistoryRequest(**viewer, room_id=room_id, after_seq=cursor, limit=HISTORY_PAGE)
        return await session.call(INTERNAL_HISTORY, request, InternalHistory)

    return await replay_pages(fetch, after_seq)


async def internal_earlier(session: Session, frame: InternalEarlier) -> InternalHistory:
    """``internal.earlier`` ("Load earlier"): up to ``limit`` messages just before
    ``before_seq``, oldest first; ``more`` when still earlier ones exist."""
    request = InternalHistoryRequest(**_viewer(session), room_id=frame.room_id, before_seq=frame.before_seq,
                                     limit=frame.limit)
    return await session.call(INTERNAL_HISTORY, request, InternalHistory)


async def internal_send(session: Session, frame: InternalSend) -> InternalSendAck:
    """``internal.send``: add a message to a room the operator is in; a retry with the
    same ``cmid`` answers the original ack with ``duplicate: true``. Body limits as
    ``chat.send`` (``422``)."""
    body = message_body(session, frame.body)
    viewer = _viewer(session)
    request = InternalSendRequest(**viewer, room_id=frame.room_id, cmid=frame.cmid,
                                  author_name=session.profile.nickname[:100], body=body)
    return await session.call(INTERNAL_SEND, request, InternalSendAck)


async def internal_mark_read(session: Session, frame: InternalRead) -> RoomView:
    """``internal.read``: move the operator's read marker (never back); their other
    sockets get ``internal.read`` with the new marker and unread count."""
    viewer = _viewer(session)
    room = await session.call(INTERNAL_READ, InternalReadRequest(**viewer, room_id=frame.room_id, seq=frame.seq),
                              RoomView)
    pushed = internal_read(room.id, room.last_read_seq, room.unread)
    for peer in session.registry.operator_peers([viewer["operator_id"]]):
        if peer is not session.conn:
            peer.send(pushed)
    return room


HANDLERS: dict[type, Handler] = {
    StaffList: staff_list,
    InternalRooms: internal_rooms,
    InternalOpen: internal_open,
    InternalSubscribe: internal_subscribe,
    InternalEarlier: internal_earlier,
    InternalSend: internal_send,
    InternalRead: internal_mark_read,
}
"""Frame model → handler for this area, gathered by :mod:`gateway.handlers`."""
