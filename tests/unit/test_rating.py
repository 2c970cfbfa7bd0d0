"""Unit tests of the patron rating: when a chat may be rated (services/queue/domain.py)
and what a rating request accepts (refdesk/contracts/queue.py, gateway/frames_ra.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from gateway.frames import FrameError, parse_frame
from gateway.frames_ra import ChatRate
from refdesk.bus import Conflict
from refdesk.contracts.queue import ChatView, RateRequest
from services.queue.domain import check_rate

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


def chat(state: str) -> ChatView:
    return ChatView(id="c1", department_id="reference", department_name="Reference", state=state,
                    patron_name="Pat", question="Maps?", queued_at=T0)


@pytest.mark.parametrize("state", ["ended", "closed"])
def test_an_ended_or_closed_chat_may_be_rated(state: str) -> None:
    check_rate(chat(state))


@pytest.mark.parametrize("state", ["queued", "active"])
def test_a_chat_still_going_may_not_be_rated(state: str) -> None:
    with pytest.raises(Conflict, match="You can rate this chat once it has ended."):
        check_rate(chat(state))


def test_the_comment_is_cleaned_and_blank_means_none() -> None:
    assert RateRequest(chat_id="c1", rating=4, comment="  Great\x00 help\r\nthanks ").comment == "Great help\nthanks"
    assert RateRequest(chat_id="c1", rating=4, comment=" \u200b ").comment is None
    assert RateRequest(chat_id="c1", rating=4).comment is None


@pytest.mark.parametrize("fields", [{"rating": 0}, {"rating": 6}, {"rating": 3, "comment": "x" * 1001}])
def test_ratings_from_1_to_5_and_comments_up_to_1000_characters(fields: dict) -> None:
    with pytest.raises(ValidationError):
        RateRequest(chat_id="c1", **fields)


def test_the_rate_frame() -> None:
    frame = parse_frame('{"type": "chat.rate", "chat_id": "c1", "rating": 5, "comment": "Thanks!"}')
    assert isinstance(frame, ChatRate) and (frame.rating, frame.comment) == (5, "Thanks!")
    for bad in ('"5"', "5.5", "true", "0"):
        with pytest.raises(FrameError) as caught:
            parse_frame('{"type": "chat.rate", "chat_id": "c1", "rating": ' + bad + "}")
        assert caught.value.code == "400" and "rating" in caught.value.message
