"""Unit tests of the chat service's pure rules (services/chat/domain.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from refdesk.bus import Invalid
from refdesk.contracts.chat import HISTORY_PAGE_BYTES, CannedMessage, HistoryRequest, Message, SendRequest, json_bytes
from refdesk.contracts.queue import ChatEvent, ChatView
from services.chat import domain
from services.chat.config import MAX_BODY_CHARS
from services.chat.seed import demo_canned

T0 = datetime(2026, 11, 30, 14, 3, 22, tzinfo=timezone.utc)


def view(**chat: object) -> ChatView:
    return ChatView(
        id="c1", department_id="reference", department_name="Reference", state="queued",
        patron_name="Maya", question="Do you have the 1923 city directory?", queued_at=T0,
    ).model_copy(update=chat)


def message(seq: int, body: str = "hi") -> Message:
    return Message(id=f"m{seq}", chat_id="c1", seq=seq, cmid=f"k{seq}", author_kind="patron",
                   author_name="Maya", body=body, sent_at=T0)


# --- bodies -----------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "stored"), [
    ("  hello  ", "hello"),
    ("\n\tline one\r\nline two\r\n", "line one\nline two"),
    ("a\x00b\x07c", "abc"),
    ("tab\tkept", "tab\tkept"),
    ("¿Dónde está el libro? 📚", "¿Dónde está el libro? 📚"),
])
def test_normalise_body_trims_and_cleans(raw: str, stored: str) -> None:
    assert domain.normalise_body(raw) == stored


@pytest.mark.parametrize("raw", ["", "   ", "\r\n\t \n", "\x00\x01"])
def test_blank_body_is_refused_with_422(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        domain.normalise_body(raw)
    assert caught.value.code == "422"
    assert "empty" in caught.value.message


def test_body_length_limit_counts_after_trimming() -> None:
    assert domain.normalise_body("  " + "x" * MAX_BODY_CHARS + "  ") == "x" * MAX_BODY_CHARS
    with pytest.raises(Invalid):
        domain.normalise_body("x" * (MAX_BODY_CHARS + 1))


def test_body_length_limit_counts_a_crlf_as_one_newline() -> None:
    body = "a" * (MAX_BODY_CHARS - 2) + "\r\n" + "b"
    assert len(body) == MAX_BODY_CHARS + 1
    assert len(domain.normalise_body(body)) == MAX_BODY_CHARS


def test_normalise_send_keeps_everything_but_the_body() -> None:
    request = SendRequest(chat_id="c1", cmid="k1", author_kind="operator", author_id="ana",
                          author_name="Ana", body="  Hello!  ")
    normalised = domain.normalise_send(request)
    assert normalised == request.model_copy(update={"body": "Hello!"})


def test_ack_mirrors_the_stored_message() -> None:
    ack = domain.ack_for(message(7), duplicate=True)
    assert (ack.chat_id, ack.cmid, ack.message_id, ack.seq, ack.sent_at, ack.duplicate) == \
        ("c1", "k7", "m7", 7, T0, True)


# --- lifecycle messages -------------------------------------------------------------

CLAIMED_AT = datetime(2026, 11, 30, 14, 5, 1, 250000, tzinfo=timezone.utc)


def test_queued_becomes_the_patrons_question() -> None:
    request = domain.lifecycle_message("queued", view())
    assert request is not None
    assert (request.author_kind, request.cmid, request.author_name, request.body) == \
        ("patron", "ev:question", "Maya", "Do you have the 1923 city directory?")


def test_claimed_says_who_joined_with_a_cmid_from_the_claim_time() -> None:
    request = domain.lifecycle_message(
        "claimed", view(state="active", claimed_by="ana", claimed_by_name="Ana", claimed_at=CLAIMED_AT))
    assert request is not None
    assert (request.author_kind, request.cmid, request.body) == \
        ("system", "ev:claimed:2026-11-30T14:05:01.250000+00:00", "Ana joined the chat.")


def test_claimed_cmid_names_the_same_instant_the_same_way_in_any_time_zone() -> None:
    elsewhere = CLAIMED_AT.astimezone(timezone(timedelta(hours=-5)))
    assert domain.claimed_cmid(elsewhere) == domain.claimed_cmid(CLAIMED_AT)
    assert domain.claimed_cmid(CLAIMED_AT + timedelta(microseconds=1)) != domain.claimed_cmid(CLAIMED_AT)


def test_a_claim_without_a_claim_time_adds_no_message() -> None:
    assert domain.lifecycle_message("claimed", view(state="active", claimed_by_name="Ana")) is None


@pytest.mark.parametrize(("ended_by", "wording"), [
    ("patron", "Maya ended the chat."),
    ("operator", "Ana ended the chat."),
])
def test_ended_says_who_ended_it(ended_by: str, wording: str) -> None:
    request = domain.lifecycle_message("ended", view(state="ended", claimed_by="ana", claimed_by_name="Ana",
                                                     claimed_at=CLAIMED_AT, ended_by=ended_by))
    assert request is not None
    assert (request.author_kind, request.cmid, request.body) == ("system", "ev:ended", wording)
    assert domain.ends_chat(request)


def test_only_the_end_message_ends_the_chat() -> None:
    claimed = domain.lifecycle_message("claimed", view(claimed_by_name="Ana", claimed_at=CLAIMED_AT))
    question = domain.lifecycle_message("queued", view())
    assert claimed is not None and question is not None
    assert not domain.ends_chat(claimed) and not domain.ends_chat(question)
    # a patron who picks the cmid "ev:ended" ends nothing
    assert not domain.ends_chat(question.model_copy(update={"cmid": "ev:ended"}))


def test_closed_adds_no_message_of_its_own() -> None:
    assert domain.lifecycle_message("closed", view(state="closed")) is None


# --- earlier transitions first ------------------------------------------------------

CLAIMED = view(state="active", claimed_by="cleo", claimed_by_name="Cleo", claimed_at=CLAIMED_AT)
ENDED = CLAIMED.model_copy(update={"state": "ended", "ended_by": "patron",
                                   "ended_at": CLAIMED_AT + timedelta(minutes=3)})
MISSED = view(state="ended", ended_by="patron", ended_at=CLAIMED_AT)  # ended while still queued
JOINED_CMID = "ev:claimed:2026-11-30T14:05:01.250000+00:00"


def keys(messages: list[SendRequest]) -> list[tuple[str, str, str]]:
    return [(m.author_kind, m.cmid, m.body) for m in messages]


QUESTION = ("patron", "ev:question", "Do you have the 1923 city directory?")
JOINED = ("system", JOINED_CMID, "Cleo joined the chat.")


@pytest.mark.parametrize(("transition", "chat", "expected"), [
    ("queued", view(), [QUESTION]),
    ("claimed", CLAIMED, [QUESTION, JOINED]),
    ("ended", ENDED, [QUESTION, JOINED, ("system", "ev:ended", "Maya ended the chat.")]),
    ("closed", ENDED.model_copy(update={"state": "closed"}), [QUESTION, JOINED, ("system", "ev:ended",
                                                                                "Maya ended the chat.")]),
    ("ended", MISSED, [QUESTION, ("system", "ev:ended", "Maya ended the chat.")]),
])
def test_a_transition_brings_every_earlier_one_the_chat_shows_in_order(
    transition: str, chat: ChatView, expected: list[tuple[str, str, str]],
) -> None:
    assert keys(domain.lifecycle_messages(transition, chat)) == expected  # type: ignore[arg-type]


def test_the_end_reported_first_gives_the_same_joined_message_as_the_claim() -> None:
    """The race of a claim and the patron's end: whichever report comes first, "Cleo
    joined the chat." has one cmid and one wording."""
    from_end = domain.lifecycle_messages("ended", ENDED)[1]
    from_claim = domain.lifecycle_messages("claimed", CLAIMED)[1]
    assert from_end == from_claim


@pytest.mark.parametrize(("chat", "expected"), [
    (view(), [QUESTION]),
    (CLAIMED, [QUESTION, JOINED]),
    (ENDED, [QUESTION, JOINED, ("system", "ev:ended", "Maya ended the chat.")]),
    (ENDED.model_copy(update={"state": "closed"}), [QUESTION, JOINED, ("system", "ev:ended", "Maya ended the chat.")]),
])
def test_a_send_first_needs_what_the_chats_state_shows(chat: ChatView, expected: list) -> None:
    assert keys(domain.messages_before_send(chat)) == expected


def test_a_send_may_carry_only_its_own_chat() -> None:
    SendRequest(chat_id="c1", cmid="k", author_kind="patron", author_name="Maya", body="hi", chat=view())
    with pytest.raises(ValidationError):
        SendRequest(chat_id="c2", cmid="k", author_kind="patron", author_name="Maya", body="hi", chat=view())


def test_a_transition_gives_the_same_message_whoever_reports_it() -> None:
    """The gateway reports the chat it got back from the queue service; the event carries
    the chat as committed — same values, so the same cmid and body."""
    claimed = view(state="active", claimed_by="ben", claimed_by_name="Ben", claimed_at=CLAIMED_AT)
    from_event = ChatEvent(event_id="e42", type="claimed", chat=claimed)
    from_wire = ChatView.model_validate_json(claimed.model_dump_json())
    assert domain.lifecycle_message("claimed", from_wire) == domain.lifecycle_message(from_event.type, from_event.chat)


# --- ordering and paging ------------------------------------------------------------

def canned(id_: str, title: str, welcome: bool = False) -> CannedMessage:
    return CannedMessage(id=id_, department_id="reference", title=title, body=title, is_welcome=welcome)


def test_canned_welcome_first_then_position_then_title() -> None:
    entries = [(1, canned("b", "beta")), (0, canned("c", "Charlie")), (5, canned("w", "Welcome", True)),
               (1, canned("a", "Alpha"))]
    assert [m.id for m in domain.order_canned(entries)] == ["w", "c", "a", "b"]


@pytest.mark.parametrize(("fetched", "limit", "seqs", "more"), [
    (0, 3, [], False),
    (2, 3, [1, 2], False),
    (3, 3, [1, 2, 3], False),
    (4, 3, [1, 2, 3], True),
])
def test_page_reports_more_only_when_rows_were_left_out(fetched: int, limit: int, seqs: list[int], more: bool) -> None:
    messages, has_more = domain.page([message(s) for s in range(1, fetched + 1)], limit, HISTORY_PAGE_BYTES)
    assert [m.seq for m in messages] == seqs
    assert has_more is more


def test_page_stops_at_the_byte_budget_counting_utf8_json() -> None:
    big = "图" * 3999  # 3 bytes each in UTF-8
    rows = [message(s, big) for s in range(1, 101)]
    assert json_bytes(rows[0]) > 3 * 3999
    ten = sum(json_bytes(m) for m in rows[:10])
    messages, more = domain.page(rows, 200, ten)
    assert [m.seq for m in messages] == list(range(1, 11)) and more
    messages, more = domain.page(rows, 200, ten - 1)
    assert [m.seq for m in messages] == list(range(1, 10)) and more
    assert sum(json_bytes(m) for m in domain.page(rows, 200, HISTORY_PAGE_BYTES)[0]) <= HISTORY_PAGE_BYTES


def test_page_keeps_one_message_bigger_than_the_budget() -> None:
    messages, more = domain.page([message(1, "x" * 4000), message(2)], 200, 100)
    assert [m.seq for m in messages] == [1] and more
    assert domain.page([message(1, "x" * 4000)], 200, 100) == ([message(1, "x" * 4000)], False)


# --- history requests ---------------------------------------------------------------

@pytest.mark.parametrize("after_seq", [-1, 2**53 + 1, 2**63, 10**30])
def test_history_request_bounds_after_seq(after_seq: int) -> None:
    with pytest.raises(ValidationError):
        HistoryRequest(chat_id="c1", after_seq=after_seq)
    assert HistoryRequest(chat_id="c1", after_seq=2**53).after_seq == 2**53


# --- demo seed ----------------------------------------------------------------------

def test_demo_canned_has_one_welcome_per_department_and_unique_ids() -> None:
    entries = demo_canned()
    ids = [m.id for _, m in entries]
    assert len(ids) == len(set(ids))
    for department in ("reference", "circulation", "archives"):
        own = [m for _, m in entries if m.department_id == department]
        assert 3 <= len(own) <= 4
        assert sum(m.is_welcome for m in own) == 1
        assert all(len(m.body) <= MAX_BODY_CHARS for m in own)
