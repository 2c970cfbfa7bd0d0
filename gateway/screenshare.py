"""Fan-out of screenshare requests (in memory, no I/O): which peers get which frame.

The patron's peers get ``screenshare.offer`` for a pending request (the consent
prompt, with no link: none exists yet) and ``screenshare.update`` once it is answered —
with the meeting's ``join_url`` only when accepted, never the operator's ``host_url``.
Operators subscribed to the chat get ``screenshare.update`` with the whole request.
"""

from __future__ import annotations

from refdesk.contracts.chat import Screenshare

from .frame_base import encode
from .registry import Registry


def offer(request: Screenshare) -> str:
    """``screenshare.offer``: the patron's consent prompt (``request`` as the patron sees it)."""
    return encode("screenshare.offer", chat_id=request.chat_id, request=request.for_patron())


def update(request: Screenshare, *, patron: bool) -> str:
    """``screenshare.update``: a request's new state; for a patron without ``host_url``."""
    return encode("screenshare.update", chat_id=request.chat_id,
                  request=request.for_patron() if patron else request)


def patron_frame(request: Screenshare) -> str:
    """What a patron is sent about ``request``: the prompt while pending, else the update."""
    return offer(request) if request.state == "pending" else update(request, patron=True)


def deliver(registry: Registry, request: Screenshare) -> None:
    """Send ``request``'s frame to the chat's patron peers and to the operators
    subscribed to the chat."""
    patrons = registry.patrons(request.chat_id)
    if patrons:
        frame = patron_frame(request)
        for peer in patrons:
            peer.send(frame)
    operators = [feed.peer for feed in registry.feeds(request.chat_id) if feed.side == "operator"]
    if operators:
        frame = update(request, patron=False)
        for peer in operators:
            peer.send(frame)
