"""Unit tests of services/analytics/domain.py: chat facts folded from events (in
order, out of order, repeated). Reference Analytics validation: test_ra.py."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refdesk.contracts.chat import Message
from refdesk.contracts.queue import ChatView
from services.analytics.domain import ChatFact, apply_chat_event, apply_message, seconds_between

# -- chat facts ------------------------------------------------------------------------

T0 = datetime(2026, 11, 30, 14, 0, 0, 123456, tzinfo=timezone.utc)
QUEUED_AT = T0
CLAIMED_AT = T0 + timedelta(seconds=42, microseconds=500)
ENDED_AT = CLAIMED_AT + timedelta(minutes=9, seconds=3.25)
CLOSED_AT = ENDED_AT + timedelta(seconds=30)


def view(state: str, **times: datetime) -> ChatView:
    owner = {"claimed_by": "op-ana", "claimed_by_name": "Ana"} if "claimed_at" in times else {}
    ended = {"ended_by": "operator"} if "ended_at" in times else {}
    return ChatView(id="c1", department_id="reference", department_name="Reference", state=state,
                    patron_name="Pat", question="Maps?", queued_at=QUEUED_AT, **owner, **ended, **times)


# (chat after the change, occurred_at) for each lifecycle event of one chat.
QUEUED = (view("queued"), QUEUED_AT)
CLAIMED = (view("active", claimed_at=CLAIMED_AT), CLAIMED_AT)
ENDED = (view("ended", claimed_at=CLAIMED_AT, ended_at=ENDED_AT), ENDED_AT)
CLOSED = (view("closed", claimed_at=CLAIMED_AT, ended_at=ENDED_AT, closed_at=CLOSED_AT), CLOSED_AT)
LIFECYCLE = [QUEUED, CLAIMED, ENDED, CLOSED]


def message(seq: int, author_kind: str, sent_at: datetime) -> Message:
    return Message(id=f"m{seq}", chat_id="c1", seq=seq, cmid=f"cm{seq}", author_kind=author_kind,
                   author_name="x", body="hi", sent_at=sent_at)


MESSAGES = [
    message(1, "system", CLAIMED_AT),
    message(2, "operator", CLAIMED_AT + timedelta(seconds=5)),
    message(3, "patron", CLAIMED_AT + timedelta(seconds=20)),
    message(4, "operator", CLAIMED_AT + timedelta(seconds=30)),
]


def fold(events: list) -> ChatFact:
    fact = ChatFact(chat_id="c1")
    for event in events:
        if isinstance(event, Message):
            fact = apply_message(fact, event)
        else:
            fact = apply_chat_event(fact, *event)
    return fact


def test_seconds_between() -> None:
    assert seconds_between(QUEUED_AT, CLAIMED_AT) == 42.0005
    assert seconds_between(None, CLAIMED_AT) is None
    assert seconds_between(QUEUED_AT, None) is None


def test_queued_fact_has_no_wait_or_duration_yet() -> None:
    fact = fold([QUEUED])
    assert (fact.state, fact.department_id, fact.patron_name, fact.queued_at) == ("queued", "reference", "Pat", QUEUED_AT)
    assert fact.wait_seconds is None and fact.duration_seconds is None and fact.first_response_seconds is None
    assert not fact.missed


def test_facts_in_order() -> None:
    fact = fold([*LIFECYCLE, *MESSAGES])
    assert fact.state == "closed"
    assert fact.operator_id == "op-ana" and fact.ended_by == "operator"
    assert fact.wait_seconds == 42.0005
    assert fact.duration_seconds == 543.25
    assert fact.first_response_seconds == 5.0
    assert fact.message_count == 4
    assert fact.closed_at == CLOSED_AT and not fact.missed


def test_late_older_event_does_not_erase_known_times() -> None:
    after_end = fold([ENDED])
    assert after_end.wait_seconds == 42.0005 and after_end.duration_seconds == 543.25
    late = fold([ENDED, CLAIMED, QUEUED])
    assert late == after_end
    assert late.state == "ended"


def test_repeated_event_changes_nothing() -> None:
    once = fold([QUEUED, CLAIMED])
    assert apply_chat_event(once, *CLAIMED) == once
    assert apply_chat_event(once, *QUEUED) == once
    assert apply_message(apply_message(once, MESSAGES[1]), MESSAGES[1]) == apply_message(once, MESSAGES[1])


def test_newer_event_replaces_known_value() -> None:
    moved = view("queued").model_copy(update={"department_id": "archives"})
    fact = fold([QUEUED, (moved, QUEUED_AT + timedelta(seconds=1))])
    assert fact.department_id == "archives"
    assert fold([(moved, QUEUED_AT + timedelta(seconds=1)), QUEUED]).department_id == "archives"


def test_first_response_is_the_earliest_operator_message() -> None:
    fact = fold([CLAIMED, MESSAGES[3], MESSAGES[2], MESSAGES[0]])
    assert fact.first_response_at == MESSAGES[3].sent_at
    fact = apply_message(fact, MESSAGES[1])
    assert fact.first_response_at == MESSAGES[1].sent_at and fact.first_response_seconds == 5.0
    assert fact.message_count == 4


def test_patron_and_system_messages_are_not_a_response() -> None:
    fact = fold([CLAIMED, MESSAGES[0], MESSAGES[2]])
    assert fact.first_response_at is None and fact.message_count == 3


def test_messages_before_any_lifecycle_event() -> None:
    fact = fold([MESSAGES[1], QUEUED, CLAIMED])
    assert fact.first_response_seconds == 5.0 and fact.wait_seconds == 42.0005


def test_chat_ended_unclaimed_is_missed() -> None:
    gave_up = view("ended", ended_at=QUEUED_AT + timedelta(minutes=3)).model_copy(update={"ended_by": "patron"})
    fact = fold([QUEUED, (gave_up, gave_up.ended_at)])
    assert fact.missed and fact.wait_seconds is None and fact.duration_seconds is None
    assert fact.ended_by == "patron"


@pytest.mark.parametrize("order", list(itertools.permutations(LIFECYCLE)))
def test_any_order_of_lifecycle_events_gives_the_same_fact(order: tuple) -> None:
    assert fold(list(order)) == fold(LIFECYCLE)


@given(st.lists(st.sampled_from([*LIFECYCLE, *MESSAGES]), min_size=1, max_size=20))
def test_any_order_with_repeats_equals_the_in_order_fold(events: list) -> None:
    distinct = [event for event in [*LIFECYCLE, *MESSAGES] if event in events]
    assert fold(events) == fold(distinct)
