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
======================  ===================  ==================================

Events: ``rd.ev.chat.msg.<chat_id>.posted`` (stream ``CHAT_EVENTS`` on
``rd.ev.chat.>``) carry :class:`MessagePosted`. Typing: core NATS publish on
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

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import to_json

from .common import EventEnvelope, Reply, Request
from .queue import ChatEventType, ChatView

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

    @model_validator(mode="after")
    def _chat_is_this_chat(self) -> SendRequest:
        if self.chat is not None and self.chat.id != self.chat_id:
            raise ValueError("chat must be the chat the message is sent to")
        return self


class Message(Reply):
    """A stored message. ``seq`` is 1, 2, 3 … within the chat, assigned in the
    transaction that stored it; ``sent_at`` is UTC."""

    id: str
    chat_id: str
    seq: int
    cmid: str
    author_kind: AuthorKind
    author_id: str | None = None
    author_name: str
    body: str
    sent_at: datetime


def json_bytes(message: Message) -> int:
    """Size of ``message`` as UTF-8 JSON, in bytes (what it adds to a ``History``
    reply or a ``history`` frame, give or take a comma)."""
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
    first, at most ``limit``."""

    chat_id: str
    after_seq: int = Field(default=0, ge=0, le=MAX_SEQ)
    limit: int = Field(default=200, ge=1, le=1000)


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
            accepted after it); ``closed`` adds no message of its own.
        chat: the chat right after the change, as the queue service answered it.

    Every earlier transition ``chat`` shows is recorded first, if it is not yet
    (``claimed`` → the question, then "joined"; ``ended``/``closed`` → the question,
    "joined" if the chat was claimed, then the end). Replies ``Ok``; recording the
    same transition again changes nothing.
    """

    type: ChatEventType
    chat: ChatView


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
