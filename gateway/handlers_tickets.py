"""Handlers for tickets: create from a chat, list, detail, claim, assign, reply, notes.

Each handler authorises its frame (:mod:`gateway.ticket_access`: members of the
ticket's department, its owner, admins), asks the tickets service and returns the
``reply`` data (see :mod:`gateway.handlers`). The service's ``ticket.update`` events
reach every operator who can see the ticket through the hub.
"""

from __future__ import annotations

from pydantic import ValidationError

from refdesk.bus import Invalid, NotFound
from refdesk.contracts import tickets as t
from refdesk.contracts.chat import Message
from refdesk.contracts.common import Empty
from refdesk.contracts.queue import (
    DEPARTMENTS, OPERATOR_GET, Department, DepartmentList, OperatorProfile, OperatorRef,
)
from refdesk.text import clean_text

from . import ticket_access
from .frames_tickets import (
    TicketAssign, TicketClaim, TicketCreateFromChat, TicketGet, TicketList, TicketNote, TicketReply,
    TicketStatusSet, TicketUnclaim,
)
from .session import Handler, Session

TRANSCRIPT_BYTES = 384 * 1024
"""Most bytes of message text a ticket keeps from its chat (the newest lines are kept),
so the create request stays well inside a NATS message."""


def _actor(session: Session) -> dict[str, str]:
    profile = session.profile
    return {"operator_id": profile.id, "operator_name": profile.nickname}


async def _ticket(session: Session, ticket_id: str) -> t.TicketDetail:
    """The ticket if this operator can reach it (``403`` otherwise, ``404`` unknown)."""
    detail = await session.call(t.GET, t.TicketRef(ticket_id=ticket_id), t.TicketDetail)
    ticket_access.check_reach(session.profile, detail.ticket)
    return detail


async def _department(session: Session, department_id: str) -> Department:
    departments = await session.call(DEPARTMENTS, Empty(), DepartmentList)
    for department in departments.departments:
        if department.id == department_id:
            return department
    raise NotFound(f"There is no department called {department_id!r}.")


async def _operator(session: Session, operator_id: str) -> OperatorProfile:
    return await session.call(OPERATOR_GET, OperatorRef(operator_id=operator_id), OperatorProfile)


def _body(text: str, what: str) -> str:
    try:
        return clean_text(text)
    except ValueError:
        raise Invalid(f"{what} cannot be blank.") from None


# --- reading --------------------------------------------------------------------


async def ticket_list(session: Session, frame: TicketList) -> t.TicketList:
    """``ticket.list``: the tickets of the operator's departments (every department
    for admins) and those they own, filtered and paged, most recently updated first;
    ``counts`` per status over that scope (the tab's New + Open badge)."""
    profile = session.profile
    request = t.ListRequest(scope_department_ids=ticket_access.list_scope(profile), viewer_id=profile.id,
                            statuses=frame.statuses, department_ids=frame.department_ids, owner=frame.owner,
                            text=frame.text, offset=frame.offset, limit=frame.limit)
    return await session.call(t.LIST, request, t.TicketList)


async def ticket_get(session: Session, frame: TicketGet) -> t.TicketDetail:
    """``ticket.get``: the ticket, its thread and kept transcript (no claim)."""
    return await _ticket(session, frame.ticket_id)


# --- creating -------------------------------------------------------------------


async def ticket_create_from_chat(session: Session, frame: TicketCreateFromChat) -> t.TicketView:
    """``ticket.create_from_chat``: a member of the chat's department files the chat
    as a ticket — for the chat's department, another department, or a named operator
    — with the patron's contact, the question and the transcript (internal notes kept
    only as lines marked internal, never emailed). ``404`` unknown department or
    operator."""
    from .handlers import _history  # the chat replay, shared with chat.subscribe

    chat = await session.chat(frame.chat_id)
    owner: OperatorProfile | None = None
    if frame.operator_id is not None:
        owner = await _operator(session, frame.operator_id)
        member_of = [department.id for department in owner.departments]
        if not member_of:
            raise Invalid(f"{owner.nickname} belongs to no department, so they cannot be given tickets.")
        department_id = chat.department_id if chat.department_id in member_of else member_of[0]
    else:
        department_id = frame.department_id or chat.department_id
    department = await _department(session, department_id)
    messages, _, _ = await _history(session, chat.id, 0, include_internal=True)
    try:
        request = t.CreateFromChatRequest(
            **_actor(session), chat_id=chat.id, department_id=department.id, department_name=department.name,
            owner_operator_id=owner.id if owner else None, owner_operator_name=owner.nickname if owner else None,
            patron_name=chat.patron_name, patron_email=chat.patron_email, question=chat.question,
            note=frame.note, transcript=transcript_of(messages))
    except ValidationError as exc:
        raise Invalid(f"This chat cannot become a ticket: {exc.errors()[0]['msg']}.") from None
    return await session.call(t.CREATE_FROM_CHAT, request, t.TicketView)


def transcript_of(messages: list[Message]) -> list[t.TranscriptLine]:
    """The chat's messages as ticket transcript lines, oldest first: internal notes
    kept but marked ``internal`` (staff-side only); at most
    :data:`~refdesk.contracts.tickets.MAX_TRANSCRIPT_LINES` lines and
    :data:`TRANSCRIPT_BYTES` of text — the newest are kept."""
    kept: list[t.TranscriptLine] = []
    size = 0
    for message in reversed(messages):
        size += len(message.body.encode()) + len(message.author_name.encode())
        if len(kept) >= t.MAX_TRANSCRIPT_LINES or size > TRANSCRIPT_BYTES:
            break
        kept.append(t.TranscriptLine(author_kind=message.author_kind, author_name=message.author_name[:200],
                                     body=message.body[:t.MAX_BODY_CHARS], sent_at=message.sent_at,
                                     internal=message.internal))
    return list(reversed(kept))


# --- owners ---------------------------------------------------------------------


async def ticket_claim(session: Session, frame: TicketClaim) -> t.TicketView:
    """``ticket.claim``: ``409`` "Already claimed by ⟨name⟩." when someone else owns it."""
    await _ticket(session, frame.ticket_id)
    return await session.call(t.CLAIM, t.ClaimRequest(ticket_id=frame.ticket_id, **_actor(session)), t.TicketView)


async def ticket_unclaim(session: Session, frame: TicketUnclaim) -> t.TicketView:
    """``ticket.unclaim``: the owner (or an admin) returns it to its queue unowned."""
    await _ticket(session, frame.ticket_id)
    request = t.UnclaimRequest(ticket_id=frame.ticket_id, force=session.profile.is_admin, **_actor(session))
    return await session.call(t.UNCLAIM, request, t.TicketView)


async def ticket_assign(session: Session, frame: TicketAssign) -> t.TicketView:
    """``ticket.assign``: to an operator (``404`` unknown) or a department (``404``)."""
    await _ticket(session, frame.ticket_id)
    if frame.operator_id is not None:
        operator = await _operator(session, frame.operator_id)
        request = t.AssignRequest(ticket_id=frame.ticket_id, to_operator_id=operator.id,
                                  to_operator_name=operator.nickname, **_actor(session))
    else:
        department = await _department(session, frame.department_id or "")
        request = t.AssignRequest(ticket_id=frame.ticket_id, to_department_id=department.id,
                                  to_department_name=department.name, **_actor(session))
    return await session.call(t.ASSIGN, request, t.TicketView)


# --- writing --------------------------------------------------------------------


async def ticket_reply(session: Session, frame: TicketReply) -> t.TicketDetail:
    """``ticket.reply``: emailed to the patron; the status becomes ``status_after``."""
    body = _body(frame.body, "A reply")
    await _ticket(session, frame.ticket_id)
    request = t.ReplyRequest(ticket_id=frame.ticket_id, body=body, status_after=frame.status_after, **_actor(session))
    return await session.call(t.REPLY, request, t.TicketDetail)


async def ticket_note(session: Session, frame: TicketNote) -> t.TicketDetail:
    """``ticket.note``: an internal note (never emailed)."""
    body = _body(frame.body, "A note")
    await _ticket(session, frame.ticket_id)
    return await session.call(t.NOTE, t.NoteRequest(ticket_id=frame.ticket_id, body=body, **_actor(session)),
                              t.TicketDetail)


async def ticket_status(session: Session, frame: TicketStatusSet) -> t.TicketView:
    """``ticket.status``: Open, Pending or Closed by hand (``422`` back to New)."""
    await _ticket(session, frame.ticket_id)
    request = t.SetStatusRequest(ticket_id=frame.ticket_id, status=frame.status, **_actor(session))
    return await session.call(t.SET_STATUS, request, t.TicketView)


HANDLERS: dict[type, Handler] = {
    TicketList: ticket_list,
    TicketGet: ticket_get,
    TicketCreateFromChat: ticket_create_from_chat,
    TicketClaim: ticket_claim,
    TicketUnclaim: ticket_unclaim,
    TicketAssign: ticket_assign,
    TicketReply: ticket_reply,
    TicketNote: ticket_note,
    TicketStatusSet: ticket_status,
}
"""Frame model → handler for this area, gathered by :mod:`gateway.handlers`."""
