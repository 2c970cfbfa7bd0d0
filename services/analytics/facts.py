"""Chat facts: a pure, order-free fold of the event streams into one fact per chat.

Every metric of every report is derived from a :class:`ChatFacts` by the properties
defined here — one definition per metric (docs/analytics.md, *Definitions*). The
fold functions (:func:`apply_chat_event`, :func:`apply_message`,
:func:`apply_ticket`) combine values only with commutative rules (earliest,
latest-by-time with a deterministic tie-break, union, maximum), so the fact depends
on the *set* of events applied, not on their order or on how the queue, chat and
tickets streams interleave: a rebuild that folds the streams from the start equals
the live read model. De-duplication (each event applied once) is the caller's job:
the store keeps the applied event keys (:func:`event_key`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from refdesk.contracts.chat import Message
from refdesk.contracts.queue import ChatEvent

Outcome = Literal["answered", "missed", "dismissed", "open"]

#: Lifecycle states in the only order a chat moves through them.
_STATE_RANK = {"queued": 0, "active": 1, "ended": 2, "closed": 3}


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """``end − start`` in (float) seconds, or None while either time is unknown."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def _earliest(a: tuple | None, b: tuple | None) -> tuple | None:
    """The smaller of two (time, …) tuples, ignoring None."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _latest(a: tuple | None, b: tuple | None) -> tuple | None:
    """The larger of two (time, …) tuples, ignoring None."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _union(a: tuple[str, ...], b: set[str]) -> tuple[str, ...]:
    return tuple(sorted(set(a) | {x for x in b if x}))


@dataclass(frozen=True)
class ChatFacts:
    """What analytics knows about one chat. Times are aware UTC datetimes, None until
    an event made them known.

    Attributes:
        department_id, patron_name: the department the chat was queued in and the
            patron's name, from the earliest event (by ``occurred_at``);
            ``department_at`` is that event's time.
        page_url: the page the widget was on.
        state: the furthest lifecycle state seen.
        queued_at: when the patron's chat entered the queue.
        claimed_at: the earliest claim (the queue keeps it through transfers).
        first_operator_id / first_operator_at: who claimed first — the owner named by
            the earliest event (by ``occurred_at``) that names one — and that event's time.
        operator_id / owner_at: the chat's last owner and the time of the event that
            said so (latest ``occurred_at``).
        first_response_at: ``sent_at`` of the earliest operator message that is not an
            internal note.
        ended_at / ended_by, closed_at: the end (earliest seen) and who ended it.
        dismissed_at / dismissed_by: when and by whom the chat was dismissed.
        operators: every operator who took part (owners, participants who stayed after
            a transfer, authors of operator messages), sorted.
        transfers: transfers that moved the chat (the highest ``transfer_count`` seen).
        messages_patron / messages_operator / messages_system / internal_notes:
            messages by side (operator messages exclude internal notes).
        message_count: the highest message ``seq`` seen.
        rating / rating_comment / rated_at: the patron's latest rating.
        ticket_ids / ticketed_at: tickets created from this chat; the first one's time.
        observed_at: the newest ``occurred_at`` of the chat events applied.
    """

    chat_id: str
    department_id: str | None = None
    department_at: datetime | None = None
    patron_name: str | None = None
    page_url: str | None = None
    state: str | None = None
    queued_at: datetime | None = None
    claimed_at: datetime | None = None
    first_operator_id: str | None = None
    first_operator_at: datetime | None = None
    operator_id: str | None = None
    owner_at: datetime | None = None
    first_response_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    closed_at: datetime | None = None
    dismissed_at: datetime | None = None
    dismissed_by: str | None = None
    operators: tuple[str, ...] = field(default=())
    transfers: int = 0
    messages_patron: int = 0
    messages_operator: int = 0
    messages_system: int = 0
    internal_notes: int = 0
    message_count: int = 0
    rating: int | None = None
    rating_comment: str | None = None
    rated_at: datetime | None = None
    ticket_ids: tuple[str, ...] = field(default=())
    ticketed_at: datetime | None = None
    observed_at: datetime | None = None

    # -- the metrics: one definition each --------------------------------------------

    @property
    def wait_seconds(self) -> float | None:
        """Wait time: ``claimed_at − queued_at`` (first claim), seconds; None if unclaimed."""
        return seconds_between(self.queued_at, self.claimed_at)

    @property
    def first_response_seconds(self) -> float | None:
        """First response time: first operator message (not an internal note, not a
        system message) − ``claimed_at``, seconds; None without such a message."""
        return seconds_between(self.claimed_at, self.first_response_at)

    @property
    def duration_seconds(self) -> float | None:
        """Duration: ``ended_at − claimed_at``, seconds; None if unclaimed or not ended."""
        return seconds_between(self.claimed_at, self.ended_at)

    @property
    def outcome(self) -> Outcome:
        """``dismissed`` (an operator dismissed it — wins over everything), else
        ``answered`` (an operator claimed it), else ``missed`` (ended or closed without
        a claim: the patron left before anyone claimed), else ``open`` (still queued)."""
        if self.dismissed_by is not None or self.dismissed_at is not None:
            return "dismissed"
        if self.claimed_at is not None:
            return "answered"
        if _STATE_RANK.get(self.state or "", -1) >= _STATE_RANK["ended"]:
            return "missed"
        return "open"

    @property
    def missed(self) -> bool:
        """``outcome == "missed"``."""
        return self.outcome == "missed"

    @property
    def ticketed(self) -> bool:
        """A ticket was created from this chat (independent of the outcome)."""
        return bool(self.ticket_ids)


def event_key(kind: Literal["chat", "message", "status", "ticket"], ident: str) -> str:
    """The de-duplication key of an event: ``chat:<event_id>``, ``message:<message id>``
    (a message counts once however often it is announced), ``status:<event_id>``,
    ``ticket:<ticket id>``."""
    return f"{kind}:{ident}"


def apply_chat_event(fact: ChatFacts, event: ChatEvent) -> ChatFacts:
    """Fold one queue lifecycle event (``queued``, ``claimed``, ``ended``, ``closed``,
    ``dismissed``, ``transfer_*``, ``rated``) into ``fact``. Commutative and, with the
    caller's de-duplication, idempotent (applying it twice gives the same fact anyway)."""
    chat, at = event.chat, event.occurred_at
    department = _earliest(
        (fact.department_at, fact.department_id, fact.patron_name) if fact.department_at else None,
        (at, chat.department_id, chat.patron_name),
    )
    first_operator = _earliest(
        (fact.first_operator_at, fact.first_operator_id) if fact.first_operator_at else None,
        (at, chat.claimed_by) if chat.claimed_by else None,
    )
    owner = _latest(
        (fact.owner_at, fact.operator_id) if fact.owner_at else None,
        (at, chat.claimed_by) if chat.claimed_by else None,
    )
    ended = _earliest(
        (fact.ended_at, fact.ended_by or "") if fact.ended_at else None,
        (chat.ended_at, chat.ended_by or "") if chat.ended_at else None,
    )
    dismissed_at = fact.dismissed_at
    dismissed_by = fact.dismissed_by
    if event.type == "dismissed" or chat.dismissed_by:
        pair = _earliest((dismissed_at, dismissed_by or "") if dismissed_at else None, (at, chat.dismissed_by or ""))
        dismissed_at, dismissed_by = pair[0], pair[1] or None
    rated = _latest(
        (fact.rated_at, fact.rating, fact.rating_comment or "") if fact.rated_at else None,
        (at, chat.rating, chat.rating_comment or "") if chat.rating is not None else None,
    )
    state = fact.state
    if state is None or _STATE_RANK.get(chat.state, -1) > _STATE_RANK.get(state, -1):
        state = chat.state
    return replace(
        fact,
        department_id=department[1], department_at=department[0],
        patron_name=department[2],
        page_url=min(filter(None, (fact.page_url, chat.page_url)), default=None),
        state=state,
        queued_at=min(filter(None, (fact.queued_at, chat.queued_at))),
        claimed_at=min(filter(None, (fact.claimed_at, chat.claimed_at)), default=None),
        first_operator_id=first_operator[1] if first_operator else None,
        first_operator_at=first_operator[0] if first_operator else None,
        operator_id=owner[1] if owner else None, owner_at=owner[0] if owner else None,
        ended_at=ended[0] if ended else None, ended_by=(ended[1] or None) if ended else None,
        closed_at=min(filter(None, (fact.closed_at, chat.closed_at)), default=None),
        dismissed_at=dismissed_at, dismissed_by=dismissed_by,
        operators=_union(fact.operators, {chat.claimed_by or ""} | {p.operator_id for p in chat.participants}),
        transfers=max(fact.transfers, chat.transfer_count),
        rating=rated[1] if rated else None,
        rating_comment=(rated[2] or None) if rated else None,
        rated_at=rated[0] if rated else None,
        observed_at=max(filter(None, (fact.observed_at, at))),
    )


def apply_message(fact: ChatFacts, message: Message) -> ChatFacts:
    """Fold one posted message into ``fact`` (call once per message): counts it by side
    (an operator's internal note — ``message.internal`` — counts as an internal note,
    never as a message to the patron nor as a response); the earliest operator message
    that is not an internal note sets ``first_response_at``."""
    internal = bool(getattr(message, "internal", False))
    kind = message.author_kind
    first = fact.first_response_at
    if kind == "operator" and not internal and (first is None or message.sent_at < first):
        first = message.sent_at
    return replace(
        fact,
        first_response_at=first,
        messages_patron=fact.messages_patron + (kind == "patron" and not internal),
        messages_operator=fact.messages_operator + (kind == "operator" and not internal),
        messages_system=fact.messages_system + (kind == "system" and not internal),
        internal_notes=fact.internal_notes + internal,
        message_count=max(fact.message_count, message.seq),
        operators=_union(fact.operators, {message.author_id or ""} if kind == "operator" else set()),
    )


def apply_ticket(fact: ChatFacts, ticket_id: str, created_at: datetime) -> ChatFacts:
    """Fold "ticket ``ticket_id`` was created from this chat at ``created_at``" into ``fact``."""
    return replace(
        fact,
        ticket_ids=_union(fact.ticket_ids, {ticket_id}),
        ticketed_at=min(filter(None, (fact.ticketed_at, created_at))),
    )
