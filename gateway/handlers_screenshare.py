"""Handlers for screenshare requests with the patron's consent (LibraryH3lp: the
operator sees the patron's screen only after the patron agrees; LibChat: a Zoom
meeting).

Each handler authorises its frame, asks the owning service and returns the ``reply``
data (see :mod:`gateway.handlers`). The chat service publishes each request and
answer; :mod:`gateway.screenshare` fans them out (the hub routes them).
"""

from __future__ import annotations

from typing import Any

from refdesk.bus import Conflict, Forbidden
from refdesk.contracts.chat import (
    SCREENSHARE_ANSWER, SCREENSHARE_GET, SCREENSHARE_REQUEST, Screenshare, ScreenshareAnswer, ScreenshareLatest,
    ScreenshareLookup, ScreenshareRequest,
)

from . import policy
from .frames_screenshare import ScreenshareAsk, ScreenshareGet, ScreenshareReply
from .policy import PatronIdentity
from .session import Handler, Session

NOT_ACTIVE = "Screensharing is only possible while the chat is active."
TRANSFER_LOCKED = "A transfer is under way; cancel it to ask the patron to share their screen."
"""The answer to the owner asking while their transfer of the chat is open (the chat
is locked for them, as for ``chat.send``)."""


async def screenshare_request(session: Session, frame: ScreenshareAsk) -> Screenshare:
    """``screenshare.request``: the owning operator of an active chat asks; the patron
    is sent ``screenshare.offer`` (Accept / Decline, no link). Asking again while a
    request is pending answers that one. ``403`` for anyone but the owner, ``409``
    when the chat is not active or while the owner's transfer of it is open
    (:data:`TRANSFER_LOCKED`)."""
    operator = session.operator
    profile = session.profile
    chat = await session.chat(frame.chat_id)
    policy.check_owner(operator, chat)
    if chat.state != "active":
        raise Conflict(NOT_ACTIVE)
    if chat.transfer is not None:
        raise Conflict(TRANSFER_LOCKED)
    request = ScreenshareRequest(chat_id=chat.id, operator_id=operator.operator_id,
                                 operator_name=profile.nickname[:100])
    return await session.call(SCREENSHARE_REQUEST, request, Screenshare)


async def screenshare_answer(session: Session, frame: ScreenshareReply) -> Screenshare:
    """``screenshare.answer``: the patron accepts or declines; the decision is recorded
    in the chat and both sides get ``screenshare.update`` (the link only on accept).
    Answers the request as the patron sees it (no host link). ``403`` for operators,
    ``409`` when the chat is no longer active or the request was answered otherwise."""
    identity = session.identity
    if not isinstance(identity, PatronIdentity):
        raise Forbidden("Only the patron can answer a screenshare request.")
    chat = await session.chat(frame.chat_id)
    if chat.state != "active":
        raise Conflict(NOT_ACTIVE)
    answer = ScreenshareAnswer(chat_id=chat.id, request_id=frame.request_id, accept=frame.accept,
                               patron_name=identity.name[:100])
    return (await session.call(SCREENSHARE_ANSWER, answer, Screenshare)).for_patron()


async def screenshare_get(session: Session, frame: ScreenshareGet) -> dict[str, Any]:
    """``screenshare.get``: ``{"request": …}`` — the chat's latest request, or null.
    Once the chat is no longer active, a pending request is left out for everyone and
    the patron gets none at all (no stale prompt or link); a patron never gets the
    host link."""
    chat = await session.chat(frame.chat_id)
    latest = (await session.call(SCREENSHARE_GET, ScreenshareLookup(chat_id=chat.id), ScreenshareLatest)).request
    patron = isinstance(session.identity, PatronIdentity)
    if latest is not None and chat.state != "active" and (patron or latest.state == "pending"):
        latest = None
    if latest is not None and patron:
        latest = latest.for_patron()
    return {"request": latest}


HANDLERS: dict[type, Handler] = {
    ScreenshareAsk: screenshare_request,
    ScreenshareReply: screenshare_answer,
    ScreenshareGet: screenshare_get,
}
"""Frame model → handler for this area, gathered by :mod:`gateway.handlers`."""
