"""Contracts of the queue service: departments, operators, presence and the chat
lifecycle (queued → active → ended → closed), claims.

Request/reply subjects (``nats.micro`` service ``queue``, queue group ``q``):

=============================  ==========================  ============================
subject                        request                     reply
=============================  ==========================  ============================
rd.queue.operator.authenticate AuthenticateRequest         OperatorProfile (401 if wrong)
rd.queue.operator.get          OperatorRef                 OperatorProfile
rd.queue.operator.status       SetStatusRequest            OperatorProfile
rd.queue.operator.create       CreateOperatorRequest       OperatorProfile (409 if the
                                                           username is taken)
rd.queue.departments           Empty                       DepartmentList
rd.queue.chat.create           CreateChatRequest           ChatView (a retry with the
                                                           same request_id: the same
                                                           chat; 409 if it was used for
                                                           another request)
rd.queue.chat.get              ChatRef                     ChatView (404)
rd.queue.chat.position         ChatRef                     QueuePosition (404)
rd.queue.chat.claim            ClaimRequest                ChatView (409 lost race)
rd.queue.chat.end              EndRequest                  ChatView (409 not active)
rd.queue.chat.close            CloseRequest                ChatView
rd.queue.chat.dismiss          DismissRequest              ChatView (403 / 409)
rd.queue.board                 BoardRequest                Board (capped: ``more``)
rd.queue.chat.rate             RateRequest                 ChatView (rating set; 409 not
                                                           ended yet)
rd.queue.chat.transfer.request TransferRequest             ChatView (transfer pending)
rd.queue.chat.transfer.accept  TransferAnswer              ChatView (transfer accepted)
rd.queue.chat.transfer.decline TransferAnswer              ChatView (transfer None)
rd.queue.chat.transfer.cancel  TransferAnswer              ChatView (transfer None)
=============================  ==========================  ============================

Every reply stays far below NATS's 1 MiB message limit whatever patrons typed: the
board is cut at :data:`BOARD_MAX_BYTES` of JSON (``more: true``) and a
:class:`ChatEvent` names at most :data:`DEPARTMENT_QUEUE_IDS` queued chats.

Presence: each gateway publishes :class:`PresenceHeartbeat` on ``rd.rt.presence``
(core NATS) every ``presence_heartbeat_seconds`` with the operators who have a
dashboard connected to it. The queue service records when each was last seen and sets
an Online operator Offline (emitting the status event) once no gateway has mentioned
them for ``presence_timeout_seconds``.

The staff list (``rd.queue.operators.list``, Internal Chat's "who is online") has its
own section at the end of this module.

Events (JetStream stream ``QUEUE_EVENTS`` on ``rd.ev.queue.>``):
``rd.ev.queue.chat.<chat_id>.<queued|claimed|ended|closed>`` carry :class:`ChatEvent`;
``rd.ev.queue.operator.<operator_id>.status`` carries :class:`OperatorStatusEvent`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, EmailStr, Field, field_validator, model_validator

from ..text import clean_text, is_blank
from .common import EventEnvelope, Reply, Request

SERVICE = "queue"
STREAM = "QUEUE_EVENTS"
STREAM_SUBJECTS = ["rd.ev.queue.>"]

AUTHENTICATE = "rd.queue.operator.authenticate"
OPERATOR_GET = "rd.queue.operator.get"
OPERATOR_STATUS = "rd.queue.operator.status"
OPERATOR_CREATE = "rd.queue.operator.create"
DEPARTMENTS = "rd.queue.departments"
CHAT_CREATE = "rd.queue.chat.create"
CHAT_GET = "rd.queue.chat.get"
CHAT_POSITION = "rd.queue.chat.position"
CHAT_CLAIM = "rd.queue.chat.claim"
CHAT_END = "rd.queue.chat.end"
CHAT_CLOSE = "rd.queue.chat.close"
CHAT_DISMISS = "rd.queue.chat.dismiss"
BOARD = "rd.queue.board"
CHAT_RATE = "rd.queue.chat.rate"
TRANSFER_REQUEST = "rd.queue.chat.transfer.request"
TRANSFER_ACCEPT = "rd.queue.chat.transfer.accept"
TRANSFER_DECLINE = "rd.queue.chat.transfer.decline"
TRANSFER_CANCEL = "rd.queue.chat.transfer.cancel"
PRESENCE = "rd.rt.presence"

BOARD_MAX_BYTES = 512 * 1024
"""Most bytes of JSON the chats of one :class:`Board` take (at least one chat is
always listed): half of NATS's default 1 MiB message limit, so a department flooded
with long questions can still be shown."""

DEPARTMENT_QUEUE_IDS = 200
"""Most queued chat ids one :class:`ChatEvent` lists (the oldest ones)."""

REQUEST_ID_PATTERN = r"^[A-Za-z0-9_-]+$"
"""What a client-chosen ``request_id`` may contain (a UUID fits)."""

ChatState = Literal["queued", "active", "ended", "closed"]
OperatorStatus = Literal["online", "offline"]
ChatEventType = Literal[
    "queued", "claimed", "ended", "closed", "dismissed",
    "transfer_requested", "transfer_accepted", "transfer_declined", "transfer_cancelled", "rated",
]
"""What changed. ``dismissed``: an operator removed the chat from every dashboard
(state becomes ``closed``, :attr:`ChatView.dismissed_by` set). ``transfer_*``: a
transfer was asked for, accepted (the chat now waits for the target to claim it),
declined or cancelled (:attr:`ChatView.transfer` shows the transfer, ``None`` once it
is over). A claim that completes a transfer is a ``claimed`` event whose chat lists
the previous owner in ``participants`` when they stayed. ``rated``: the patron rated
the chat after it ended (:attr:`ChatView.rating`)."""
TransferState = Literal["pending", "accepted"]


def chat_event_subject(chat_id: str, event: ChatEventType) -> str:
    """``rd.ev.queue.chat.<chat_id>.<event>``."""
    return f"rd.ev.queue.chat.{chat_id}.{event}"


def operator_event_subject(operator_id: str) -> str:
    """``rd.ev.queue.operator.<operator_id>.status``."""
    return f"rd.ev.queue.operator.{operator_id}.status"


def _one_line(value: str) -> str:
    """One-line typed text, cleaned (:func:`refdesk.text.clean_text`); blank refused."""
    return clean_text(value, multiline=False)


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and is_blank(value) else value


# Field types of a patron's question, shared by this contract and the gateway's HTTP body.
DepartmentId = Annotated[str, Field(min_length=1, max_length=64)]
PatronName = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_one_line)]
OptionalEmail = Annotated[EmailStr | None, BeforeValidator(_blank_to_none)]
Question = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(clean_text)]
PageUrl = Annotated[str | None, Field(max_length=2000), BeforeValidator(_blank_to_none),
                    AfterValidator(lambda v: None if v is None else clean_text(v, multiline=False))]
RequestId = Annotated[str | None, Field(min_length=16, max_length=64, pattern=REQUEST_ID_PATTERN)]


class Department(Reply):
    """A department (routing group) such as Reference or Circulation.

    Attributes:
        id: stable slug (``reference``), token-safe for subjects.
        name: display name.
        online: true while at least one online operator monitors it.
    """

    id: str
    name: str
    online: bool = False


class DepartmentList(Reply):
    """Every department, with whether it is online now."""

    departments: list[Department]


class OperatorProfile(Reply):
    """An operator (library staff member) as the gateway and dashboard see them.

    Attributes:
        nickname: name shown to patrons ("⟨nickname⟩ joined").
        departments: departments the operator belongs to.
        monitored: ids of the departments they monitor while online (subset of
            ``departments``).
    """

    id: str
    username: str
    full_name: str
    nickname: str
    is_admin: bool = False
    status: OperatorStatus = "offline"
    departments: list[Department] = []
    monitored: list[str] = []


class AuthenticateRequest(Request):
    """Operator sign-in. A wrong username and a wrong password both answer 401
    with the same sentence: Wrong username or password."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class OperatorRef(Request):
    """One operator by id (404 if unknown)."""

    operator_id: str


class SetStatusRequest(Request):
    """Set an operator's status and monitored departments (ids they are not a member
    of are refused with 403)."""

    operator_id: str
    status: OperatorStatus
    monitored: list[str] | None = None


class CreateOperatorRequest(Request):
    """Add an operator account (admin tooling and tests).

    Attributes:
        username: sign-in name, 1–100 characters; stored trimmed and lower-cased, so
            sign-in ignores case.
        nickname: the name patrons see ("Ana joined the chat").
        password: 8–200 characters, stored as an Argon2id hash only.
        department_ids: departments the operator belongs to (unknown ids: 404).
    """

    username: str = Field(min_length=1, max_length=100)
    full_name: str = Field(min_length=1, max_length=200)
    nickname: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=8, max_length=200)
    department_ids: list[str] = []
    is_admin: bool = False

    @field_validator("username", "full_name", "nickname")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return _one_line(value)


class CreateChatRequest(Request):
    """A patron's question from the widget.

    Attributes:
        department_id: the department whose queue receives the chat.
        patron_name: 1–80 characters on one line, cleaned (control and bidi
            override characters removed, white space folded); blank refused.
        patron_email: optional, for transcripts and follow-up.
        question: 1–2000 characters, cleaned likewise (line breaks kept).
        page_url: the library page the widget was on, if known.
        request_id: optional, chosen by the client (16–64 characters of
            ``A-Z a-z 0-9 _ -``, e.g. a random UUID) and sent again when it retries
            the same request: the retry answers the chat the first attempt created
            (if it did) instead of queueing a second one. Reusing it for a different
            department, name or question is refused (409).
    """

    department_id: DepartmentId
    patron_name: PatronName
    patron_email: OptionalEmail = None
    question: Question
    page_url: PageUrl = None
    request_id: RequestId = None


class ChatRef(Request):
    """One chat by id (404 if unknown)."""

    chat_id: str


class ClaimRequest(Request):
    """Claim a queued chat: exactly one of concurrent claimers wins; the others get
    409 "Already claimed by <nickname>.". The operator must be Online (409) and in
    the chat's department (403)."""

    chat_id: str
    operator_id: str


class EndRequest(Request):
    """End a chat: by the patron, or by the operator who owns it."""

    chat_id: str
    ended_by: Literal["patron", "operator"]
    operator_id: str | None = None


MAX_RATING_COMMENT_CHARS = 1000
"""Longest comment a patron may give with a rating, in characters (cleaned)."""


class RateRequest(Request):
    """``rd.queue.chat.rate``: the patron rates their chat once it has ended (LibChat's
    end-of-chat rating): ``rating`` 1–5 and an optional comment (cleaned; blank →
    None). Rating again replaces the earlier rating (the patron changed their mind);
    each rating emits the ``rated`` event. ``409`` "You can rate this chat once it has
    ended." while queued or active; ``404`` for an unknown chat."""

    chat_id: str
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=MAX_RATING_COMMENT_CHARS)

    @field_validator("comment")
    @classmethod
    def _comment_or_none(cls, value: str | None) -> str | None:
        return None if value is None or is_blank(value) else clean_text(value)


class CloseRequest(Request):
    """Close an ended chat (owner only, 403 otherwise; 409 while not ended): it
    leaves the dashboard."""

    chat_id: str
    operator_id: str


DISMISS_NOTE_CHARS = 500
"""Longest dismissal note, in characters (one line, cleaned)."""


class DismissRequest(Request):
    """``rd.queue.chat.dismiss``: remove an unanswerable or spam chat from every
    dashboard, with a note (LibChat's Dismiss: the chat is kept in transcripts and
    statistics, with the dismissing operator and the note).

    A queued chat may be dismissed by any member operator of its department; an
    active chat by its owner only (``403`` otherwise). The chat becomes ``closed``
    (``ended_at``/``closed_at`` now, ``ended_by`` ``operator``) with
    :attr:`ChatView.dismissed_by`, ``dismissed_by_name`` (the nickname) and
    ``dismiss_note`` set, and the ``dismissed`` event is emitted. ``409`` once the
    chat has ended; ``404`` for an unknown chat or operator.

    Attributes:
        note: 1–500 characters on one line, cleaned; blank or missing → the default
            "Dismissed by ⟨nickname⟩".
    """

    chat_id: str
    operator_id: str
    note: str | None = Field(default=None, max_length=DISMISS_NOTE_CHARS)

    @field_validator("note")
    @classmethod
    def _note_or_default(cls, value: str | None) -> str | None:
        if value is None or is_blank(value):
            return None
        try:
            return _one_line(value)
        except ValueError:  # nothing visible once cleaned (control characters only)
            return None


class BoardRequest(Request):
    """Chats for an operator's dashboard: queued and active chats of
    ``department_ids``, plus — when ``operator_id`` is given — that operator's ended
    chats not closed yet (their Reference Analytics form is still to be done)."""

    department_ids: list[str]
    operator_id: str | None = None


class TransferView(Reply):
    """A chat's transfer while it is under way (``pending`` until the target accepts,
    ``accepted`` until the target — or, for a department, anyone monitoring it —
    claims the chat). Exactly one of ``to_operator_id`` / ``to_department_id`` is set.

    Attributes:
        stay: whether the operator who asked stays in the chat (group chat) once the
            target has claimed it, or leaves.
        requested_at, accepted_at: UTC.
    """

    id: str
    state: TransferState
    from_operator_id: str
    from_operator_name: str
    to_operator_id: str | None = None
    to_operator_name: str | None = None
    to_department_id: str | None = None
    to_department_name: str | None = None
    note: str = ""
    stay: bool = False
    requested_at: datetime
    accepted_by: str | None = None
    accepted_at: datetime | None = None


TRANSFER_NOTE_CHARS = 1000
"""Longest transfer note, in characters (cleaned; line breaks kept)."""


class TransferRequest(Request):
    """``rd.queue.chat.transfer.request``: the owner of an active chat asks to hand it
    to another operator or to a department (LibChat's Transfer Chat), with a note for
    the target. Exactly one of ``to_operator_id`` / ``to_department_id``. The chat
    stays active and owned by the sender, with :attr:`ChatView.transfer` pending;
    emits ``transfer_requested``.

    Attributes:
        note: 0–1000 characters, cleaned (staff only: never shown to the patron).
        stay: the sender stays in the chat (group chat) once the target claims it,
            instead of leaving.

    Errors: ``403`` not the owner; ``404`` unknown target; ``409`` the chat is not
    active, a transfer is already under way, or the target is the sender; ``422``
    neither or both targets.
    """

    chat_id: str
    operator_id: str
    to_operator_id: str | None = None
    to_department_id: str | None = None
    note: str = Field(default="", max_length=TRANSFER_NOTE_CHARS)
    stay: bool = False

    @field_validator("note")
    @classmethod
    def _clean_note(cls, value: str) -> str:
        return "" if is_blank(value) else clean_text(value)

    @model_validator(mode="after")
    def _one_target(self) -> TransferRequest:
        if (self.to_operator_id is None) == (self.to_department_id is None):
            raise ValueError("give exactly one of to_operator_id and to_department_id")
        return self


class TransferAnswer(Request):
    """``rd.queue.chat.transfer.accept`` / ``.decline`` (by the target: the operator,
    or any member of the target department) and ``.cancel`` (by the sender, while
    pending or accepted and not yet claimed). ``transfer_id``, when given, must be the
    chat's open transfer (``409`` "This transfer is no longer open." otherwise, so a
    stale offer never answers a newer transfer). Emits ``transfer_accepted``,
    ``transfer_declined`` or ``transfer_cancelled``.

    Errors: ``403`` not allowed to answer; ``404`` unknown chat; ``409`` no open
    transfer, or one in the wrong state (declining an accepted transfer)."""

    chat_id: str
    operator_id: str
    transfer_id: str | None = None


class Participant(Reply):
    """An operator taking part in a chat besides its owner (one who stayed after a
    transfer): they read and write, but only the owner ends the chat."""

    operator_id: str
    nickname: str


class ChatView(Reply):
    """A chat as every part sees it. Times are aware UTC datetimes (ISO-8601 on the
    wire); ``claimed_by_name`` is the owner's nickname."""

    id: str
    department_id: str
    department_name: str
    state: ChatState
    patron_name: str
    patron_email: str | None = None
    question: str
    page_url: str | None = None
    queued_at: datetime
    claimed_at: datetime | None = None
    ended_at: datetime | None = None
    closed_at: datetime | None = None
    claimed_by: str | None = None
    claimed_by_name: str | None = None
    ended_by: Literal["patron", "operator"] | None = None
    dismissed_by: str | None = None
    dismissed_by_name: str | None = None
    dismiss_note: str | None = None
    transfer: TransferView | None = None
    transfer_count: int = 0
    participants: list[Participant] = []
    rating: int | None = None
    rating_comment: str | None = None


class Board(Reply):
    """Queued and active chats of some departments (and the asking operator's ended,
    unclosed chats), oldest first.

    Attributes:
        more: true when chats were left out to keep the answer under
            :data:`BOARD_MAX_BYTES` (or the service's count limit). The asking
            operator's own chats are listed first; then the oldest chats. Chats left
            out still reach the dashboard live as ``chat.update`` when they change.
    """

    chats: list[ChatView]
    more: bool = False


class QueuePosition(Reply):
    """A chat's place in its department's queue (``rd.queue.chat.position``): what a
    waiting patron is told, without fetching the board.

    Attributes:
        position: 1 = next to be claimed; ``None`` when the chat is not queued.
        waiting: how many chats are queued in the chat's department (all of them).
    """

    chat_id: str
    position: int | None
    waiting: int


class ChatEvent(EventEnvelope):
    """A chat lifecycle change.

    Attributes:
        type: ``queued``, ``claimed``, ``ended`` or ``closed``.
        chat: the chat after the change.
        department_queue: ids of the chats still queued in the chat's department,
            oldest first, at most :data:`DEPARTMENT_QUEUE_IDS` of them (lets the
            gateway tell each waiting patron their place).
        waiting: how many chats are queued in the department in all (may exceed
            ``len(department_queue)``; ``0`` in events written before it existed).
    """

    type: ChatEventType
    chat: ChatView
    department_queue: list[str] = []
    waiting: int = 0
    transfer: TransferView | None = None
    """The transfer this event concerns — set for ``transfer_*`` events, for the
    ``claimed`` event that completes a transfer and for an ``ended`` event that cut
    one short — as it stood before the event (``chat.transfer`` is ``None`` once a
    transfer is over, so this is where its sender, target, note and ``stay`` are)."""


class PresenceHeartbeat(Request):
    """A gateway's list of the operators with at least one dashboard connected to it
    right now (``rd.rt.presence``, core NATS, lossy: one missed beat is harmless)."""

    operator_ids: list[str] = Field(max_length=10_000)


class OperatorStatusEvent(EventEnvelope):
    """Event ``rd.ev.queue.operator.<id>.status``: an operator's status or monitored
    departments changed."""

    type: Literal["status"] = "status"
    operator: OperatorProfile


# --- Who is online (Internal Chat's staff list) ----------------------------------
#
# rd.queue.operators.list   OperatorsListRequest   OperatorList
#
# Every operator (or those of ``operator_ids``) with their status, departments,
# monitored departments and how many chats they own in state ``active``. The gateway
# answers the dashboard's ``staff.list`` frame with it and pushes ``staff.update``
# when an entry changes (docs/protocol.md, "Internal Chat").

OPERATORS_LIST = "rd.queue.operators.list"


class OperatorsListRequest(Request):
    """Ask for the staff list; ``operator_ids`` limits it to those operators (unknown
    ids are left out), ``None`` lists everyone."""

    operator_ids: list[str] | None = Field(default=None, max_length=1000)


class DepartmentRef(Reply):
    """A department's id and display name."""

    id: str
    name: str


class OperatorSummary(Reply):
    """One operator as the staff list shows them.

    Attributes:
        status: ``online`` or ``offline``.
        departments: the departments they belong to, by name.
        monitored: ids of the departments they monitor (while online).
        active_chats: chats they own in state ``active`` (patron chats in progress).
    """

    id: str
    nickname: str
    full_name: str
    status: OperatorStatus
    departments: list[DepartmentRef] = []
    monitored: list[str] = []
    active_chats: int = 0


class OperatorList(Reply):
    """Operators by nickname (then id)."""

    operators: list[OperatorSummary]
