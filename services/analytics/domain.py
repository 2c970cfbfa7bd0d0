"""Pure logic of the analytics service: chat facts folded from events. No I/O.
(Reference Analytics validation lives in :mod:`services.analytics.ra`.)

Chat facts are built from two event streams that may arrive in any order, more than
once: lifecycle events from the queue (:func:`apply_chat_event`) and messages from
the chat service (:func:`apply_message`). Both functions are deterministic folds, so
a redelivered or replayed event yields the same fact, and a late, older event never
erases a time that a newer one made known.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from refdesk.contracts.chat import Message
from refdesk.contracts.queue import ChatView

# --------------------------------------------------------------------------------------
# Chat facts

#: Lifecycle states in the only order a chat moves through them.
_STATE_RANK = {"queued": 0, "active": 1, "ended": 2, "closed": 3}


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """``end − start`` in (float) seconds, or None while either time is unknown."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


@dataclass(frozen=True)
class ChatFact:
    """What analytics knows about one chat. Times are aware UTC datetimes; any of
    them is None until an event made it known.

    Attributes:
        chat_id: the queue's chat id.
        department_id / patron_name: from the queue's lifecycle events.
        operator_id: the operator who claimed the chat.
        state: the furthest lifecycle state seen (``queued`` → ``active`` →
            ``ended`` → ``closed``).
        queued_at / claimed_at / ended_at / closed_at: lifecycle times.
        ended_by: ``patron`` or ``operator``.
        first_response_at: ``sent_at`` of the first operator message.
        message_count: messages in the chat so far (highest ``seq`` seen, system
            messages included).
        observed_at: ``occurred_at`` of the newest lifecycle event applied.
    """

    chat_id: str
    department_id: str | None = None
    patron_name: str | None = None
    operator_id: str | None = None
    state: str | None = None
    queued_at: datetime | None = None
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None
    ended_at: datetime | None = None
    closed_at: datetime | None = None
    ended_by: str | None = None
    message_count: int = 0
    observed_at: datetime | None = None

    @property
    def wait_seconds(self) -> float | None:
        """Wait time: queued → claimed, in seconds."""
        return seconds_between(self.queued_at, self.claimed_at)

    @property
    def duration_seconds(self) -> float | None:
        """Duration: claimed → ended, in seconds."""
        return seconds_between(self.claimed_at, self.ended_at)

    @property
    def first_response_seconds(self) -> float | None:
        """First response time: claimed → first operator message, in seconds."""
        return seconds_between(self.claimed_at, self.first_response_at)

    @property
    def missed(self) -> bool:
        """True when the chat ended without any operator claiming it."""
        return _STATE_RANK.get(self.state or "", -1) >= _STATE_RANK["ended"] and self.claimed_at is None


def _later_state(old: str | None, new: str) -> str:
    if old is None or _STATE_RANK.get(new, -1) > _STATE_RANK.get(old, -1):
        return new
    return old


def apply_chat_event(fact: ChatFact, chat: ChatView, occurred_at: datetime) -> ChatFact:
    """Fold one queue lifecycle event (the chat after the change, and when the change
    happened) into ``fact``.

    A known value is replaced only by a known value from an event at least as new as
    every event applied before (``occurred_at ≥ fact.observed_at``); an unknown
    (None) value never erases a known one; the state only moves forward. Applying
    the same event again returns an equal fact.
    """
    newer = fact.observed_at is None or occurred_at >= fact.observed_at

    def pick(old: Any, new: Any) -> Any:
        if new is None:
            return old
        return new if old is None or newer else old

    return replace(
        fact,
        department_id=pick(fact.department_id, chat.department_id),
        patron_name=pick(fact.patron_name, chat.patron_name),
        operator_id=pick(fact.operator_id, chat.claimed_by),
        state=_later_state(fact.state, chat.state),
        queued_at=pick(fact.queued_at, chat.queued_at),
        claimed_at=pick(fact.claimed_at, chat.claimed_at),
        ended_at=pick(fact.ended_at, chat.ended_at),
        closed_at=pick(fact.closed_at, chat.closed_at),
        ended_by=pick(fact.ended_by, chat.ended_by),
        observed_at=occurred_at if newer else fact.observed_at,
    )


def apply_message(fact: ChatFact, message: Message) -> ChatFact:
    """Fold one posted message into ``fact``: the earliest operator message sets
    ``first_response_at``; the highest ``seq`` is the message count. Order-free and
    idempotent."""
    first = fact.first_response_at
    if message.author_kind == "operator" and (first is None or message.sent_at < first):
        first = message.sent_at
    return replace(fact, first_response_at=first, message_count=max(fact.message_count, message.seq))
