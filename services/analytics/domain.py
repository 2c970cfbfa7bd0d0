"""Pure logic of the analytics service: Reference Analytics form validation and chat
facts folded from events. No I/O.

Chat facts are built from two event streams that may arrive in any order, more than
once: lifecycle events from the queue (:func:`apply_chat_event`) and messages from
the chat service (:func:`apply_message`). Both functions are deterministic folds, so
a redelivered or replayed event yields the same fact, and a late, older event never
erases a time that a newer one made known.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from refdesk.bus import Invalid
from refdesk.contracts.analytics import DatasetField, RaValue, is_safe_key, name_keys
from refdesk.contracts.chat import Message
from refdesk.contracts.queue import ChatView
from refdesk.text import clean_text

from .config import MAX_TEXT_CHARS

# --------------------------------------------------------------------------------------
# Reference Analytics values


def _cleaned(value: RaValue) -> RaValue:
    """``value`` with its text cleaned (:func:`refdesk.text.clean_text`: line endings
    as ``\\n``, control characters — NUL included — and bidi overrides removed,
    trimmed); None when it is blank (null, only white space or invisible characters,
    an empty list)."""
    if isinstance(value, str):
        try:
            return clean_text(value)
        except ValueError:
            return None
    return None if value == [] else value


def _choice(field: DatasetField, value: RaValue) -> str | None:
    """The option ``value`` names (case-insensitive), or None."""
    if not isinstance(value, str):
        return None
    wanted = value.casefold()
    return next((option for option in field.options if option.casefold() == wanted), None)


MAX_NUMBER = 1_000_000
"""The largest value a number field takes (a duration of about two years in minutes)."""


def _number(value: RaValue) -> int | float | None:
    """``value`` as a number from 0 to :data:`MAX_NUMBER` (``12``, ``7.5``, ``"7.5"``),
    or None — also for integers far too big for a float (``10**400``). Integral
    values come back as ``int``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):  # compared as an int: no float conversion to overflow
        return value if 0 <= value <= MAX_NUMBER else None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, float) or not math.isfinite(value) or not 0 <= value <= MAX_NUMBER:
        return None
    return int(value) if value.is_integer() else value


def _number_problem(field: DatasetField) -> str:
    what = f"a number of {field.unit}" if field.unit else "a number"
    return f"{field.label} must be {what} from 0 to {MAX_NUMBER:,}."


def _field_value(field: DatasetField, value: RaValue) -> tuple[RaValue, str | None]:
    """(the stored value, None) for an acceptable non-blank ``value`` of ``field``, or
    (None, the problem as a sentence)."""
    if field.kind == "choice":
        option = _choice(field, value)
        if option is None:
            return None, f"{field.label} must be one of: {', '.join(field.options)}."
        return option, None
    if field.kind == "number":
        number = _number(value)
        return (None, _number_problem(field)) if number is None else (number, None)
    if not isinstance(value, str):
        return None, f"{field.label} must be text."
    if len(value) > MAX_TEXT_CHARS:
        return None, f"{field.label} must be at most {MAX_TEXT_CHARS} characters."
    return value, None


def unknown_fields_problem(keys: Collection[str]) -> str:
    """The sentence for keys outside the dataset: ``"Unknown field: colour."``,
    ``"Unknown fields: colour and 2 others."``, ``"The form has 2 unknown fields."`` —
    keys that are long or hold odd characters are counted, never quoted
    (:func:`refdesk.contracts.analytics.name_keys`)."""
    if not any(is_safe_key(key) for key in keys):
        return f"The form has {len(keys)} unknown field{'s' if len(keys) != 1 else ''}."
    return f"Unknown field{'s' if len(keys) > 1 else ''}: {name_keys(keys)}."


def validate_values(fields: list[DatasetField], values: Mapping[str, RaValue]) -> dict[str, RaValue]:
    """Check Reference Analytics ``values`` against a dataset's ``fields`` and return
    them cleaned: text cleaned (:func:`refdesk.text.clean_text`, multi-line), choices
    spelled as the option, numbers as ``int`` or ``float``, blank optional fields left
    out.

    Rules: every required field present and not blank (text with nothing visible is
    blank); a choice one of its options (case and surrounding spaces ignored); a
    number from 0 to :data:`MAX_NUMBER` (a numeric string such as ``"7.5"`` is
    accepted); text a string of at most ``MAX_TEXT_CHARS`` characters once cleaned; no
    keys outside the dataset.

    Raises:
        Invalid: ``422`` with one message naming every problem, e.g.
            ``"Please fill in: Location, Mode. Duration must be a number of minutes from 0 to 1,000,000."``
    """
    missing: list[str] = []
    problems: list[str] = []
    cleaned: dict[str, RaValue] = {}
    for field in sorted(fields, key=lambda f: f.position):
        value = _cleaned(values.get(field.key))
        if value is None:
            if field.required:
                missing.append(field.label)
            continue
        stored, problem = _field_value(field, value)
        if problem is not None:
            problems.append(problem)
        else:
            cleaned[field.key] = stored
    known = {field.key for field in fields}
    unknown = [key for key in values if key not in known]
    if unknown:
        problems.append(unknown_fields_problem(unknown))
    if missing:
        problems.insert(0, f"Please fill in: {', '.join(missing)}.")
    if problems:
        raise Invalid(" ".join(problems))
    return cleaned


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
