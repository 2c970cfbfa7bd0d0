"""Fan-out of Internal Chat messages to the sockets of the operators a room belongs to
(in memory, no I/O).

A room message (event ``rd.ev.chat.internal.<room_id>.posted``) goes to every
connected socket of the room's audience: every operator for All Staff, the operators
whose current profile lists the department for a department room, the two members of
a direct room. A socket subscribed to the room (``internal.subscribe``) receives it
through its feed — each seq once, after its replay; any other socket of the audience
receives it directly, so an operator learns of a new direct room or an unread message
in a room their dashboard has not subscribed to yet.
"""

from __future__ import annotations

from refdesk.contracts.chat import InternalMessage, RoomAudience

from .frames_internal import internal_message
from .registry import Peer, Registry

FEED_PREFIX = "internal:"
"""Registry feed keys of rooms are this prefix + the room id (never a chat id)."""


def feed_key(room_id: str) -> str:
    """The registry feed key of a room's subscriptions."""
    return FEED_PREFIX + room_id


def audience(registry: Registry, room: RoomAudience) -> set[Peer]:
    """The connected peers of the operators ``room`` belongs to."""
    if room.kind == "direct":
        return registry.operator_peers(room.member_ids)
    if room.kind == "all_staff":
        return registry.operator_peers()
    members = []
    for operator_id in registry.operator_ids():
        profile = registry.profile(operator_id)
        if profile is not None and any(department.id == room.department_id for department in profile.departments):
            members.append(operator_id)
    return registry.operator_peers(members)


def deliver(registry: Registry, room: RoomAudience, message: InternalMessage) -> None:
    """Send ``internal.message`` to ``room``'s audience: through a peer's feed of the
    room when it has one (no duplicate, no message before its replay), directly
    otherwise."""
    peers = audience(registry, room)
    if not peers:
        return
    frame = internal_message(message)
    feeds = {feed.peer: feed for feed in registry.feeds(feed_key(room.id))}
    for peer in peers:
        feed = feeds.get(peer)
        if feed is not None:
            feed.offer(message.seq, frame)
        else:
            peer.send(frame)
