"""Contracts of the tickets service: questions answered later, by email (LibAnswers
tickets, ``docs/protocol.md`` § Tickets).

A ticket belongs to one department (its queue) and moves through the statuses
``New → Open → Pending → Closed``:

* **New** — the patron has had no reply yet;
* **Open** — someone acted on it (a reply submitted as Open, an internal note, an
  assignment) or the patron wrote again, and more follow-up is needed;
* **Pending** — a reply was emailed and the patron's answer is awaited;
* **Closed** — nothing more is expected (a patron's email reopens it).

Request/reply subjects (``nats.micro`` service ``tickets``):

==========================  ========================  ================================
subject                     request                   reply
==========================  ========================  ================================
rd.tickets.health           Empty                     Ok
rd.tickets.create_from_chat CreateFromChatRequest     TicketView
rd.tickets.create_offline   CreateOfflineRequest      TicketView (a retry with the same
                                                      ``request_id``: the same ticket)
rd.tickets.list             ListRequest               TicketList
rd.tickets.get              TicketRef                 TicketDetail (404)
rd.tickets.claim            ClaimRequest              TicketView (409 owned by another)
rd.tickets.unclaim          UnclaimRequest            TicketView (403 not the owner)
rd.tickets.assign           AssignRequest             TicketView
rd.tickets.reply            ReplyRequest              TicketDetail (409 no email)
rd.tickets.note             NoteRequest               TicketDetail
rd.tickets.set_status       SetStatusRequest          TicketView (422 back to New)
==========================  ========================  ================================

Email: replies and the offline form's confirmation are sent through the shared mail
outbox with ``Reply-To: ticket+<ticket id>.<secret>@<ticket_reply_domain>`` and a
``Message-ID`` of their own; internal notes are never emailed. The service's inbound
SMTP server (``inbound_smtp_host:inbound_smtp_port``) threads a patron's emailed
answer back into its ticket by that address (or by ``In-Reply-To``/``References``)
and reopens the ticket.

Events (JetStream stream ``TICKETS_EVENTS`` on ``rd.ev.tickets.>``):
``rd.ev.tickets.ticket.<ticket_id>.<created|updated>`` carry :class:`TicketEvent`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, EmailStr, Field, model_validator

from ..text import clean_text
from .common import EventEnvelope, Reply, Request
from .mail import MailStatus
from .queue import DepartmentId, PageUrl, PatronName, Question, RequestId

SERVICE = "tickets"
STREAM = "TICKETS_EVENTS"
STREAM_SUBJECTS = ["rd.ev.tickets.>"]

HEALTH = "rd.tickets.health"
CREATE_FROM_CHAT = "rd.tickets.create_from_chat"
CREATE_OFFLINE = "rd.tickets.create_offline"
LIST = "rd.tickets.list"
GET = "rd.tickets.get"
CLAIM = "rd.tickets.claim"
UNCLAIM = "rd.tickets.unclaim"
ASSIGN = "rd.tickets.assign"
REPLY = "rd.tickets.reply"
NOTE = "rd.tickets.note"
SET_STATUS = "rd.tickets.set_status"

TicketStatus = Literal["New", "Open", "Pending", "Closed"]
TICKET_STATUSES: tuple[TicketStatus, ...] = ("New", "Open", "Pending", "Closed")
MessageKind = Literal["patron", "reply", "internal_note", "system"]
"""``patron``: the question or an emailed answer; ``reply``: staff → patron by email;
``internal_note``: staff only, never emailed; ``system``: "Ana claimed this ticket." …"""
TicketEventType = Literal["created", "updated"]
OwnerFilter = Literal["any", "mine", "unclaimed"]

MAX_BODY_CHARS = 20_000
"""Longest reply, note or stored patron email body, in characters."""
MAX_TRANSCRIPT_LINES = 500
"""Most chat messages a ticket created from a chat keeps."""
LIST_MAX = 100
"""Most tickets one list answer holds (``limit``)."""

Body = Annotated[str, Field(min_length=1, max_length=MAX_BODY_CHARS), AfterValidator(clean_text)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def ticket_event_subject(ticket_id: str, event: TicketEventType) -> str:
    """``rd.ev.tickets.ticket.<ticket_id>.<created|updated>``."""
    return f"rd.ev.tickets.ticket.{ticket_id}.{event}"


class TranscriptLine(Reply):
    """One chat message kept with a ticket created from a chat (staff-side only).

    Attributes:
        author_kind: ``patron``, ``operator`` or ``system``.
        internal: true for a message the patron never saw (a staff-only remark);
            such lines are shown to staff in the note style and never emailed.
        sent_at: UTC.
    """

    author_kind: Literal["patron", "operator", "system"]
    author_name: str = Field(max_length=200)
    body: str = Field(max_length=MAX_BODY_CHARS)
    sent_at: datetime
    internal: bool = False


class TicketView(Reply):
    """A ticket as the dashboard lists it. Times are aware UTC datetimes.

    Attributes:
        department_id / department_name: the queue the ticket is in now.
        chat_id: the chat it was created from (``None`` for the offline form).
        owner_operator_id / owner_operator_name: who claimed it or was assigned it
            (``None``: unclaimed).
        assigned_department: name of the department the ticket was last transferred
            to by an assignment (``None`` if it never moved).
        last_message_from: ``patron`` or ``staff`` — who wrote last (notes and
            system lines do not count).
        message_count: messages in the thread (notes and system lines included).
    """

    id: str
    department_id: str
    department_name: str
    status: TicketStatus
    subject: str
    patron_name: str
    patron_email: str | None = None
    question: str
    chat_id: str | None = None
    owner_operator_id: str | None = None
    owner_operator_name: str | None = None
    assigned_department: str | None = None
    created_at: datetime
    updated_at: datetime
    last_message_from: Literal["patron", "staff"] = "patron"
    message_count: int = 0


class TicketMessage(Reply):
    """One entry of a ticket's thread.

    Attributes:
        kind: see :data:`MessageKind`.
        author: the patron's name or the operator's nickname (``system``: "refdesk").
        mail_status: for an emailed ``reply`` (and the offline form's confirmation
            line): the mail outbox's status — ``queued``, ``retrying``, ``sent`` or
            ``failed`` (:data:`refdesk.contracts.mail.MailStatus`); ``None`` otherwise.
        mail_id: the mail outbox id of that email, or ``None``.
        sent_at: UTC.
    """

    id: str
    ticket_id: str
    kind: MessageKind
    author: str
    author_id: str | None = None
    body: str
    sent_at: datetime
    mail_status: MailStatus | None = None
    mail_id: str | None = None


class TicketDetail(Reply):
    """A ticket with its whole thread, oldest first, and (created from a chat) the
    chat transcript."""

    ticket: TicketView
    messages: list[TicketMessage]
    transcript: list[TranscriptLine] = []


class TicketList(Reply):
    """A page of tickets, most recently updated first.

    Attributes:
        total: tickets matching the filters in all.
        counts: tickets per status in the caller's scope (ignoring the filters), for
            the tab's badge (New + Open).
    """

    tickets: list[TicketView]
    total: int
    counts: dict[str, int] = {}


class Actor(Request):
    """Base of staff actions: who acts (the gateway has authorised them)."""

    operator_id: str = Field(min_length=1, max_length=64)
    operator_name: Name


class CreateFromChatRequest(Actor):
    """"Create ticket from this chat" (LibChat follow-up): the patron's contact, the
    question and the transcript go into a ticket for a department's queue — and, when
    ``owner_operator_id`` is given, owned by that operator.

    Attributes:
        department_id / department_name: the target queue (the chat's own, or another).
        owner_operator_id / owner_operator_name: a named operator to own it.
        note: an optional internal note from the creating operator (never emailed).
        transcript: the chat's messages, oldest first (at most
            :data:`MAX_TRANSCRIPT_LINES`).
    """

    chat_id: str = Field(min_length=1, max_length=64)
    department_id: DepartmentId
    department_name: Name
    owner_operator_id: str | None = Field(default=None, max_length=64)
    owner_operator_name: str | None = Field(default=None, max_length=200)
    patron_name: PatronName
    patron_email: EmailStr | None = None
    question: Question
    note: str | None = Field(default=None, max_length=MAX_BODY_CHARS)
    transcript: list[TranscriptLine] = Field(default=[], max_length=MAX_TRANSCRIPT_LINES)


class CreateOfflineRequest(Request):
    """The widget's offline form (nobody monitors the department): a New ticket and
    a confirmation email to the patron.

    Attributes:
        request_id: chosen by the widget and resent on retries: a retry answers the
            ticket the first attempt created (no second ticket, no second email).
    """

    department_id: DepartmentId
    department_name: Name
    patron_name: PatronName
    patron_email: EmailStr
    question: Question
    page_url: PageUrl = None
    request_id: RequestId = None


class ListRequest(Request):
    """Tickets visible to a caller, filtered.

    Attributes:
        scope_department_ids: departments whose tickets the caller sees (``None``: all,
            for admins).
        viewer_id: the caller; tickets they own are visible whatever their department,
            and ``owner="mine"`` means theirs.
        statuses / department_ids: filters (empty: any).
        owner: ``any``, ``mine`` or ``unclaimed``.
        text: words to find in the subject, question, patron name or email.
        offset / limit: paging (limit at most :data:`LIST_MAX`).
    """

    scope_department_ids: list[str] | None = Field(default=None, max_length=200)
    viewer_id: str | None = None
    statuses: list[TicketStatus] = []
    department_ids: list[str] = Field(default=[], max_length=200)
    owner: OwnerFilter = "any"
    text: str | None = Field(default=None, max_length=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    limit: int = Field(default=50, ge=1, le=LIST_MAX)


class TicketRef(Request):
    """One ticket by id (404 if unknown)."""

    ticket_id: str = Field(min_length=1, max_length=64)


class ClaimRequest(Actor):
    """Claim a ticket: the first claimer becomes its owner; a claim of a ticket owned
    by someone else is ``409`` "Already claimed by ⟨name⟩."; claiming one's own is a
    no-op."""

    ticket_id: str = Field(min_length=1, max_length=64)


class UnclaimRequest(Actor):
    """Return a ticket to unowned: by its owner, or anyone when ``force`` (admins)."""

    ticket_id: str = Field(min_length=1, max_length=64)
    force: bool = False


class AssignRequest(Actor):
    """Assign (transfer) a ticket to an operator or to another department — exactly
    one of ``to_operator_id`` / ``to_department_id``. To an operator: they own it; to
    a department: it moves to that queue unowned. A New ticket becomes Open."""

    ticket_id: str = Field(min_length=1, max_length=64)
    to_operator_id: str | None = Field(default=None, max_length=64)
    to_operator_name: str | None = Field(default=None, max_length=200)
    to_department_id: str | None = Field(default=None, max_length=64)
    to_department_name: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_target(self) -> AssignRequest:
        if (self.to_operator_id is None) == (self.to_department_id is None):
            raise ValueError("name either an operator or a department to assign the ticket to")
        if self.to_operator_id is not None and not self.to_operator_name:
            raise ValueError("to_operator_name is required with to_operator_id")
        if self.to_department_id is not None and not self.to_department_name:
            raise ValueError("to_department_name is required with to_department_id")
        return self


class ReplyRequest(Actor):
    """Email a reply to the patron and set the status after it (Submit as Pending —
    the default —, Closed or Open). An unowned ticket becomes the replier's.
    ``409`` when the patron left no email address."""

    ticket_id: str = Field(min_length=1, max_length=64)
    body: Body
    status_after: Literal["Pending", "Closed", "Open"] = "Pending"


class NoteRequest(Actor):
    """Add an internal note (staff only, never emailed); a New ticket becomes Open."""

    ticket_id: str = Field(min_length=1, max_length=64)
    body: Body


class SetStatusRequest(Actor):
    """Set a ticket's status by hand (Open, Pending or Closed; back to New is ``422``)."""

    ticket_id: str = Field(min_length=1, max_length=64)
    status: TicketStatus


class TicketEvent(EventEnvelope):
    """Event ``rd.ev.tickets.ticket.<id>.<created|updated>``: a ticket was created, or
    changed (status, owner, department, a new message). Analytics counts a chat as
    ticketed from a ``created`` event whose ``ticket.chat_id`` is set."""

    type: TicketEventType
    ticket: TicketView
