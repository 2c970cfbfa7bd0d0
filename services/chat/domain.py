"""Pure rules of the chat service (no I/O): what a message body may contain, how a
chat lifecycle transition reads as a message, the order of canned messages and the
paging of history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import TypeVar

from refdesk.bus import Invalid
from refdesk.contracts.chat import CannedMessage, InternalMessage, Message, SendAck, SendRequest, json_bytes
from refdesk.contracts.queue import ChatEventType, ChatView
from refdesk.text import clean_text

from .config import (
    CLAIMED_CMID_PREFIX, DISMISSED_CMID, ENDED_CMID, MAX_BODY_CHARS, QUESTION_CMID, SYSTEM_AUTHOR_NAME,
)


def normalise_body(body: str) -> str:
    """Return ``body`` as it is stored (:func:`refdesk.text.clean_text`: line endings
    as ``\\n``, control and bidi override characters removed, surrounding white space
    trimmed).

    Raises:
        Invalid: (422) nothing visible is left, or more than ``MAX_BODY_CHARS``
            characters are.
    """
    try:
        text = clean_text(body)
    except ValueError:
        raise Invalid("A message cannot be empty.") from None
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


def ended_wording(chat: ChatView) -> str:
    """"<patron name> ended the chat." or "<operator nickname> ended the chat." —
    worded like "Ana joined the chat.", and natural for the patron to read too."""
    who = chat.patron_name if chat.ended_by == "patron" else (chat.claimed_by_name or "The librarian")
    return f"{who} ended the chat."


def claimed_cmid(claimed_at: datetime) -> str:
    """``ev:claimed:<claimed_at as UTC ISO-8601>`` — the same for every report of one
    claim (the gateway's and the event's), different for a later claim."""
    return CLAIMED_CMID_PREFIX + claimed_at.astimezone(timezone.utc).isoformat()


def lifecycle_message(transition: ChatEventType, chat: ChatView) -> SendRequest | None:
    """The message that records one chat lifecycle transition in the conversation, or
    None when it adds nothing to it.

    * ``queued`` → the patron's question, as the patron (cmid ``ev:question``), so it
      becomes the chat's first message;
    * ``claimed`` → system "<nickname> joined the chat." (cmid :func:`claimed_cmid`);
      None while ``chat.claimed_at`` is unknown;
    * ``ended`` → system "<patron name | nickname> ended the chat." (cmid
      ``ev:ended``); for a dismissed chat (``chat.dismissed_by`` set) the internal
      system record "<nickname> dismissed the chat. Note: <note>" instead (cmid
      ``ev:dismissed``) — staff see why, the patron's widget just shows the chat
      ended;
    * ``closed`` → None.

    The cmid depends only on the chat and the transition — never on who reports it
    or on an event id — so the gateway's report and the redelivered queue event of one
    transition store one message.
    """
    if transition == "queued":
        return SendRequest(
            chat_id=chat.id, cmid=QUESTION_CMID, author_kind="patron",
            author_name=chat.patron_name[:100], body=chat.question,
        )
    if transition == "claimed" and chat.claimed_at is not None:
        cmid, body = claimed_cmid(chat.claimed_at), f"{chat.claimed_by_name or 'A librarian'} joined the chat."
    elif transition == "ended" and chat.dismissed_by is not None:
        return SendRequest(chat_id=chat.id, cmid=DISMISSED_CMID, author_kind="system", author_name=SYSTEM_AUTHOR_NAME,
                           body=dismissed_wording(chat), internal=True)
    elif transition == "ended":
        cmid, body = ENDED_CMID, ended_wording(chat)
    else:
        return None
    return SendRequest(chat_id=chat.id, cmid=cmid, author_kind="system", author_name=SYSTEM_AUTHOR_NAME, body=body)


def dismissed_wording(chat: ChatView) -> str:
    """"<nickname> dismissed the chat. Note: <note>" — the staff-only record of a
    dismissal (LibChat logs the dismissing operator and the note)."""
    who = chat.dismissed_by_name or "A librarian"
    note = (chat.dismiss_note or "").strip()
    return f"{who} dismissed the chat." + (f" Note: {note}" if note else "")


_STEPS: tuple[ChatEventType, ...] = ("queued", "claimed", "ended")
"""The transitions that add a message, in the only order a chat goes through them."""

_STEPS_UP_TO: dict[ChatEventType, int] = {"queued": 1, "claimed": 2, "ended": 3, "closed": 3, "dismissed": 3}
"""How many of :data:`_STEPS` a transition implies (itself and the earlier ones)."""

_TRANSITION_OF_STATE: dict[str, ChatEventType] = {
    "queued": "queued", "active": "claimed", "ended": "ended", "closed": "closed",
}
"""The transition that brought a chat into each state."""


def lifecycle_messages(transition: ChatEventType, chat: ChatView) -> list[SendRequest]:
    """The messages to record for ``transition``, oldest first: those of every earlier
    transition ``chat`` shows, then its own.

    * ``queued`` → [question];
    * ``claimed`` → [question, "joined"];
    * ``ended``, ``closed`` and ``dismissed`` → [question, "joined" (only if the chat
      was claimed), the end (the dismissal record for a dismissed chat)];
    * any other transition (transfers, ratings) → [].

    Recording them in this order, each idempotently, whichever report arrives first,
    gives every chat the same transcript: the question is message 1, "joined" comes
    before anything said after the claim, and the end notice after everything else.
    """
    steps = _STEPS[:_STEPS_UP_TO.get(transition, 0)]
    return [message for step in steps if (message := lifecycle_message(step, chat)) is not None]


def messages_before_send(chat: ChatView) -> list[SendRequest]:
    """The lifecycle messages that must be stored before a message sent to ``chat``
    (as the sender saw it): those of the transitions its state shows — [question]
    while queued, [question, "joined"] while active, and the end too once ended or
    closed (so a new message then is refused, and the end notice stays last)."""
    return lifecycle_messages(_TRANSITION_OF_STATE[chat.state], chat)


def ends_chat(request: SendRequest) -> bool:
    """True for the message that records the chat's end — or its dismissal (after it,
    only lifecycle messages and internal notes are accepted)."""
    return request.author_kind == "system" and request.cmid in (ENDED_CMID, DISMISSED_CMID)


def order_canned(entries: Iterable[tuple[int, CannedMessage]]) -> list[CannedMessage]:
    """Canned messages as an operator sees them, from (position, message) pairs: the
    welcome message first, then by position, then by title."""
    ordered = sorted(entries, key=lambda e: (not e[1].is_welcome, e[0], e[1].title.casefold()))
    return [message for _, message in ordered]


PageItem = TypeVar("PageItem", Message, InternalMessage)


def page(messages: Sequence[PageItem], limit: int, budget: int) -> tuple[list[PageItem], bool]:
    """Cut messages (patron chat or internal) fetched with ``limit + 1`` rows into one
    history page.

    Args:
        limit: most messages in the page.
        budget: most bytes of UTF-8 JSON the page's messages may take
            (:func:`refdesk.contracts.chat.json_bytes`); the first message is always
            kept, so a page is never empty while messages remain.

    Returns:
        (the page's messages, whether more were left out — by ``limit`` or by ``budget``).
    """
    kept: list[PageItem] = []
    used = 0
    for message in messages[:limit]:
        size = json_bytes(message)
        if kept and used + size > budget:
            break
        kept.append(message)
        used += size
    return kept, len(messages) > len(kept)
