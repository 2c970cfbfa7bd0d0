"""Contracts of the chat service: messages with per-chat sequence numbers, canned
messages, typing signals.

Request/reply subjects (``nats.micro`` service ``chat``):

======================  ===================  ==================================
subject                 request              reply
======================  ===================  ==================================
rd.chat.send            SendRequest          SendAck (a retry with the same
                                             ``cmid`` returns the original ack
                                             with ``duplicate=true``)
rd.chat.history         HistoryRequest       History
rd.chat.canned.list     CannedListRequest    CannedList
======================  ===================  ==================================

Events: ``rd.ev.chat.msg.<chat_id>.posted`` (stream ``CHAT_EVENTS`` on
``rd.ev.chat.>``) carry :class:`MessagePosted`. Typing: core NATS publish on
``rd.rt.typing.<chat_id>`` with :class:`TypingSignal` (lossy by design).

The chat service also consumes ``QUEUE_EVENTS`` durably and records each lifecycle
change as a ``system`` message ("Ana joined the chat"), so the transcript and the
sequence numbers cover the whole conversation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import EventEnvelope, Reply, Request

SERVICE = "chat"
STREAM = "CHAT_EVENTS"
STREAM_SUBJECTS = ["rd.ev.chat.>"]

SEND = "rd.chat.send"
HISTORY = "rd.chat.history"
CANNED_LIST = "rd.chat.canned.list"

AuthorKind = Literal["patron", "operator", "system"]


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
        body: 1–4000 characters (the gateway enforces the configured maximum).
    """

    chat_id: str = Field(min_length=1, max_length=64)
    cmid: str = Field(min_length=1, max_length=100)
    author_kind: AuthorKind
    author_id: str | None = None
    author_name: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=4000)


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


class SendAck(Reply):
    chat_id: str
    cmid: str
    message_id: str
    seq: int
    sent_at: datetime
    duplicate: bool = False


class HistoryRequest(Request):
    """Messages with ``seq > after_seq``, oldest first, at most ``limit``."""

    chat_id: str
    after_seq: int = Field(default=0, ge=0)
    limit: int = Field(default=200, ge=1, le=1000)


class History(Reply):
    """``top_seq`` is the chat's latest seq (0 when empty); ``more`` is true when
    messages beyond ``limit`` were left out."""

    chat_id: str
    messages: list[Message]
    top_seq: int
    more: bool = False


class CannedListRequest(Request):
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
    messages: list[CannedMessage]


class MessagePosted(EventEnvelope):
    type: Literal["posted"] = "posted"
    message: Message


class TypingSignal(Reply):
    chat_id: str
    author_kind: Literal["patron", "operator"]
    author_name: str
    typing: bool
