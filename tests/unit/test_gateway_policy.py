"""The gateway's pure rules: authorisation, interest, board, queue places, RA prefill."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway import policy
from gateway.policy import OperatorIdentity, PatronIdentity
from refdesk.bus import BusError
from refdesk.contracts.queue import ChatView, Department, OperatorProfile

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)
ANA = OperatorIdentity("ana-id")


def profile(status: str = "online", monitored: tuple[str, ...] = ("reference",), is_admin: bool = False,
            operator_id: str = "ana-id") -> OperatorProfile:
    return OperatorProfile(
        id=operator_id, username="ana", full_name="Ana Alvarez", nickname="Ana", status=status, is_admin=is_admin,
        departments=[Department(id="reference", name="Reference"), Department(id="circulation", name="Circulation")],
        monitored=list(monitored),
    )


def chat(state: str = "queued", claimed_by: str | None = None, department: str = "reference", **extra) -> ChatView:
    return ChatView(
        id="chat-1", department_id=department, department_name=department.title(), state=state,
        patron_name="Pat", question="Where are the atlases?", queued_at=T0, claimed_by=claimed_by,
        claimed_by_name={"ana-id": "Ana", "ben-id": "Ben"}.get(claimed_by or ""), **extra,
    )


def refusal(call, *args) -> tuple[str, str]:
    with pytest.raises(BusError) as caught:
        call(*args)
    return caught.value.code, caught.value.message


def test_monitoring_is_member_departments_while_online() -> None:
    assert policy.monitoring(profile(monitored=("reference", "archives"))) == {"reference"}
    assert policy.monitoring(profile(status="offline")) == frozenset()


def test_board_view_keeps_monitored_and_owned_chats() -> None:
    queued_ref = chat()
    owned_circ = chat("active", "ana-id", "circulation").model_copy(update={"id": "chat-2"})
    other_circ = chat("active", "ben-id", "circulation").model_copy(update={"id": "chat-3"})
    chats = [queued_ref, owned_circ, other_circ]
    assert [c.id for c in policy.board_view(chats, profile())] == ["chat-1", "chat-2"]
    assert [c.id for c in policy.board_view(chats, profile(status="offline"))] == ["chat-2"]


def test_queue_positions() -> None:
    assert list(policy.queue_positions(["a", "b", "c"])) == [("a", 1, 3), ("b", 2, 3), ("c", 3, 3)]
    assert list(policy.queue_positions([])) == []


def test_patron_reaches_only_their_chat() -> None:
    patron = PatronIdentity("chat-1", "Pat")
    policy.check_reach(patron, None, chat())
    assert refusal(policy.check_chat_id, patron, "chat-2") == ("403", "You can only reach your own chat.")
    assert refusal(policy.require_operator, patron) == ("403", "Only library staff can do that.")


def test_operator_reaches_chats_of_their_departments() -> None:
    policy.check_reach(ANA, profile(), chat(department="circulation"))
    assert refusal(policy.check_reach, ANA, profile(), chat(department="archives")) == (
        "403", "You are not a member of the Archives department.")
    assert refusal(policy.check_member, profile(), "archives")[0] == "403"


def test_talking_needs_an_open_chat_and_for_operators_ownership() -> None:
    patron = PatronIdentity("chat-1", "Pat")
    policy.check_talk(patron, chat("queued"))
    policy.check_talk(ANA, chat("active", "ana-id"))
    for state in ("ended", "closed"):
        assert refusal(policy.check_talk, patron, chat(state, "ana-id")) == ("409", "This chat has ended.")
        assert refusal(policy.check_talk, ANA, chat(state, "ana-id")) == ("409", "This chat has ended.")
    assert refusal(policy.check_talk, ANA, chat("queued")) == ("403", "Claim this chat first.")
    assert refusal(policy.check_talk, ANA, chat("active", "ben-id")) == ("403", "This chat belongs to Ben.")


def test_writing_needs_only_the_patron_or_the_owner_whatever_the_state() -> None:
    """Sends to an ended chat go on to the chat service, which answers a retry with the
    original ack and a new message with 409; who may write is still checked here."""
    patron = PatronIdentity("chat-1", "Pat")
    for state in ("queued", "active", "ended", "closed"):
        policy.check_author(patron, chat(state, None if state == "queued" else "ana-id"))
    for state in ("active", "ended", "closed"):
        policy.check_author(ANA, chat(state, "ana-id"))
        assert refusal(policy.check_author, ANA, chat(state, "ben-id")) == ("403", "This chat belongs to Ben.")
    assert refusal(policy.check_author, ANA, chat("queued")) == ("403", "Claim this chat first.")


def test_claim_needs_online_and_queued() -> None:
    policy.check_claim(profile(), chat())
    assert refusal(policy.check_claim, profile(status="offline"), chat()) == (
        "409", "Set your status to Online before claiming chats.")
    assert refusal(policy.check_claim, profile(), chat("active", "ben-id")) == ("409", "Already claimed by Ben.")
    assert refusal(policy.check_claim, profile(), chat("ended", "ben-id")) == ("409", "This chat has ended.")


@pytest.mark.parametrize(
    ("seconds", "minutes"), [(0, 1), (1, 1), (60, 1), (61.3, 1), (89.9, 1), (90, 2), (599.5, 10), (600, 10)],
)
def test_duration_rounds_to_the_nearest_minute_at_least_one(seconds: float, minutes: int) -> None:
    assert policy.duration_minutes(T0, T0 + timedelta(seconds=seconds)) == minutes


def test_duration_of_unclaimed_and_running_chats() -> None:
    assert policy.duration_minutes(None, None) is None
    assert policy.duration_minutes(T0, None, now=T0 + timedelta(minutes=4, seconds=31)) == 5


def test_ra_prefill() -> None:
    ended = chat("ended", "ana-id", claimed_at=T0, ended_at=T0 + timedelta(minutes=7, seconds=30))
    assert policy.ra_prefill(ended, "cleo-id") == {
        "chat_id": "chat-1", "question": "Where are the atlases?", "mode": "Chat", "duration": 8,
        "department_id": "reference", "operator_id": "ana-id",
    }
    assert policy.ra_prefill(chat(), "cleo-id")["operator_id"] == "cleo-id"


def test_reference_analytics_are_for_the_owner_or_an_admin() -> None:
    owned = chat("ended", "ben-id")
    assert policy.check_ra(profile(operator_id="ben-id"), owned) == "ben-id"
    assert policy.check_ra(profile(operator_id="cleo-id", is_admin=True), owned) == "ben-id"
    assert refusal(policy.check_ra, profile(), owned) == ("403", "Only Ben can record its Reference Analytics.")


def test_reference_analytics_need_a_claimed_chat_even_for_an_admin() -> None:
    for who in (profile(), profile(is_admin=True)):
        assert refusal(policy.check_ra, who, chat("queued")) == (
            "403", "Reference Analytics can only be recorded for a chat a librarian has claimed.")
