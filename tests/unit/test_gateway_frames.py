"""Client frame parsing and validation, readable error sentences, server frame JSON."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from gateway import frames
from gateway.errors import describe, is_valid_unicode, printable, problems, unavailable_message
from gateway.frames import FRAME_TYPES, ChatSend, ChatSubscribe, FrameError, Hello, StatusSet, parse_frame
from gateway.frames_ra import RaSave
from refdesk.contracts.chat import Message


def error_of(raw: str) -> FrameError:
    with pytest.raises(FrameError) as caught:
        parse_frame(raw)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "model"),
    [
        ({"type": "hello", "token": "t"}, Hello),
        ({"type": "status.set", "status": "online", "monitored": ["reference", "archives"]}, StatusSet),
        ({"type": "chat.send", "chat_id": "0123abcd", "cmid": "c-1", "body": "Hello", "ref": "r1"}, ChatSend),
        ({"type": "ra.save", "chat_id": "c", "dataset_id": "default", "values": {"mode": "chat", "n": 3}}, RaSave),
    ],
)
def test_valid_frames_parse_to_their_model(raw: dict, model: type) -> None:
    frame = parse_frame(json.dumps(raw))
    assert isinstance(frame, model)
    assert frame.model_dump(exclude_defaults=True) == {k: v for k, v in raw.items()}


def test_every_protocol_type_is_known() -> None:
    assert set(FRAME_TYPES) == {
        "hello", "ping", "status.set", "chat.subscribe", "chat.claim", "chat.send", "chat.typing", "chat.end",
        "chat.close", "canned.list", "ra.form", "ra.save", "chat.dismiss",
        "ra.delete", "ra.list", "ra.history", "ra.datasets", "ra.dataset", "ra.dataset.save", "chat.rate",
        "screenshare.request", "screenshare.answer", "screenshare.get",
        "transcript.email", "transcript.mails", "transcript.retry",
        "ticket.list", "ticket.get", "ticket.create_from_chat", "ticket.claim", "ticket.unclaim", "ticket.assign",
        "ticket.reply", "ticket.note", "ticket.status",
        "staff.list", "internal.rooms", "internal.open", "internal.subscribe", "internal.earlier", "internal.send",
        "internal.read",
        "transfer.request", "transfer.accept", "transfer.decline", "transfer.cancel", "transfer.preview",
    }


def test_subscribe_defaults_after_seq_to_zero() -> None:
    frame = parse_frame('{"type":"chat.subscribe","chat_id":"abc"}')
    assert isinstance(frame, ChatSubscribe) and frame.after_seq == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "The frame is not valid JSON."),
        ("[1, 2]", 'A frame must be a JSON object with a "type".'),
        ('{"chat_id": "a"}', 'The frame has no "type".'),
        ('{"type": "chat.shout"}', 'Unknown frame type "chat.shout".'),
        ('{"type": 7}', 'Unknown frame type "7".'),
        ('{"type": "chat.send", "chat_id": "a", "body": "hi"}', 'Bad "chat.send" frame: cmid is required.'),
        ('{"type": "chat.send", "chat_id": "a", "cmid": "c", "body": ""}',
         'Bad "chat.send" frame: body must not be empty.'),
        ('{"type": "chat.claim", "chat_id": "a", "colour": "red"}',
         'Bad "chat.claim" frame: colour is not a known field.'),
        ('{"type": "chat.subscribe", "chat_id": "a", "after_seq": "5"}',
         'Bad "chat.subscribe" frame: after_seq must be a whole number.'),
        ('{"type": "chat.subscribe", "chat_id": "a", "after_seq": -1}',
         'Bad "chat.subscribe" frame: after_seq must be at least 0.'),
        ('{"type": "chat.subscribe", "chat_id": "a", "after_seq": 9223372036854775808}',
         'Bad "chat.subscribe" frame: after_seq must be at most 9007199254740992.'),
        ('{"type": "chat.subscribe", "chat_id": "a", "after_seq": 1e30}',
         'Bad "chat.subscribe" frame: after_seq must be a whole number.'),
        ('{"type": "ping", "ref": "\\ud800"}', "The frame contains text that is not valid Unicode."),
        ('{"type": "\\udfff"}', "The frame contains text that is not valid Unicode."),
        ('{"type": "ping", "\\ud800": 1}', "The frame contains text that is not valid Unicode."),
        ('{"type": "ra.save", "chat_id": "a", "dataset_id": "d", "values": {"note": "\\ud83d"}}',
         "The frame contains text that is not valid Unicode."),
        ('{"type": "chat.typing", "chat_id": "a", "typing": 1}',
         'Bad "chat.typing" frame: typing must be true or false.'),
        ('{"type": "status.set", "status": "away"}',
         "Bad \"status.set\" frame: status must be one of 'online' or 'offline'."),
        ('{"type": "chat.end", "chat_id": "a.>"}',
         'Bad "chat.end" frame: chat_id contains characters that are not allowed.'),
        ('{"type": "ra.save", "chat_id": "a", "dataset_id": "d", "values": []}',
         'Bad "ra.save" frame: values must be an object.'),
    ],
)
def test_malformed_frames_get_400_with_a_sentence(raw: str, message: str) -> None:
    error = error_of(raw)
    assert (error.code, error.message) == ("400", message)


def test_error_carries_the_ref_when_it_can_be_read() -> None:
    assert error_of('{"type": "nope", "ref": "r-9"}').ref == "r-9"
    assert error_of('{"type": "chat.claim", "ref": "r-10"}').ref == "r-10"
    assert error_of('{"type": "chat.claim", "chat_id": "a", "ref": 5}').ref is None


def test_escaped_surrogate_pairs_are_text_and_a_bad_frame_keeps_a_valid_ref() -> None:
    frame = parse_frame('{"type": "ping", "ref": "\\ud83d\\udcda"}')
    assert frame.ref == "📚"
    error = error_of('{"type": "ra.save", "chat_id": "a", "dataset_id": "d", "values": {"n": "\\ud800"}, "ref": "r1"}')
    assert (error.code, error.ref) == ("400", "r1")
    json.loads(error.frame())  # the error frame itself can be sent


def test_ref_longer_than_64_characters_is_refused() -> None:
    error = error_of(json.dumps({"type": "ping", "ref": "r" * 65}))
    assert error.code == "400" and "ref must be at most 64 characters" in error.message
    assert error.ref is None


def test_frames_over_64_kib_get_413_counting_utf8_bytes() -> None:
    fits = json.dumps({"type": "chat.send", "chat_id": "a", "cmid": "c", "body": "é" * 30_000}, ensure_ascii=False)
    assert isinstance(parse_frame(fits), ChatSend)
    too_big = json.dumps({"type": "chat.send", "chat_id": "a", "cmid": "c", "body": "é" * 33_000}, ensure_ascii=False)
    assert len(too_big) < frames.MAX_FRAME_BYTES < len(too_big.encode())
    error = error_of(too_big)
    assert (error.code, error.message) == ("413", "The frame is larger than 64 KiB.")


def test_an_oversized_frame_is_answered_with_its_ref_when_it_can_be_read() -> None:
    body = "x" * 100_000
    assert error_of(json.dumps({"type": "chat.send", "ref": "big-1", "body": body})).ref == "big-1"
    assert error_of(json.dumps({"body": body, "nested": {"ref": "inner"}})).ref is None
    assert error_of(json.dumps({"type": "chat.send", "ref": "r" * 65, "body": body})).ref is None
    assert error_of(json.dumps({"type": "chat.send", "ref": 7, "body": body})).ref is None
    assert error_of('{"type": "chat.send", "ref": "cut", "body": "' + body).ref == "cut"  # not JSON: read from the text


def test_error_frame_json() -> None:
    assert json.loads(frames.error("409", "This chat has ended.", "r1")) == {
        "type": "error", "code": "409", "message": "This chat has ended.", "ref": "r1"}
    assert "ref" not in json.loads(frames.error("400", "Bad."))
    assert json.loads(FrameError("413", "Too big.", "x").frame())["ref"] == "x"


def test_message_frame_has_utc_iso_times() -> None:
    sent = datetime(2026, 11, 30, 14, 3, 22, 512000, tzinfo=timezone.utc)
    msg = Message(id="m1", chat_id="c1", seq=3, cmid="k", author_kind="patron", author_name="Pat", body="Hi",
                  sent_at=sent)
    frame = json.loads(frames.message(msg))
    assert frame["type"] == "message" and frame["chat_id"] == "c1"
    assert frame["message"]["seq"] == 3 and frame["message"]["sent_at"] == "2026-11-30T14:03:22.512000Z"


def test_reply_and_pong_echo_the_ref() -> None:
    assert json.loads(frames.reply({"top_seq": 2}, "s1")) == {"type": "reply", "ref": "s1", "data": {"top_seq": 2}}
    assert json.loads(frames.pong("p")) == {"type": "pong", "ref": "p"}
    assert json.loads(frames.pong()) == {"type": "pong"}


def test_describe_uses_labels_for_http_bodies() -> None:
    errors = [
        {"type": "string_too_short", "loc": ("body", "name"), "msg": "", "ctx": {"min_length": 1}},
        {"type": "value_error", "loc": ("body", "email"),
         "msg": "value is not a valid email address: An email address must have an @-sign."},
        {"type": "string_too_long", "loc": ("body", "question"), "msg": "", "ctx": {"max_length": 2000}},
    ]
    labels = {"name": "Your name", "question": "Your question"}
    assert describe(errors, skip=1, labels=labels) == (
        "Your name must not be empty; email is not a valid email address; "
        "Your question must be at most 2000 characters."
    )


def test_problems_leave_out_the_input_and_make_every_string_encodable() -> None:
    errors = [
        {"type": "string_too_long", "loc": ("body", "question"), "msg": "String should have at most 2000 characters",
         "input": "my card number is 29876543", "ctx": {"max_length": 2000}},
        {"type": "extra_forbidden", "loc": ("body", "\ud800"), "msg": "Extra inputs are not permitted", "input": 1},
    ]
    assert problems(errors) == [
        {"loc": ["body", "question"], "type": "string_too_long", "msg": "String should have at most 2000 characters"},
        {"loc": ["body", "\ufffd"], "type": "extra_forbidden", "msg": "Extra inputs are not permitted"},
    ]
    sentence = describe(errors, skip=1)
    assert sentence == "question must be at most 2000 characters; \ufffd is not a known field."
    sentence.encode()


def test_printable_and_valid_unicode() -> None:
    assert is_valid_unicode("¿Dónde? 📚") and not is_valid_unicode("a\udc00")
    assert printable("a\ud800b📚") == "a\ufffdb📚"


def test_unavailable_message_names_the_service() -> None:
    assert unavailable_message("rd.chat.send") == "The chat service is not answering; please try again."
    assert unavailable_message("rd.queue.chat.claim") == "The chat service is not answering; please try again."
    assert unavailable_message("rd.analytics.record.create") == (
        "The Reference Analytics service is not answering; please try again.")


# --- frames the JSON parser cannot read --------------------------------------------

DEEP = "[" * 10_000 + "]" * 10_000  # 20,000 characters: far below 64 KiB


@pytest.mark.parametrize(("raw", "ref"), [
    ('{"type": "ping", "ref": "deep-1", "x": ' + DEEP + "}", "deep-1"),
    ('{"type": "ra.save", "chat_id": "a", "dataset_id": "d", "values": {"n": ' + DEEP + '}, "ref": "deep-2"}',
     "deep-2"),
    ('{"type": "ping", "x": ' + DEEP + "}", None),
])
def test_a_deeply_nested_frame_is_a_400_with_its_ref(raw: str, ref: str | None) -> None:
    error = error_of(raw)
    assert (error.code, error.message, error.ref) == ("400", "The frame is nested too deeply.", ref)


def test_nesting_the_parser_can_read_is_refused_by_the_frame_types() -> None:
    raw = '{"type": "ra.save", "chat_id": "a", "dataset_id": "d", "values": {"n": ' + "[" * 500 + "]" * 500 + "}}"
    assert error_of(raw).message.startswith('Bad "ra.save" frame: values must give each field text')


def test_a_number_too_long_to_convert_is_a_400_with_its_ref() -> None:
    error = error_of('{"type": "chat.subscribe", "chat_id": "a", "ref": "n-1", "after_seq": ' + "7" * 5000 + "}")
    assert (error.code, error.message, error.ref) == ("400", "The frame is not valid JSON.", "n-1")


@pytest.mark.parametrize(("raw", "ref"), [
    ('{"ref":"a.b:c_d-9", "x": 1,,}', "a.b:c_d-9"),
    ('{"type": "ping",\n  "ref" :  "spaced" }x', "spaced"),
    ('{"type": "chat.send", "body": "see \\"ref\\": \\"inner\\", ok", "oops": }', None),  # inside a string
    ('{"type": "ping", "ref": "' + "r" * 65 + '", "x": }', None),  # longer than 64
    ('{"type": "ping", "ref": "has space", "x": }', None),  # not a plain ref
    ('{"type": "ping", "ref": 12, "x": }', None),
])
def test_the_ref_of_unparseable_json_is_read_from_the_text_when_it_is_plain(raw: str, ref: str | None) -> None:
    error = error_of(raw)
    assert (error.code, error.ref) == ("400", ref)


def test_ra_values_are_text_numbers_lists_of_text_or_null() -> None:
    values = {"mode": "Chat", "duration": 12, "minutes": 7.5, "tags": ["a", "b"], "answer": None}
    frame = parse_frame(json.dumps({"type": "ra.save", "chat_id": "c", "dataset_id": "d", "values": values}))
    assert isinstance(frame, RaSave) and frame.values == values
    for bad in ({"x": 1}, [1], [["a"]], True):
        error = error_of(json.dumps({"type": "ra.save", "chat_id": "c", "dataset_id": "d", "values": {"note": bad}}))
        assert error.message == ('Bad "ra.save" frame: values must give each field text, a finite number, '
                                 "a list of texts or null (check: note).")


def test_a_bad_ra_value_under_a_long_or_odd_key_is_counted_not_echoed() -> None:
    values = {"k" * 500: {"x": 1}, "bad key!": [1], "fine": "ok"}
    error = error_of(json.dumps({"type": "ra.save", "chat_id": "c", "dataset_id": "d", "values": values}))
    assert error.message.endswith("(check: 2 fields).") and "kkk" not in error.message
