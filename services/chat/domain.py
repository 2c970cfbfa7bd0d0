"""Pure rules of the chat service (no I/O): what a message body may contain, how a
chat lifecycle event reads as a message, the order of canned messages and the paging
of history."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from refdesk.bus import Invalid
from refdesk.contracts.chat import CannedMessage, Message, SendAck, SendRequest
from refdesk.contracts.queue import ChatEvent

from .config import MAX_BODY_CHARS, QUESTION_CMID, SYSTEM_AUTHOR_NAME

# C0 control characters other than tab and newline (PostgreSQL text refuses NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalise_body(body: str) -> str:
    """Return ``body`` as it is stored: line endings as ``\\n``, control characters
    other than tab and newline removed, surrounding whitespace trimmed.

    Raises:
        Invalid: (422) nothing is left, or more than ``MAX_BODY_CHARS`` characters are.
    """
    text = _CONTROL.sub("", body.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise Invalid("A message cannot be empty.")
    if len(text) > MAX_BODY_CHARS:
        raise Invalid(f"A message can be at most {MAX_BODY_CHARS} characters long.")
    return text


def normalise_send(request: SendRequest) -> SendRequest:
    """Return ``request`` with its body normalised (see :func:`normalise_body`).

    Raises:
        Invalid: (422) the body is blank or too long.
    """
    return request.model_copy(update={"body": normalise_body(request.body)})


def ack_for(message: Message, *, duplicate: bool) -> SendAck:
    """The acknowledgement of a stored ``message``; ``duplicate`` marks a retried send
    answered with the original."""
    return SendAck(
        chat_id=message.chat_id, cmid=message.cmid, message_id=message.id,
        seq=message.seq, sent_at=message.sent_at, duplicate=duplicate,
    )


def ended_wording(event: ChatEvent) -> str:
    """"The chat was ended by the patron." or "… by <operator nickname>."."""
    chat = event.chat
    who = "the patron" if chat.ended_by == "patron" else (chat.claimed_by_name or "the librarian")
    return f"The chat was ended by {who}."


def lifecycle_message(event: ChatEvent) -> SendRequest | None:
    """The message that records a chat lifecycle event in the conversation, or None
    when the event adds nothing to it (``closed``).

    * ``queued`` → the patron's question, as the patron (cmid ``question``), so it
      becomes the chat's first message;
    * ``claimed`` → system "<nickname> joined the chat.";
    * ``ended`` → system "The chat was ended by <the patron | nickname>.".

    System messages use cmid ``ev:<event_id>``, so a redelivered event is stored once.
    """
    chat = event.chat
    if event.type == "queued":
        return SendRequest(
            chat_id=chat.id, cmid=QUESTION_CMID, author_kind="patron",
            author_name=chat.patron_name, body=chat.question,
        )
    if event.type == "claimed":
        body = f"{chat.claimed_by_name or 'A librarian'} joined the chat."
    elif event.type == "ended":
        body = ended_wording(event)
    else:
        return None
    return SendRequest(
        chat_id=chat.id, cmid=f"ev:{event.event_id}", author_kind="system",
        author_name=SYSTEM_AUTHOR_NAME, body=body,
    )


def order_canned(entries: Iterable[tuple[int, CannedMessage]]) -> list[CannedMessage]:
    """Canned messages as an operator sees them, from (position, message) pairs: the
    welcome message first, then by position, then by title."""
    ordered = sorted(entries, key=lambda e: (not e[1].is_welcome, e[0], e[1].title.casefold()))
    return [message for _, message in ordered]


def page(messages: Sequence[Message], limit: int) -> tuple[list[Message], bool]:
    """Split messages fetched with ``limit + 1`` rows into (the first ``limit``,
    whether more were left out)."""
    return list(messages[:limit]), len(messages) > limit
