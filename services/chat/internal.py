"""Pure rules of Internal Chat (no I/O): who may see a room, the identity of a direct
room, the room list's order and the last-message preview (LibChat's Internal Chat:
reference row 12). Message bodies follow the patron chat's rules
(:func:`.domain.normalise_body`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from refdesk.bus import Forbidden, Invalid
from refdesk.contracts.chat import (
    PREVIEW_CHARS, InternalMessage, InternalSendAck, MessagePreview, RoomAudience, RoomView,
)

NOT_IN_ROOM = "You are not in this room."


def direct_pair(operator_id: str, other_operator_id: str) -> tuple[str, str]:
    """The two members of a direct room in stored order (sorted), so the same pair
    always names the same room.

    Raises:
        Invalid: (422) both ids are the same operator.
    """
    if operator_id == other_operator_id:
        raise Invalid("You cannot open a direct chat with yourself.")
    first, second = sorted((operator_id, other_operator_id))
    return first, second


def can_see(room: RoomAudience, operator_id: str, department_ids: Iterable[str]) -> bool:
    """Whether an operator belongs to a room: All Staff → every operator; a department
    room → operators whose profile lists that department; direct → its two members."""
    if room.kind == "all_staff":
        return True
    if room.kind == "department":
        return room.department_id in set(department_ids)
    return operator_id in room.member_ids


def check_member(room: RoomAudience, operator_id: str, department_ids: Iterable[str]) -> None:
    """Raises Forbidden (403) "You are not in this room." unless :func:`can_see`."""
    if not can_see(room, operator_id, department_ids):
        raise Forbidden(NOT_IN_ROOM)


def check_department(department_id: str, department_ids: Sequence[str]) -> None:
    """Raises Forbidden (403) unless the operator's profile lists ``department_id``."""
    if department_id not in department_ids:
        raise Forbidden("You are not in that department.")


def preview_text(body: str) -> str:
    """``body`` cut to :data:`PREVIEW_CHARS` characters, ending in "…" when cut."""
    return body if len(body) <= PREVIEW_CHARS else body[:PREVIEW_CHARS - 1].rstrip() + "…"


def audience(row: Mapping[str, Any]) -> RoomAudience:
    """A room row (``id``, ``kind``, ``department_id``, ``member_a``, ``member_b``) as
    the audience its events carry."""
    members = [row["member_a"], row["member_b"]] if row["kind"] == "direct" else []
    return RoomAudience(id=row["id"], kind=row["kind"], department_id=row["department_id"], member_ids=members)


def room_view(row: Mapping[str, Any]) -> RoomView:
    """A room row joined with the viewer's marker (``last_read_seq``, ``unread``) and
    the latest message (``m_seq``, ``m_author_id``, ``m_author_name``, ``m_body``,
    ``m_sent_at``; NULL while empty) as :class:`RoomView`."""
    preview = None
    if row["m_seq"] is not None:
        preview = MessagePreview(seq=row["m_seq"], author_id=row["m_author_id"], author_name=row["m_author_name"],
                                 body=preview_text(row["m_body"]), sent_at=row["m_sent_at"])
    room = audience(row)
    return RoomView(id=room.id, kind=room.kind, department_id=room.department_id, member_ids=room.member_ids,
                    top_seq=row["last_seq"], last_read_seq=min(row["last_read_seq"], row["last_seq"]),
                    unread=row["unread"], last_message=preview)


_KIND_ORDER = {"all_staff": 0, "department": 1, "direct": 2}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def order_rooms(rooms: Iterable[RoomView]) -> list[RoomView]:
    """All Staff first, then department rooms by department id, then direct rooms with
    the latest message first (empty ones last)."""
    def key(room: RoomView) -> tuple[int, str, float, str]:
        latest = room.last_message.sent_at if room.last_message else _EPOCH
        return _KIND_ORDER[room.kind], room.department_id or "", -latest.timestamp(), room.id
    return sorted(rooms, key=key)


def ack_for(message: InternalMessage, *, duplicate: bool) -> InternalSendAck:
    """The acknowledgement of a stored internal ``message``; ``duplicate`` marks a
    retried send answered with the original."""
    return InternalSendAck(room_id=message.room_id, cmid=message.cmid, message_id=message.id, seq=message.seq,
                           sent_at=message.sent_at, duplicate=duplicate)
