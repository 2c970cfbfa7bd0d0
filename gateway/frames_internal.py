"""Client frames for Internal Chat: one-to-one operator chats, department rooms, All
Staff, who is online (``docs/protocol.md``, "Internal Chat").

Server frames of this area (built here with :func:`~gateway.frame_base.encode`):
``internal.history`` (a subscription's replay), ``internal.message`` (one live room
message), ``internal.read`` (the operator's read marker moved on another of their
sockets) and ``staff.update`` (:mod:`gateway.staff`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from refdesk.contracts.chat import MAX_SEQ, InternalMessage

from .frame_base import ClientFrame, EntityId, encode

INTERNAL_PAGE = 50
"""Messages an ``internal.earlier`` page holds unless the client asks for fewer."""


class StaffList(ClientFrame):
    """Who is online: every operator with status, departments and active chat count."""

    type: Literal["staff.list"]


class InternalRooms(ClientFrame):
    """The operator's internal rooms: All Staff, one per department they belong to,
    and their direct rooms — each with unread count, last message preview, top seq."""

    type: Literal["internal.rooms"]


class InternalOpen(ClientFrame):
    """Open (creating on first use) the direct room with another operator, or the
    standing room of one of the operator's departments: exactly one of the two."""

    type: Literal["internal.open"]
    operator_id: EntityId | None = None
    department_id: EntityId | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> InternalOpen:
        if (self.operator_id is None) == (self.department_id is None):
            raise ValueError("give exactly one of operator_id and department_id")
        return self


class InternalSubscribe(ClientFrame):
    """Go live on a room; replay the messages after ``after_seq`` first (reconnect:
    the last seq the client has)."""

    type: Literal["internal.subscribe"]
    room_id: EntityId
    after_seq: int = Field(default=0, ge=0, le=MAX_SEQ)


class InternalEarlier(ClientFrame):
    """"Load earlier": up to ``limit`` messages just before ``before_seq``."""

    type: Literal["internal.earlier"]
    room_id: EntityId
    before_seq: int = Field(ge=1, le=MAX_SEQ)
    limit: int = Field(default=INTERNAL_PAGE, ge=1, le=200)


class InternalSend(ClientFrame):
    """A message to a room; ``cmid`` as for ``chat.send`` (reused on retries)."""

    type: Literal["internal.send"]
    room_id: EntityId
    cmid: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    body: str = Field(min_length=1)


class InternalRead(ClientFrame):
    """The operator has read a room up to ``seq`` (a marker never moves back)."""

    type: Literal["internal.read"]
    room_id: EntityId
    seq: int = Field(ge=0, le=MAX_SEQ)


FRAMES: tuple[type[ClientFrame], ...] = (
    StaffList, InternalRooms, InternalOpen, InternalSubscribe, InternalEarlier, InternalSend, InternalRead,
)
"""This area's client frame models, gathered by :mod:`gateway.frames`."""


# --- server frames ------------------------------------------------------------------


def internal_history(room_id: str, messages: list[InternalMessage], top_seq: int, more: bool) -> str:
    """``internal.history``: a subscription's replay (oldest first), the room's
    ``top_seq`` and whether ``more`` remain after the last one."""
    return encode("internal.history", room_id=room_id, messages=messages, top_seq=top_seq, more=more)


def internal_message(message: InternalMessage) -> str:
    """``internal.message``: one live message of a room."""
    return encode("internal.message", room_id=message.room_id, message=message)


def internal_read(room_id: str, last_read_seq: int, unread: int) -> str:
    """``internal.read``: the operator's read marker of a room, as another of their
    sockets just set it."""
    return encode("internal.read", room_id=room_id, last_read_seq=last_read_seq, unread=unread)
