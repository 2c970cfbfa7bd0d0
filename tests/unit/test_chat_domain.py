"""Unit tests of the chat service's pure rules (services/chat/domain.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from refdesk.bus import Invalid
from refdesk.contracts.chat import CannedMessage, Message, SendRequest
from refdesk.contracts.queue import ChatEvent, ChatView
from services.chat import domain
from services.chat.config import MAX_BODY_CHARS
from services.chat.seed import demo_canned

T0 = datetime(2026, 11, 30, 14, 3, 22, tzinfo=timezone.utc)


def chat_event(kind: str, **chat: object) -> ChatEvent:
    view = ChatView(
        id="c1", department_id="reference", department_name="Reference", state="queued",
        patron_name="Maya", question="Do you have the 1923 city directory?", queued_at=T0,
    ).model_copy(update=chat)
    return ChatEvent(event_id="e42", type=kind, chat=view)


def message(seq: int) -> Message:
    return Message(id=f"m{seq}", chat_id="c1", seq=seq, cmid=f"k{seq}", author_kind="patron",
                   author_name="Maya", body="hi", sent_at=T0)


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

def test_queued_event_becomes_the_patrons_question() -> None:
    request = domain.lifecycle_message(chat_event("queued"))
    assert request is not None
    assert (request.author_kind, request.cmid, request.author_name, request.body) == \
        ("patron", "ev:question", "Maya", "Do you have the 1923 city directory?")


def test_claimed_event_says_who_joined() -> None:
    request = domain.lifecycle_message(chat_event("claimed", state="active", claimed_by="ana", claimed_by_name="Ana"))
    assert request is not None
    assert (request.author_kind, request.cmid, request.body) == ("system", "ev:e42", "Ana joined the chat.")


@pytest.mark.parametrize(("ended_by", "wording"), [
    ("patron", "The chat was ended by the patron."),
    ("operator", "The chat was ended by Ana."),
])
def test_ended_event_says_who_ended_it(ended_by: str, wording: str) -> None:
    event = chat_event("ended", state="ended", claimed_by="ana", claimed_by_name="Ana", ended_by=ended_by)
    request = domain.lifecycle_message(event)
    assert request is not None
    assert (request.author_kind, request.cmid, request.body) == ("system", "ev:e42", wording)


def test_closed_event_adds_no_message() -> None:
    assert domain.lifecycle_message(chat_event("closed", state="closed")) is None


def test_same_event_always_gives_the_same_cmid() -> None:
    event = chat_event("claimed", claimed_by_name="Ben")
    first, again = domain.lifecycle_message(event), domain.lifecycle_message(event)
    assert first == again


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
    messages, has_more = domain.page([message(s) for s in range(1, fetched + 1)], limit)
    assert [m.seq for m in messages] == seqs
    assert has_more is more


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
