"""Websocket frames: pydantic models for what clients send, builders for what the
gateway sends (see ``docs/protocol.md``).

Client frames are JSON objects discriminated by ``type``; unknown fields are refused
and types are strict (``"5"`` is not a number, ``1`` is not ``true``). Every client
frame may carry ``ref`` (≤ 64 characters), echoed on the ``reply``/``error`` that
answers it. :func:`parse_frame` turns raw text into a model or raises
:class:`FrameError` with the ``error`` frame to send.

Server frames are built as JSON text once, so one event fanned out to many sockets is
serialised only once.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from pydantic_core import to_json

from refdesk.contracts.chat import MAX_SEQ, Message, TypingSignal
from refdesk.contracts.queue import ChatView, OperatorProfile

from .errors import describe, is_valid_unicode
from .frame_base import MAX_REF_CHARS, ClientFrame, EntityId, encode
from .frames_internal import FRAMES as INTERNAL_FRAMES
from .frames_ra import FRAMES as RA_FRAMES
from .frames_screenshare import FRAMES as SCREENSHARE_FRAMES
from .frames_tickets import FRAMES as TICKET_FRAMES
from .frames_transcript import FRAMES as TRANSCRIPT_FRAMES
from .frames_transfer import FRAMES as TRANSFER_FRAMES

MAX_FRAME_BYTES = 64 * 1024
"""Largest client frame the gateway reads (UTF-8 bytes); bigger ones get ``error 413``."""

MAX_MESSAGE_BYTES = 1024 * 1024
"""Largest websocket message the server accepts at all (it closes with 1009 above it).
A frame between :data:`MAX_FRAME_BYTES` and this is still parsed, only to find its
``ref`` for the ``413``."""

class Hello(ClientFrame):
    """First frame of every connection: the operator or patron token."""

    type: Literal["hello"]
    token: str = Field(min_length=1, max_length=4096)


class Ping(ClientFrame):
    """Keep-alive; answered with ``pong`` (clients send one every 25 s)."""

    type: Literal["ping"]


class StatusSet(ClientFrame):
    """An operator sets Online/Offline and, optionally, which departments they monitor."""

    type: Literal["status.set"]
    status: Literal["online", "offline"]
    monitored: list[EntityId] | None = Field(default=None, max_length=100)


class ChatSubscribe(ClientFrame):
    """Go live on a chat; replay the messages after ``after_seq`` first."""

    type: Literal["chat.subscribe"]
    chat_id: EntityId
    after_seq: int = Field(default=0, ge=0, le=MAX_SEQ)


class ChatClaim(ClientFrame):
    """An operator claims a queued chat."""

    type: Literal["chat.claim"]
    chat_id: EntityId


class ChatSend(ClientFrame):
    """A message. ``cmid`` is chosen by the client and reused on retries (letters,
    digits, ``-`` and ``_`` only: the ``ev:`` namespace belongs to the chat service's
    own lifecycle messages, so a client can never collide with them). The body's
    upper limit is the configured ``max_message_chars`` (checked by the handler, which
    answers ``422``); the frame only requires it to be non-empty. ``internal: true``
    makes it an internal note, seen by staff only (a patron sending one gets ``403``)."""

    type: Literal["chat.send"]
    chat_id: EntityId
    cmid: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    body: str = Field(min_length=1)
    internal: bool = False


class ChatTyping(ClientFrame):
    """Typing started (``true``) or stopped (``false``); lossy, never answered."""

    type: Literal["chat.typing"]
    chat_id: EntityId
    typing: bool


class ChatEnd(ClientFrame):
    """The patron or the owning operator ends the chat."""

    type: Literal["chat.end"]
    chat_id: EntityId


class ChatClose(ClientFrame):
    """The owning operator closes an ended chat."""

    type: Literal["chat.close"]
    chat_id: EntityId


class ChatDismiss(ClientFrame):
    """An operator dismisses a queued chat of their department, or an active chat they
    own: it is closed and leaves every dashboard; ``note`` (one line, at most 500
    characters) is recorded, "Dismissed by ⟨nickname⟩" when left out or blank."""

    type: Literal["chat.dismiss"]
    chat_id: EntityId
    note: str | None = Field(default=None, max_length=500)


class CannedList(ClientFrame):
    """An operator asks for a department's canned messages."""

    type: Literal["canned.list"]
    department_id: EntityId


FRAME_MODELS: tuple[type[ClientFrame], ...] = (
    Hello, Ping, StatusSet, ChatSubscribe, ChatClaim, ChatSend, ChatTyping, ChatEnd, ChatClose,
    CannedList, ChatDismiss,
) + RA_FRAMES + INTERNAL_FRAMES + TRANSFER_FRAMES + SCREENSHARE_FRAMES + TRANSCRIPT_FRAMES + TICKET_FRAMES
AnyClientFrame = Annotated[Union[FRAME_MODELS], Field(discriminator="type")]  # type: ignore[valid-type]
_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(AnyClientFrame)
FRAME_TYPES: tuple[str, ...] = tuple(get_args(model.model_fields["type"].annotation)[0] for model in FRAME_MODELS)
"""Every client frame ``type``, in protocol order."""


class FrameError(Exception):
    """A client frame could not be read.

    Attributes:
        code: ``"400"`` (malformed) or ``"413"`` (bigger than :data:`MAX_FRAME_BYTES`).
        message: a sentence for the ``error`` frame.
        ref: the frame's ``ref`` when one could be read, so the client can match it.
    """

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.ref = ref

    def frame(self) -> str:
        """The ``error`` frame answering the bad frame."""
        return error(self.code, self.message, self.ref)


def _loose_ref(data: dict[str, Any]) -> str | None:
    """The frame's ``ref`` when it is one that may be echoed (a string of at most
    :data:`MAX_REF_CHARS` valid characters), even if the rest of the frame is bad."""
    ref = data.get("ref")
    return ref if isinstance(ref, str) and len(ref) <= MAX_REF_CHARS and is_valid_unicode(ref) else None


_RAW_REF = re.compile(
    r'[{,]\s{0,32}"ref"\s{0,32}:\s{0,32}"([A-Za-z0-9_.:-]{1,' + str(MAX_REF_CHARS) + r'})"\s{0,32}[,}]')
"""A ``"ref": "…"`` member as it appears in JSON text: after ``{`` or ``,`` and before
``,`` or ``}`` (inside a JSON string the quotes would be escaped, so text in a message
body does not match), with a value of plain characters. Every repetition is bounded,
so a search is linear in the frame's length."""


def _raw_ref(raw: str) -> str | None:
    """The ``ref`` of a frame that cannot be parsed (a number too long to convert,
    nesting too deep, a syntax error further on), read from the text itself so the
    client's waiting request is still answered: the first ``"ref"`` member of at most
    :data:`MAX_REF_CHARS` letters, digits, ``_``, ``.``, ``:`` or ``-``."""
    found = _RAW_REF.search(raw, 0, MAX_MESSAGE_BYTES)
    return found.group(1) if found else None


def _load(raw: str) -> Any:
    """``json.loads(raw)``.

    Raises:
        FrameError: ``400`` when ``raw`` is not JSON that can be read (a syntax error,
            an integer too long to convert), with the ``ref`` found by
            :func:`_raw_ref`.
        RecursionError: nesting too deep for the parser.
    """
    try:
        return json.loads(raw)
    except ValueError:
        raise FrameError("400", "The frame is not valid JSON.", _raw_ref(raw)) from None


def _oversized_ref(raw: str) -> str | None:
    """The top-level ``ref`` of a frame too big to handle, when it can be read: the
    frame is at most :data:`MAX_MESSAGE_BYTES` (the server refuses bigger ones), so
    parsing it once is cheap enough to let the client match the ``413``."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return None
    try:
        data = _load(raw)
    except FrameError as exc:
        return exc.ref
    except RecursionError:
        return _raw_ref(raw)
    return _loose_ref(data) if isinstance(data, dict) else None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(raw: str, data: Any) -> bool:
    """True when the parsed frame holds a lone surrogate (only a ``\\uD8xx``-style
    escape can put one there, so frames without such an escape are not walked)."""
    if not _SURROGATE_ESCAPE.search(raw):
        return False
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


def _utf8_size(raw: str) -> int:
    return len(raw.encode("utf-8", "surrogatepass"))


def parse_frame(raw: str) -> ClientFrame:
    """Read one client frame.

    Args:
        raw: the websocket text message.

    Returns:
        the frame model (:class:`Hello`, :class:`ChatSend` …).

    Raises:
        FrameError: ``413`` when ``raw`` is over 64 KiB (with the frame's ``ref`` when
            it can be read); ``400`` when it is not JSON (a number too long to
            convert and nesting too deep for the parser included — with the ``ref``
            read from the text, see :func:`_raw_ref`), not an object, holds text
            that is not valid Unicode (a lone surrogate escape), has no or an unknown
            ``type``, or has wrong fields — with a sentence such as ``Bad "chat.send"
            frame: cmid is required.``
    """
    if len(raw) > MAX_FRAME_BYTES or _utf8_size(raw) > MAX_FRAME_BYTES:
        raise FrameError("413", f"The frame is larger than {MAX_FRAME_BYTES // 1024} KiB.", _oversized_ref(raw))
    try:
        return _read(raw)
    except RecursionError:  # parsing, re-encoding or validating a deeply nested frame
        raise FrameError("400", "The frame is nested too deeply.", _raw_ref(raw)) from None


def _read(raw: str) -> ClientFrame:
    """:func:`parse_frame` for a frame of acceptable size; may raise RecursionError."""
    data = _load(raw)
    if not isinstance(data, dict):
        raise FrameError("400", 'A frame must be a JSON object with a "type".')
    ref = _loose_ref(data)
    if _has_lone_surrogate(raw, data):
        raise FrameError("400", "The frame contains text that is not valid Unicode.", ref)
    kind = data.get("type")
    if kind is None:
        raise FrameError("400", 'The frame has no "type".', ref)
    if kind not in FRAME_TYPES:
        shown = kind if isinstance(kind, str) else json.dumps(kind)
        raise FrameError("400", f'Unknown frame type "{shown[:40]}".', ref)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise FrameError("400", f'Bad "{kind}" frame: {describe(exc.errors(), skip=1)}', ref) from None


# --- server frames ------------------------------------------------------------------


def reply(data: Any, ref: str | None) -> str:
    """``reply`` answering the frame whose ``ref`` is given."""
    return encode("reply", ref=ref, data=data)


def error(code: str, message: str, ref: str | None = None) -> str:
    """``error`` with an HTTP-like ``code`` (``"409"``) and a readable ``message``."""
    fields: dict[str, Any] = {"code": code, "message": message}
    if ref is not None:
        fields["ref"] = ref
    return encode("error", **fields)


def pong(ref: str | None = None) -> str:
    """``pong`` answering a ``ping`` (echoing its ``ref``, if any)."""
    return encode("pong") if ref is None else encode("pong", ref=ref)


def welcome(
    *, operator: OperatorProfile | None = None, chat: ChatView | None = None,
    max_message_chars: int, heartbeat_seconds: int,
) -> str:
    """``welcome`` for an operator (with their profile) or a patron (with their chat)."""
    if operator is not None:
        return encode("welcome", role="operator", operator=operator,
                      max_message_chars=max_message_chars, heartbeat_seconds=heartbeat_seconds)
    return encode("welcome", role="patron", chat=chat,
                  max_message_chars=max_message_chars, heartbeat_seconds=heartbeat_seconds)


def board(chats: list[ChatView]) -> str:
    """``board``: an operator's queued and active chats."""
    return encode("board", chats=chats)


def chat_update(event: str, chat: ChatView) -> str:
    """``chat.update`` (``event``: ``queued``, ``claimed``, ``ended`` or ``closed``)."""
    return encode("chat.update", event=event, chat=chat)


def queue_position(chat_id: str, position: int, waiting: int) -> str:
    """``queue.position``: ``position`` 1 = next, ``waiting`` = chats queued in the department."""
    return encode("queue.position", chat_id=chat_id, position=position, waiting=waiting)


def history(chat_id: str, messages: list[Message], top_seq: int, more: bool) -> str:
    """``history``: replayed messages (oldest first), the chat's ``top_seq`` and
    whether ``more`` remain after the last one."""
    return encode("history", chat_id=chat_id, messages=messages, top_seq=top_seq, more=more)


def message(msg: Message) -> str:
    """``message``: one live message of a chat."""
    return encode("message", chat_id=msg.chat_id, message=msg)


def typing(signal: TypingSignal) -> str:
    """``typing``: someone on the other side started or stopped typing."""
    return encode("typing", chat_id=signal.chat_id, author_kind=signal.author_kind,
                  author_name=signal.author_name, typing=signal.typing)
