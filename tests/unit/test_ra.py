"""Unit tests of services/analytics/ra.py (Reference Analytics validation of every
field kind, the READ scale, answered_at, who may change a record, the audit diff,
admin dataset edits) and of the gateway's RA helpers (transcript excerpt, times)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.handlers_ra import answered_at, transcript_excerpt
from refdesk.bus import Forbidden, Invalid
from refdesk.contracts.analytics import READ_SCALE, DatasetField, DatasetSave, FieldInput, RaRecord
from refdesk.contracts.chat import Message
from services.analytics import ra
from services.analytics.seed import DEFAULT_DATASET

FIELDS = DEFAULT_DATASET.fields
VALID = {"location": "Chat", "mode": "Chat", "duration": 12}
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


def problems(values: dict, fields: list[DatasetField] = FIELDS) -> str:
    with pytest.raises(Invalid) as caught:
        ra.validate_values(fields, values)
    assert caught.value.code == "422"
    return caught.value.message


def field(kind: str, **extra) -> DatasetField:
    return DatasetField(key="f", label="F", kind=kind, **extra)


# -- the default dataset -----------------------------------------------------------------


def test_default_dataset_fields_in_form_order() -> None:
    assert [(f.key, f.kind, f.required, f.position) for f in FIELDS] == [
        ("location", "single_choice", True, 0),
        ("mode", "single_choice", True, 1),
        ("duration", "number", True, 2),
        ("referred_by", "single_choice", False, 3),
        ("question_type", "single_choice", False, 4),
        ("read_scale", "read_scale", False, 5),
        ("question", "text", False, 6),
        ("answer", "text", False, 7),
        ("internal_note", "text", False, 8),
    ]
    assert "Reference desk" in FIELDS[0].options and FIELDS[1].options == ["Chat", "In person", "Phone", "Email",
                                                                            "Text/SMS"]


def test_read_scale_has_six_described_levels() -> None:
    assert [level.level for level in READ_SCALE] == [1, 2, 3, 4, 5, 6]
    assert all(level.title and len(level.description) > 20 for level in READ_SCALE)


# -- every kind ----------------------------------------------------------------------------


def test_valid_values_are_cleaned() -> None:
    cleaned = ra.validate_values(FIELDS, {
        "location": " reference DESK ", "mode": "Chat", "duration": "7.5", "referred_by": "", "read_scale": "4",
        "question": "  Where are the maps?  ", "answer": None, "question_type": "research"})
    assert cleaned == {"location": "Reference desk", "mode": "Chat", "duration": 7.5, "read_scale": 4,
                       "question": "Where are the maps?", "question_type": "Research"}


@pytest.mark.parametrize(("given_value", "stored"), [(12, 12), (12.0, 12), ("15", 15), (0, 0), (2.25, 2.25)])
def test_duration_numbers(given_value: object, stored: object) -> None:
    cleaned = ra.validate_values(FIELDS, {**VALID, "duration": given_value})
    assert cleaned["duration"] == stored and type(cleaned["duration"]) is type(stored)


@pytest.mark.parametrize("bad", [-1, "-0.5", "ten", True, float("nan"), float("inf"), [3], 1e308, 10**30, "1441",
                                 10**400, -(10**400), "1e400", "9" * 400])
def test_duration_must_be_a_number_of_minutes_in_its_range(bad: object) -> None:
    assert problems({**VALID, "duration": bad}) == "Duration must be a number of minutes from 0 to 1,440."


def test_number_range_of_a_field() -> None:
    fields = [field("number", min_value=1.5, max_value=10)]
    assert ra.validate_values(fields, {"f": 1.5}) == {"f": 1.5}
    assert problems({"f": 1}, fields) == "F must be a number from 1.5 to 10."


def test_single_choice_must_be_an_option() -> None:
    assert problems({**VALID, "mode": "Carrier pigeon"}) == "Mode must be one of: Chat, In person, Phone, Email, Text/SMS."
    assert problems({**VALID, "referred_by": 3}).startswith("Referred by must be one of: Library website,")
    assert problems({**VALID, "mode": ["Chat"]}).startswith("Mode must be one of:")


def test_multiple_choice_is_a_list_of_options_in_option_order() -> None:
    fields = [field("multiple_choice", options=["Maps", "Law", "Art"])]
    assert ra.validate_values(fields, {"f": ["art", " maps "]}) == {"f": ["Maps", "Art"]}
    assert ra.validate_values(fields, {"f": "Law"}) == {"f": ["Law"]}
    assert ra.validate_values(fields, {"f": ["Law", "law"]}) == {"f": ["Law"]}
    assert ra.validate_values(fields, {"f": ["", "  "]}) == {}  # blank items: not given
    assert problems({"f": ["Maps", "Cooking"]}, fields) == "F must be chosen from: Maps, Law, Art."
    assert problems({"f": 3}, fields) == "F must be chosen from: Maps, Law, Art."
    required = [field("multiple_choice", options=["Maps"], required=True)]
    assert problems({"f": []}, required) == "Please fill in: F."


@pytest.mark.parametrize(("given_value", "stored"), [
    ("2026-12-02", "2026-12-02"), ("2026-12-02T09:30:00-05:00", "2026-12-02T14:30:00Z"),
    ("2026-12-02T14:30Z", "2026-12-02T14:30:00Z"), ("2026-12-02t14:30:05.9z", "2026-12-02T14:30:05Z")])
def test_datetime_values_are_iso_8601_stored_in_utc(given_value: str, stored: str) -> None:
    assert ra.validate_values([field("datetime")], {"f": given_value}) == {"f": stored}


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-12-02T14:30", "02/12/2026", 20261202, "2026-12-02 x"])
def test_datetime_values_need_a_date_or_a_zoned_time(bad: object) -> None:
    assert problems({"f": bad}, [field("datetime")]).startswith("F must be an ISO-8601 date (2026-12-02)")


@pytest.mark.parametrize(("given_value", "stored"), [(1, 1), (6, 6), ("3", 3), (4.0, 4)])
def test_read_scale_levels(given_value: object, stored: int) -> None:
    assert ra.validate_values(FIELDS, {**VALID, "read_scale": given_value})["read_scale"] == stored


@pytest.mark.parametrize("bad", [0, 7, 2.5, "high", True, [3]])
def test_read_scale_refuses_anything_but_1_to_6(bad: object) -> None:
    assert problems({**VALID, "read_scale": bad}) == "READ scale must be a READ scale level from 1 to 6."


def test_text_must_be_text_of_bounded_length_and_is_cleaned() -> None:
    assert problems({**VALID, "question": 42}) == "Question must be text."
    assert problems({**VALID, "answer": "x" * 4001}) == "Answer must be at most 4000 characters."
    assert problems({**VALID, "answer": ["a", "b"]}) == "Answer must be text."
    cleaned = ra.validate_values(FIELDS, {**VALID, "question": "Nul\x00 here\r\nand \u202ethere ", "answer": "\t\u200b"})
    assert cleaned == {**VALID, "question": "Nul here\nand there"}


def test_missing_required_fields_are_named_first_in_one_sentence() -> None:
    assert problems({}) == "Please fill in: Location, Mode, Duration."
    assert problems({"mode": "Fax", "duration": -3, "extra": "x"}) == (
        "Please fill in: Location. Mode must be one of: Chat, In person, Phone, Email, Text/SMS. "
        "Duration must be a number of minutes from 0 to 1,440. Unknown field: extra.")


def test_unknown_keys_are_named_only_when_short_and_plain_else_counted() -> None:
    long_key, odd_key = "x" * 5000, "<b>\u202eevil"
    assert problems({**VALID, "colour": "blue"}) == "Unknown field: colour."
    assert problems({**VALID, long_key: 1, odd_key: 2}) == "The form has 2 unknown fields."
    assert problems({**VALID, "zeta": 1, long_key: 1, odd_key: 2}) == "Unknown fields: zeta and 2 others."


def test_archived_fields_are_never_required_but_keep_their_values() -> None:
    fields = [field("single_choice", options=["A"], required=True, archived=True)]
    assert ra.validate_values(fields, {}) == {}
    assert ra.validate_values(fields, {"f": "a"}) == {"f": "A"}


# -- the time answered ------------------------------------------------------------------------


def test_answered_at_defaults_to_now_and_may_be_backdated_not_in_the_future() -> None:
    assert ra.answered_time(None, NOW) == NOW
    earlier = datetime(2026, 11, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert ra.answered_time(earlier, NOW) == datetime(2026, 11, 1, 14, 0, tzinfo=timezone.utc)
    assert ra.answered_time(NOW + timedelta(minutes=4), NOW) == NOW + timedelta(minutes=4)  # clock skew
    with pytest.raises(Invalid, match="cannot be in the future"):
        ra.answered_time(NOW + timedelta(minutes=6), NOW)
    with pytest.raises(Invalid, match="time zone"):
        ra.answered_time(datetime(2026, 12, 1, 9, 0), NOW)
    with pytest.raises(Invalid, match="before 2000; please check the year"):
        ra.answered_time(datetime(206, 12, 1, 9, 0, tzinfo=timezone.utc), NOW)


def test_the_gateway_reads_answered_at_with_a_zone_only() -> None:
    assert answered_at(None, NOW) is None
    assert answered_at("2026-12-01T09:00:00Z", NOW) == datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    for bad, words in (("2026-12-01T09:00", "time zone"), ("soon", "ISO-8601")):
        with pytest.raises(Invalid, match=words):
            answered_at(bad, NOW)


# -- who may change a record; the audit diff ---------------------------------------------------


def record(**extra) -> RaRecord:
    fields = {"id": "r1", "dataset_id": "default", "operator_id": "op-ana", "values": {**VALID, "read_scale": 2},
              "answered_at": NOW, "created_at": NOW, "created_by": "op-cleo"}
    return RaRecord(**{**fields, **extra})


def test_the_author_whoever_entered_it_or_an_admin_may_change_a_record() -> None:
    for actor, admin in (("op-ana", False), ("op-cleo", False), ("op-dan", True)):
        ra.check_may_change(record(), actor, admin)
    with pytest.raises(Forbidden, match="Only the librarian who recorded this question, or an admin"):
        ra.check_may_change(record(), "op-ben", False)


def test_audit_diff_names_what_changed() -> None:
    before = ra.snapshot(record())
    assert before["answered_at"] == "2026-12-02T15:00:00+00:00" and before["deleted"] is False
    after = ra.snapshot(record(values={**VALID, "read_scale": 3, "question": "Maps?"}))
    assert ra.changed_keys(before, after) == ["question", "read_scale"]
    assert ra.changed_keys(None, before) == ["duration", "location", "mode", "read_scale"]  # a create
    moved = ra.snapshot(record(answered_at=NOW - timedelta(days=1)))
    assert ra.changed_keys(before, moved) == ["answered_at"]
    assert ra.changed_keys(before, ra.snapshot(record(deleted_at=NOW))) == ["deleted"]
    assert ra.changed_keys(before, before) == []


# -- admin dataset edits -------------------------------------------------------------------------


def test_a_new_dataset_gets_an_id_from_its_name() -> None:
    assert ra.new_dataset_id("Desk stats!", set()) == "desk-stats"
    assert ra.new_dataset_id("Desk stats", {"desk-stats", "desk-stats-2"}) == "desk-stats-3"
    assert ra.new_dataset_id("★★★", set()) == "dataset"


def test_merge_keeps_left_out_fields_archived_and_positions_in_order() -> None:
    save = DatasetSave(name="Reference Analytics", fields=[
        FieldInput(key="mode", label="Mode", kind="single_choice", options=["Chat", "Phone"], required=True),
        FieldInput(key="location", label="Where", kind="single_choice", options=["Desk"]),
        FieldInput(key="topic", label="Topic", kind="text", default="General"),
    ])
    merged = ra.merge_dataset(save, "default", DEFAULT_DATASET)
    assert [(f.key, f.position, f.archived) for f in merged.fields][:4] == [
        ("mode", 0, False), ("location", 1, False), ("topic", 2, False), ("duration", 3, True)]
    assert {f.key for f in merged.fields} >= {f.key for f in FIELDS}  # no key is lost
    assert merged.fields[1].label == "Where" and merged.fields[2].default == "General"


@pytest.mark.parametrize(("fields", "message"), [
    ([FieldInput(key="mode", label="Mode", kind="text")],
     "Mode was a single choice field; a field keeps its kind (add a new field instead)."),
    ([FieldInput(key="a", label="A", kind="text"), FieldInput(key="a", label="B", kind="number")],
     "Each field needs its own key (used twice: a)."),
    ([FieldInput(key="p", label="Pick", kind="multiple_choice", options=["X", "x"])], "Pick lists an option twice."),
    ([FieldInput(key="n", label="N", kind="number", min_value=5, max_value=1)],
     "N: the lowest number must not be above the highest."),
    ([FieldInput(key="r", label="R", kind="read_scale", default=9)], "R: the default is not a value this field accepts."),
    ([FieldInput(key="c", label="C", kind="single_choice", options=["A"], default="B")],
     "C: the default is not a value this field accepts."),
])
def test_merge_refuses_readably(fields: list[FieldInput], message: str) -> None:
    with pytest.raises(Invalid) as caught:
        ra.merge_dataset(DatasetSave(name="X", fields=fields), "default", DEFAULT_DATASET)
    assert caught.value.message == message


def test_field_keys_are_plain() -> None:
    with pytest.raises(ValueError):
        FieldInput(key="Bad Key", label="x", kind="text")


# -- the transcript excerpt -----------------------------------------------------------------------


def msg(seq: int, kind: str, body: str, *, internal: bool = False) -> Message:
    return Message(id=f"m{seq}", chat_id="c", seq=seq, cmid=f"c{seq}", author_kind=kind,
                   author_name={"patron": "Pat", "operator": "Ana", "system": "refdesk"}[kind], body=body,
                   sent_at=NOW, internal=internal)


def test_the_excerpt_is_the_patron_visible_conversation_cut_near_1500_characters() -> None:
    messages = [msg(1, "patron", "Maps?"), msg(2, "system", "Ana joined the chat."),
                msg(3, "operator", "Checking.", internal=True), msg(4, "operator", "Second floor.")]
    assert transcript_excerpt(messages) == "Pat: Maps?\nAna: Second floor."
    long = transcript_excerpt([msg(1, "patron", "word " * 600)])
    assert len(long) <= 1500 and long.endswith("word…")
