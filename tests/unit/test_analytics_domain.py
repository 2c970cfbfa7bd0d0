"""Unit tests of services/analytics/domain.py: Reference Analytics validation and
chat facts folded from events (in order, out of order, repeated)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refdesk.bus import Invalid
from refdesk.contracts.analytics import DatasetField
from refdesk.contracts.chat import Message
from refdesk.contracts.queue import ChatView
from services.analytics.domain import ChatFact, apply_chat_event, apply_message, seconds_between, validate_values
from services.analytics.seed import DEFAULT_DATASET

FIELDS = DEFAULT_DATASET.fields
VALID = {"location": "Online", "mode": "Chat", "duration": 12}


def problems(values: dict) -> str:
    with pytest.raises(Invalid) as caught:
        validate_values(FIELDS, values)
    assert caught.value.code == "422"
    return caught.value.message


# -- validation ------------------------------------------------------------------------


def test_default_dataset_fields_in_form_order() -> None:
    assert [(f.key, f.kind, f.required, f.position) for f in FIELDS] == [
        ("location", "choice", True, 0),
        ("mode", "choice", True, 1),
        ("duration", "number", True, 2),
        ("referred_by", "choice", False, 3),
        ("question", "text", False, 4),
        ("answer", "text", False, 5),
    ]


def test_valid_values_are_cleaned() -> None:
    cleaned = validate_values(
        FIELDS,
        {"location": " main library ", "mode": "Chat", "duration": "7.5", "referred_by": "",
         "question": "  Where are the maps?  ", "answer": None},
    )
    assert cleaned == {"location": "Main Library", "mode": "Chat", "duration": 7.5, "question": "Where are the maps?"}


@pytest.mark.parametrize(("given_value", "stored"), [(12, 12), (12.0, 12), ("15", 15), (0, 0), (2.25, 2.25)])
def test_duration_numbers(given_value: object, stored: object) -> None:
    cleaned = validate_values(FIELDS, {**VALID, "duration": given_value})
    assert cleaned["duration"] == stored
    assert type(cleaned["duration"]) is type(stored)


def test_missing_required_fields_are_named_in_one_sentence() -> None:
    assert problems({}) == "Please fill in: Location, Mode, Duration."
    assert problems({"duration": 3, "location": "   "}) == "Please fill in: Location, Mode."


@pytest.mark.parametrize("bad", [-1, "-0.5", "ten", True, float("nan"), float("inf"), [3], 1e308, 10**30, "1000001",
                                 10**400, -(10**400), "1e400", "9" * 400])
def test_duration_must_be_a_number_of_minutes_from_0_to_a_million(bad: object) -> None:
    assert problems({**VALID, "duration": bad}) == "Duration must be a number of minutes from 0 to 1,000,000."


def test_choice_must_be_an_option() -> None:
    assert problems({**VALID, "mode": "Carrier pigeon"}) == "Mode must be one of: Chat, In person, Phone, Email."
    assert problems({**VALID, "referred_by": 3}).startswith("Referred by must be one of: Library website,")


def test_text_must_be_text_of_bounded_length() -> None:
    assert problems({**VALID, "question": 42}) == "Question must be text."
    assert problems({**VALID, "answer": "x" * 4001}) == "Answer must be at most 4000 characters."


def test_unknown_keys_are_refused() -> None:
    assert problems({**VALID, "colour": "blue"}) == "Unknown field: colour."
    assert problems({**VALID, "zeta": 1, "alpha": 2}) == "Unknown fields: alpha, zeta."


def test_unknown_keys_are_named_only_when_short_and_plain_else_counted() -> None:
    long_key, odd_key = "x" * 5000, "<b>\u202eevil"
    assert problems({**VALID, long_key: 1}) == "The form has 1 unknown field."
    assert problems({**VALID, long_key: 1, odd_key: 2}) == "The form has 2 unknown fields."
    assert problems({**VALID, "zeta": 1, long_key: 1, odd_key: 2}) == "Unknown fields: zeta and 2 others."
    many = {f"k{i:02d}": i for i in range(8)}
    assert problems({**VALID, **many}) == "Unknown fields: k00, k01, k02, k03, k04 and 3 others."


def test_text_is_cleaned_as_it_is_stored() -> None:
    cleaned = validate_values(FIELDS, {**VALID, "question": "Nul\x00 here\r\nand \u202ethere ",
                                       "answer": "\t\u200b \n"})
    assert cleaned == {**VALID, "question": "Nul here\nand there"}  # the blank optional answer is left out


def test_a_blank_required_text_is_missing() -> None:
    fields = [*FIELDS, DatasetField(key="note", label="Note", kind="text", required=True, position=9)]
    for blank in ("", " \r\n", "\u200b\u202e", "\x00\x07", None, []):
        with pytest.raises(Invalid) as caught:
            validate_values(fields, {**VALID, "note": blank})
        assert caught.value.message == "Please fill in: Note."
    assert validate_values(fields, {**VALID, "note": " ok\x00 "})["note"] == "ok"


def test_lists_of_texts_fit_no_field_of_the_default_dataset() -> None:
    assert problems({**VALID, "answer": ["a", "b"]}) == "Answer must be text."
    assert problems({**VALID, "mode": ["Chat"]}).startswith("Mode must be one of:")


def test_every_problem_in_one_message_missing_first() -> None:
    message = problems({"mode": "Fax", "duration": -3, "extra": "x"})
    assert message == (
        "Please fill in: Location. Mode must be one of: Chat, In person, Phone, Email. "
        "Duration must be a number of minutes from 0 to 1,000,000. Unknown field: extra."
    )


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
