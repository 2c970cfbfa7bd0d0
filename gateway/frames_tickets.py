"""Client frames for tickets: create from a chat, list, detail, claim, assign, reply,
notes, status (``docs/protocol.md``, "Tickets"). The server pushes ``ticket.update``
(:func:`gateway.ticket_access.ticket_update`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from refdesk.contracts.tickets import MAX_BODY_CHARS, LIST_MAX, OwnerFilter, TicketStatus

from .frame_base import ClientFrame, EntityId


class TicketList(ClientFrame):
    """Tickets the operator can reach, filtered: statuses (any when empty), departments
    (any of theirs when empty), ``owner`` any/mine/unclaimed, words to find; paged."""

    type: Literal["ticket.list"]
    statuses: list[TicketStatus] = Field(default=[], max_length=4)
    department_ids: list[EntityId] = Field(default=[], max_length=100)
    owner: OwnerFilter = "any"
    text: str | None = Field(default=None, max_length=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    limit: int = Field(default=50, ge=1, le=LIST_MAX)


class TicketGet(ClientFrame):
    """A ticket with its thread (and the chat transcript it was created from) — a
    preview: it does not claim."""

    type: Literal["ticket.get"]
    ticket_id: EntityId


class TicketCreateFromChat(ClientFrame):
    """"Create ticket from this chat": for the chat's department (neither target
    given), another department, or a named operator (their queue is the chat's
    department when they belong to it, else their first)."""

    type: Literal["ticket.create_from_chat"]
    chat_id: EntityId
    department_id: EntityId | None = None
    operator_id: EntityId | None = None
    note: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _one_target(self) -> TicketCreateFromChat:
        if self.department_id is not None and self.operator_id is not None:
            raise ValueError("choose a department or an operator, not both")
        return self


class TicketClaim(ClientFrame):
    """Claim a ticket (the first claimer owns it)."""

    type: Literal["ticket.claim"]
    ticket_id: EntityId


class TicketUnclaim(ClientFrame):
    """Give a ticket back to its queue, unowned (the owner, or an admin)."""

    type: Literal["ticket.unclaim"]
    ticket_id: EntityId


class TicketAssign(ClientFrame):
    """Assign a ticket to an operator, or transfer it to a department: exactly one."""

    type: Literal["ticket.assign"]
    ticket_id: EntityId
    operator_id: EntityId | None = None
    department_id: EntityId | None = None

    @model_validator(mode="after")
    def _one_target(self) -> TicketAssign:
        if (self.operator_id is None) == (self.department_id is None):
            raise ValueError("choose either an operator or a department")
        return self


class TicketReply(ClientFrame):
    """Email a reply to the patron; ``status_after``: Submit as Pending (default),
    Closed or Open."""

    type: Literal["ticket.reply"]
    ticket_id: EntityId
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    status_after: Literal["Pending", "Closed", "Open"] = "Pending"


class TicketNote(ClientFrame):
    """An internal note: staff only, never emailed."""

    type: Literal["ticket.note"]
    ticket_id: EntityId
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)


class TicketStatusSet(ClientFrame):
    """Set a ticket's status by hand (Open, Pending, Closed)."""

    type: Literal["ticket.status"]
    ticket_id: EntityId
    status: TicketStatus


FRAMES: tuple[type[ClientFrame], ...] = (
    TicketList, TicketGet, TicketCreateFromChat, TicketClaim, TicketUnclaim, TicketAssign, TicketReply, TicketNote,
    TicketStatusSet,
)
"""This area's client frame models, gathered by :mod:`gateway.frames`."""
