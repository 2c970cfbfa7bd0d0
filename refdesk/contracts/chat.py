"""Contracts of the chat service: messages with per-chat sequence numbers, canned
messages, typing signals.

Request/reply subjects (``nats.micro`` service ``chat``):

======================  ===================  ==================================
subject                 request              reply
======================  ===================  ==================================
rd.chat.send            SendRequest          SendAck (a retry with the same
                                             ``cmid`` returns the original ack
                                             with ``duplicate=true``)
rd.chat.history         HistoryRequest       History (at most ``limit``
                                             messages and about
                                             ``HISTORY_PAGE_BYTES`` of JSON)
rd.chat.lifecycle       LifecycleRequest     Ok (records the transition's
                                             message, idempotently)
rd.chat.canned.list     CannedListRequest    CannedList
rd.chat.screenshare.*   ScreenshareRequest   Screenshare (``.request``; ``.answer``
                        ScreenshareAnswer    takes ScreenshareAnswer, ``.get``
                        ScreenshareLookup    ScreenshareLookup → ScreenshareLatest)
======================  ===================  ==================================

Internal Chat (operators among themselves: ``rd.chat.internal.*``) has its own section
at the end of this module.

Events: ``rd.ev.chat.msg.<chat_id>.posted`` (stream ``CHAT_EVENTS`` on
``rd.ev.chat.>``) carry :class:`MessagePosted` (internal notes included: a consumer
that shows anything to a patron filters with :func:`patron_visible`);
``rd.ev.chat.screenshare.<chat_id>.<state>`` carry :class:`ScreenshareEvent`. Typing: core NATS publish on
``rd.rt.typing.<chat_id>`` with :class:`TypingSignal` (lossy by design).

Each chat lifecycle change is recorded as a message — the patron's question, "Ana
joined the chat.", "Maya ended the chat." — so the transcript and the
sequence numbers cover the whole conversation. The gateway asks ``rd.chat.lifecycle``
right after each change (so the message comes before anything that follows it), and
the chat service also consumes ``QUEUE_EVENTS`` durably as a backstop; the message's
cmid comes from the chat and the transition, never from the event, so both paths
store it once. Recording a transition first records every earlier one the same
chat view shows (an ``ended`` chat that was claimed: the question, then "Ana joined the
chat.", then the end), and a send that carries the chat (``SendRequest.chat``) first
records what the chat's state shows — so the question is always message 1, "joined"
comes before the operator's messages and the end notice is last, whichever report
arrives first. Once the end is recorded, only such lifecycle messages are accepted:
``rd.chat.send`` answers ``409`` "This chat has ended." (a retry of a message stored
before the end still gets its original ack).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field, model_validator
from pydantic_core import to_json

from .common import EventEnvelope, Reply, Request
from .queue import ChatEventType, ChatView, TransferView

SERVICE = "chat"
STREAM = "CHAT_EVENTS"
STREAM_SUBJECTS = ["rd.ev.chat.>"]

SEND = "rd.chat.send"
HISTORY = "rd.chat.history"
LIFECYCLE = "rd.chat.lifecycle"
CANNED_LIST = "rd.chat.canned.list"

AuthorKind = Literal["patron", "operator", "system"]

MAX_BODY_CHARS = 4000
"""Longest message body, in characters, as stored (cleaned by
:func:`refdesk.text.clean_text`: trimmed, a CRLF counted as one newline)."""

MAX_SEQ = 2**53
"""Largest ``after_seq`` a history request may give (the largest integer every JSON
client reads exactly); real seqs stay far below it."""

HISTORY_PAGE_BYTES = 256 * 1024
"""Byte budget of the messages of one ``History`` page, as UTF-8 JSON: far below
NATS' 1 MiB payload limit, whatever the bodies contain. A page holds at least one
message, so a page is at most one message over the budget."""


def message_event_subject(chat_id: str) -> str:
    """``rd.ev.chat.msg.<chat_id>.posted``."""
    return f"rd.ev.chat.msg.{chat_id}.posted"


def typing_subject(chat_id: str) -> str:
    """``rd.rt.typing.<chat_id>``."""
    return f"rd.rt.typing.{chat_id}"


class SendRequest(Request):
    """Store one message.

    Attributes:
        cmid: client message id, chosen by the sender and reused on every retry;
            unique per (chat, author kind).
        body: 1–4000 characters once cleaned (:func:`refdesk.text.clean_text`;
            the gateway enforces the configured maximum).
        internal: an internal note (LibChat's "Internal Note" toggle): staff only,
            never delivered to the patron by any path — not live, not in the
            history the patron gets, not in a patron transcript or ticket reply (see
            :func:`patron_visible`). Operators and system messages only (a patron
            author is refused). A note is accepted after the chat's end too (a
            post-chat note).
        chat: the chat as the sender saw it when the send was authorised (the
            queue service's view, ``id`` = ``chat_id``), or None. Before storing the
            message the chat service records the lifecycle messages that view shows
            and that are not stored yet — the question; "⟨nickname⟩ joined the chat."
            once claimed; the end once ended — so the message never comes before
            them.

    Raises (as the endpoint's error):
        400: ``chat`` is another chat than ``chat_id``.
        409: the chat's end has been recorded ("This chat has ended."); a retry of a
            message stored before the end still gets its original ack.
        422: the body is blank or too long once cleaned.
    """

    chat_id: str = Field(min_length=1, max_length=64)
    cmid: str = Field(min_length=1, max_length=100)
    author_kind: AuthorKind
    author_id: str | None = None
    author_name: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    chat: ChatView | None = None
    internal: bool = False

    @model_validator(mode="after")
    def _chat_is_this_chat(self) -> SendRequest:
        if self.chat is not None and self.chat.id != self.chat_id:
            raise ValueError("chat must be the chat the message is sent to")
        if self.internal and self.author_kind == "patron":
            raise ValueError("a patron cannot write an internal note")
        return self


class Message(Reply):
    """A stored message. ``seq`` is 1, 2, 3 … within the chat, assigned in the
    transaction that stored it; ``sent_at`` is UTC. ``internal`` marks an internal
    note (or an internal system record such as a dismissal): staff only, never shown
    to the patron — the patron's history and live feed skip its seq."""

    id: str
    chat_id: str
    seq: int
    cmid: str
    author_kind: AuthorKind
    author_id: str | None = None
    author_name: str
    body: str
    sent_at: datetime
    internal: bool = False


def patron_visible(messages: Iterable[Message]) -> list[Message]:
    """The messages a patron may see, in the given order: every message except
    internal notes (``internal``). Everything that shows a chat to a patron — the
    patron's transcript email, a ticket reply quoting the chat — filters with this
    (LibChat: internal notes appear only in the librarian's transcript)."""
    return [message for message in messages if not message.internal]


def json_bytes(message: Message | InternalMessage) -> int:
    """Size of ``message`` (a chat's or an internal room's) as UTF-8 JSON, in bytes
    (what it adds to a history reply or frame, give or take a comma)."""
    return len(to_json(message))


class SendAck(Reply):
    """The answer to a send: where the message stands in the chat. A retry with the
    same ``cmid`` gets the original ack with ``duplicate=true``."""

    chat_id: str
    cmid: str
    message_id: str
    seq: int
    sent_at: datetime
    duplicate: bool = False


class HistoryRequest(Request):
    """Messages with ``seq > after_seq`` (0 ≤ ``after_seq`` ≤ :data:`MAX_SEQ`), oldest
    first, at most ``limit``. Internal notes are left out (filtered in SQL) unless
    ``include_internal`` — only staff views ask for them, so the patron's history
    has gaps in its seqs where notes are."""

    chat_id: str
    after_seq: int = Field(default=0, ge=0, le=MAX_SEQ)
    limit: int = Field(default=200, ge=1, le=1000)
    include_internal: bool = False


class History(Reply):
    """``top_seq`` is the chat's latest seq (0 when empty); ``more`` is true when
    messages were left out — beyond ``limit``, or beyond the page's byte budget
    (:data:`HISTORY_PAGE_BYTES`): ask again after the last seq received."""

    chat_id: str
    messages: list[Message]
    top_seq: int
    more: bool = False


class LifecycleRequest(Request):
    """Record the message of a chat lifecycle change (``rd.chat.lifecycle``).

    Attributes:
        type: the transition: ``queued`` stores the patron's question (cmid
            ``ev:question``), ``claimed`` "⟨nickname⟩ joined the chat." (cmid
            ``ev:claimed:<claimed_at, UTC ISO-8601>``), ``ended`` "⟨name⟩ ended the
            chat." (cmid ``ev:ended``, and no patron or operator message is
            accepted after it); ``dismissed`` the internal record "⟨nickname⟩
            dismissed the chat. Note: …" (cmid ``ev:dismissed``, which ends the
            chat the same way); ``closed`` adds no message of its own.
        chat: the chat right after the change, as the queue service answered it.

    Every earlier transition ``chat`` shows is recorded first, if it is not yet
    (``claimed`` → the question, then "joined"; ``ended``/``closed`` → the question,
    "joined" if the chat was claimed, then the end). Replies ``Ok``; recording the
    same transition again changes nothing.

    Transfers (``transfer`` given: the transfer concerned, as
    :attr:`~refdesk.contracts.queue.ChatEvent.transfer`): ``transfer_requested`` "Ana
    is transferring your chat to Ben — please stay here.", ``transfer_accepted`` "Ben
    accepted the transfer and will join shortly.", ``transfer_declined`` /
    ``transfer_cancelled`` "Ana is still with you.", and ``claimed`` completing a
    transfer "Ben joined the chat." (plus "Ana left the chat." unless she stayed) —
    cmids ``ev:transfer:<transfer id>:<step>``.
    """

    type: ChatEventType
    chat: ChatView
    transfer: TransferView | None = None


class CannedListRequest(Request):
    """The canned messages of one department."""

    department_id: str


class CannedMessage(Reply):
    """A canned message of a department; ``is_welcome`` marks the greeting an
    operator sends right after claiming."""

    id: str
    department_id: str
    title: str
    body: str
    is_welcome: bool = False


class CannedList(Reply):
    """Canned messages, the welcome one first, then by position."""

    messages: list[CannedMessage]


class MessagePosted(EventEnvelope):
    """Event ``rd.ev.chat.msg.<chat_id>.posted``: a message was stored (once per
    message; retries publish nothing)."""

    type: Literal["posted"] = "posted"
    message: Message


class TypingSignal(Reply):
    """Ephemeral ``rd.rt.typing.<chat_id>`` signal: someone started
    (``typing=true``) or stopped typing. Lossy by design."""

    chat_id: str
    author_kind: Literal["patron", "operator"]
    author_name: str
    typing: bool


# --- screenshare with the patron's consent -----------------------------------------

SCREENSHARE_REQUEST = "rd.chat.screenshare.request"
SCREENSHARE_ANSWER = "rd.chat.screenshare.answer"
SCREENSHARE_GET = "rd.chat.screenshare.get"

ScreenshareState = Literal["pending", "accepted", "declined"]


def screenshare_event_subject(chat_id: str, state: ScreenshareState) -> str:
    """``rd.ev.chat.screenshare.<chat_id>.<pending|accepted|declined>`` (stream
    ``CHAT_EVENTS``), carrying :class:`ScreenshareEvent`."""
    return f"rd.ev.chat.screenshare.{chat_id}.{state}"


class ScreenshareRequest(Request):
    """``rd.chat.screenshare.request``: the chat's owner asks the patron to share their
    screen (LibraryH3lp: the operator views the patron's screen only after explicit
    consent). While one request of the chat is pending, asking again answers that one.
    No meeting link exists yet: it is made when the patron accepts."""

    chat_id: str = Field(min_length=1, max_length=64)
    operator_id: str = Field(min_length=1, max_length=64)
    operator_name: str = Field(min_length=1, max_length=100)


class ScreenshareAnswer(Request):
    """``rd.chat.screenshare.answer``: the patron accepts or declines a pending request.
    Accepting makes the meeting link; either way the decision is recorded in the chat as
    a system message ("Pat accepted the screenshare request."). ``409`` when the request
    was already answered (with the same decision again: the same answer, idempotently);
    ``404`` for an unknown request of that chat."""

    chat_id: str = Field(min_length=1, max_length=64)
    request_id: str = Field(min_length=1, max_length=64)
    accept: bool
    patron_name: str = Field(min_length=1, max_length=100)


class ScreenshareLookup(Request):
    """``rd.chat.screenshare.get``: the chat's latest screenshare request, if any
    (a reloaded widget finds its pending prompt again)."""

    chat_id: str = Field(min_length=1, max_length=64)


class Screenshare(Reply):
    """One screenshare request.

    Attributes:
        state: ``pending`` (waiting for the patron), ``accepted`` or ``declined``.
        join_url: the meeting link both sides open; ``None`` unless accepted.
        host_url: the operator's own link (Zoom's ``start_url``; the same as
            ``join_url`` for a plain room link). Staff only: the gateway never sends it
            to a patron.
        provider: ``link`` (``settings.screenshare_url_template``) or ``zoom``.
        requested_at, answered_at: UTC.
    """

    id: str
    chat_id: str
    state: ScreenshareState
    operator_id: str
    operator_name: str
    requested_at: datetime
    answered_at: datetime | None = None
    join_url: str | None = None
    host_url: str | None = None
    provider: str | None = None

    def for_patron(self) -> Screenshare:
        """This request as the patron may see it: without the operator's ``host_url``."""
        return self.model_copy(update={"host_url": None})


class ScreenshareLatest(Reply):
    """The chat's latest screenshare request, or ``None``."""

    request: Screenshare | None = None


class ScreenshareEvent(EventEnvelope):
    """Event ``rd.ev.chat.screenshare.<chat_id>.<state>``: a request was made or
    answered."""

    type: ScreenshareState
    request: Screenshare


# =====================================================================================
# Internal chat (operators among themselves; LibChat's "Internal Chat")
# =====================================================================================
#
# Rooms: ``all_staff`` (one, every operator), ``department`` (one standing room per
# department id, created on first use, for the operators whose profile lists that
# department) and ``direct`` (exactly two operators; the same pair always gets the same
# room). Messages have a per-room ``seq`` (1, 2, 3 …) assigned in the storing
# transaction, and a retried send (same room, author, ``cmid``) answers the original
# ack with ``duplicate=true`` — the same rules as patron chat messages, bodies cleaned
# the same way. A read marker per (room, operator) gives the unread counts.
#
# Every request names the asking operator and the departments their profile lists
# (the gateway passes them); the service answers 403 "You are not in this room." when
# the room is not theirs.
#
# ==============================  ======================  ==============================
# subject                         request                 reply
# ==============================  ======================  ==============================
# rd.chat.internal.rooms          InternalRoomsRequest    InternalRoomList
# rd.chat.internal.open           InternalOpenRequest     RoomView (403, 422)
# rd.chat.internal.send           InternalSendRequest     InternalSendAck (403, 404, 422)
# rd.chat.internal.history        InternalHistoryRequest  InternalHistory (403, 404)
# rd.chat.internal.read           InternalReadRequest     RoomView (403, 404)
# ==============================  ======================  ==============================
#
# Events: ``rd.ev.chat.internal.<room_id>.posted`` (stream ``CHAT_EVENTS``) carry
# :class:`InternalMessagePosted`, through the outbox, once per stored message.

INTERNAL_ROOMS = "rd.chat.internal.rooms"
INTERNAL_OPEN = "rd.chat.internal.open"
INTERNAL_SEND = "rd.chat.internal.send"
INTERNAL_HISTORY = "rd.chat.internal.history"
INTERNAL_READ = "rd.chat.internal.read"

RoomKind = Literal["all_staff", "department", "direct"]

PREVIEW_CHARS = 140
"""Longest body of a room's last-message preview, in characters (cut with "…")."""


def internal_event_subject(room_id: str) -> str:
    """``rd.ev.chat.internal.<room_id>.posted``."""
    return f"rd.ev.chat.internal.{room_id}.posted"


class Viewer(Request):
    """Who asks: the operator's id and the department ids their profile lists (the
    gateway fills both from the signed-in operator's current profile)."""

    operator_id: str = Field(min_length=1, max_length=64)
    department_ids: list[str] = Field(default=[], max_length=200)


class InternalMessage(Reply):
    """A stored internal message; ``seq`` is 1, 2, 3 … within the room; ``sent_at`` UTC."""

    id: str
    room_id: str
    seq: int
    cmid: str
    author_id: str
    author_name: str
    body: str
    sent_at: datetime


class MessagePreview(Reply):
    """A room's latest message, its body cut to :data:`PREVIEW_CHARS`."""

    seq: int
    author_id: str
    author_name: str
    body: str
    sent_at: datetime


class RoomView(Reply):
    """An internal room as one operator sees it.

    Attributes:
        kind: ``all_staff``, ``department`` or ``direct``.
        department_id: the department of a ``department`` room, else None.
        member_ids: the two operators of a ``direct`` room (sorted), else empty.
        top_seq: the room's latest seq (0 while empty).
        last_read_seq: where this operator's read marker stands.
        unread: messages after the marker written by others.
        last_message: preview of the latest message, None while empty.
    """

    id: str
    kind: RoomKind
    department_id: str | None = None
    member_ids: list[str] = []
    top_seq: int = 0
    last_read_seq: int = 0
    unread: int = 0
    last_message: MessagePreview | None = None


class RoomAudience(Reply):
    """Whose a room is (carried by events, so the gateway can fan a message out
    without asking): every operator (``all_staff``), the members of
    ``department_id``, or the two ``member_ids``."""

    id: str
    kind: RoomKind
    department_id: str | None = None
    member_ids: list[str] = []


class InternalRoomsRequest(Viewer):
    """The operator's rooms: All Staff, the standing room of each of their
    departments (created on first use) and their direct rooms."""


class InternalRoomList(Reply):
    """All Staff first, then department rooms by department id, then direct rooms,
    latest activity first."""

    rooms: list[RoomView]


class InternalOpenRequest(Viewer):
    """Open the direct room with ``other_operator_id`` (which the gateway has checked
    exists; not the asker: 422) or the standing room of ``department_id`` (one of
    ``department_ids``: 403 otherwise) — exactly one of the two (422). Created on
    first use; the same pair or department always gets the same room."""

    other_operator_id: str | None = Field(default=None, min_length=1, max_length=64)
    department_id: str | None = Field(default=None, min_length=1, max_length=64)


class InternalSendRequest(Viewer):
    """Store one message in a room the operator is in.

    Attributes:
        cmid: chosen by the client, reused on retries; unique per (room, author).
        author_name: the operator's nickname as shown.
        body: 1–4000 characters once cleaned (:func:`refdesk.text.clean_text`).
    """

    room_id: str = Field(min_length=1, max_length=64)
    cmid: str = Field(min_length=1, max_length=100)
    author_name: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)


class InternalSendAck(Reply):
    """Where the message stands in the room (``duplicate`` for a retried cmid)."""

    room_id: str
    cmid: str
    message_id: str
    seq: int
    sent_at: datetime
    duplicate: bool = False


class InternalHistoryRequest(Viewer):
    """Messages of a room, oldest first, at most ``limit``: with ``before_seq``, the
    latest ones before it ("load earlier"); otherwise those after ``after_seq``
    (replay on reconnect)."""

    room_id: str = Field(min_length=1, max_length=64)
    after_seq: int = Field(default=0, ge=0, le=MAX_SEQ)
    before_seq: int | None = Field(default=None, ge=1, le=MAX_SEQ)
    limit: int = Field(default=50, ge=1, le=1000)


class InternalHistory(Reply):
    """``more``: with ``before_seq``, earlier messages remain before the first one;
    otherwise later ones remain after the last (limit or byte budget
    :data:`HISTORY_PAGE_BYTES`)."""

    room_id: str
    messages: list[InternalMessage]
    top_seq: int
    more: bool = False


class InternalReadRequest(Viewer):
    """Move the operator's read marker of a room to ``seq`` (never back; capped at the
    room's top seq)."""

    room_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=0, le=MAX_SEQ)


class InternalMessagePosted(EventEnvelope):
    """Event ``rd.ev.chat.internal.<room_id>.posted``: a message was stored in a room."""

    type: Literal["posted"] = "posted"
    message: InternalMessage
    room: RoomAudience


# =====================================================================================
# Transcripts by email (LibChat's "Email Patron Transcript" / "Email Librarian Transcript")
# =====================================================================================
#
# ==========================  ========================  ==================================
# subject                     request                   reply
# ==========================  ========================  ==================================
# rd.chat.transcript.email    TranscriptEmailRequest    MailView (queued; 404 no messages)
# rd.chat.transcript.mails    TranscriptMailsRequest    MailList (the chat's mails, newest
#                                                       first, with their status)
# rd.chat.transcript.retry    TranscriptRetryRequest    MailView (404; 409 not failed)
# ==========================  ========================  ==================================
#
# The mail goes through the chat service's mail outbox (:mod:`refdesk.mail`); its
# status changes are events ``rd.ev.chat.mail.<mail_id>.<status>``
# (:class:`refdesk.contracts.mail.MailStatusEvent`). The gateway checks who may ask.

TRANSCRIPT_EMAIL = "rd.chat.transcript.email"
TRANSCRIPT_MAILS = "rd.chat.transcript.mails"
TRANSCRIPT_RETRY = "rd.chat.transcript.retry"

TranscriptKind = Literal["patron", "librarian"]
"""``patron``: operator nicknames, no internal notes, no system messages.
``librarian``: operators' full names, system messages and internal notes (marked)."""


class TranscriptEmailRequest(Request):
    """Email a chat's transcript (``rd.chat.transcript.email``).

    Attributes:
        chat: the chat as the queue service shows it now (the gateway fetched it).
        kind: see :data:`TranscriptKind`.
        to: the address to send it to.
        requested_by: the operator who asked (they get ``mail.status``), or None when
            the patron asked for their own transcript.
    """

    chat: ChatView
    kind: TranscriptKind
    to: EmailStr
    requested_by: str | None = Field(default=None, max_length=64)


class TranscriptMailsRequest(Request):
    """The transcript mails of one chat (``rd.chat.transcript.mails``)."""

    chat_id: str = Field(min_length=1, max_length=64)


class TranscriptRetryRequest(Request):
    """Retry a failed transcript mail of ``chat_id`` now (``rd.chat.transcript.retry``;
    404 when the mail is not one of this chat's)."""

    chat_id: str = Field(min_length=1, max_length=64)
    mail_id: str = Field(min_length=1, max_length=64)
