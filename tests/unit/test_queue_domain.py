"""Unit tests of the queue service's pure rules (services/queue/domain.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from refdesk.bus import Conflict, Forbidden, Invalid
from refdesk.contracts.queue import ChatView, CreateChatRequest
from services.queue import domain

QUEUED_AT = datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)


def chat(state: str = "queued", claimed_by: str | None = None, **extra) -> ChatView:
    return ChatView(
        id="c1", department_id="reference", department_name="Reference", state=state, patron_name="Pat",
        question="Where are the atlases?", queued_at=QUEUED_AT, claimed_by=claimed_by,
        claimed_by_name={"op-ana": "Ana", "op-ben": "Ben"}.get(claimed_by or ""), **extra,
    )


def test_username_is_trimmed_and_lower_cased():
    assert domain.normalize_username("  Ana.Alvarez ") == "ana.alvarez"


def test_wrong_credentials_is_one_401_message():
    error = domain.wrong_credentials()
    assert (error.code, error.message) == ("401", "Wrong username or password.")


# --- departments and presence ---------------------------------------------------------


def test_department_is_online_only_when_an_online_operator_monitors_it():
    monitors = [("reference", "offline"), ("reference", "online"), ("archives", "offline"), ("circulation", "online")]
    assert domain.online_department_ids(monitors) == {"reference", "circulation"}
    assert domain.online_department_ids([]) == set()


def test_department_list_marks_online_and_keeps_order():
    rows = [{"id": "archives", "name": "Archives"}, {"id": "reference", "name": "Reference"}]
    listed = domain.department_list(rows, {"reference"})
    assert [(d.id, d.name, d.online) for d in listed] == [("archives", "Archives", False), ("reference", "Reference", True)]


@pytest.mark.parametrize(
    ("requested", "current", "status", "expected"),
    [
        (None, [], "online", ["circulation", "reference"]),  # first time online: all departments
        (None, ["reference"], "online", ["reference"]),  # None keeps the previous set
        (None, ["reference"], "offline", ["reference"]),  # going offline keeps it for next time
        (None, [], "offline", []),  # offline with nothing monitored stays empty
        (["circulation"], ["reference"], "online", ["circulation"]),  # an explicit set replaces
        ([], ["reference"], "online", []),  # an explicit empty set is honoured
        (["reference", "reference"], [], "online", ["reference"]),  # duplicates collapse
    ],
)
def test_resolve_monitored(requested, current, status, expected):
    assert domain.resolve_monitored(requested, current, ["reference", "circulation"], status) == expected


def test_resolve_monitored_refuses_departments_outside_membership():
    with pytest.raises(Forbidden, match="archives"):
        domain.resolve_monitored(["reference", "archives"], [], ["reference"], "online")


def test_queue_position_counts_from_one():
    queue = ["a", "b", "c"]
    assert [domain.queue_position(queue, chat_id) for chat_id in queue] == [1, 2, 3]
    assert domain.queue_position(queue, "z") is None


@pytest.mark.parametrize(("state", "position"), [("queued", 3), ("active", None), ("ended", None)])
def test_queue_place_is_one_after_the_chats_ahead_while_queued(state, position):
    place = domain.queue_place(chat(state, "op-ana" if state != "queued" else None), ahead=2, waiting=7)
    assert (place.chat_id, place.position, place.waiting) == ("c1", position, 7)


# --- idempotent creation --------------------------------------------------------------


def create(**changes) -> CreateChatRequest:
    fields = {"department_id": "reference", "patron_name": "Pat", "question": "Where are the atlases?",
              "request_id": "0b6f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f", **changes}
    return CreateChatRequest(**fields)


def test_a_retry_of_the_same_request_answers_the_existing_chat():
    existing = chat("active", "op-ana")
    assert domain.check_retry(existing, create()) is existing
    assert domain.check_retry(existing, create(patron_email="pat@example.org", page_url="https://x.example")) is existing


@pytest.mark.parametrize("change", [{"department_id": "archives"}, {"patron_name": "Sam"}, {"question": "Maps?"}])
def test_a_request_id_reused_for_another_chat_is_a_conflict(change):
    with pytest.raises(Conflict, match="already used"):
        domain.check_retry(chat(), create(**change))


@pytest.mark.parametrize("request_id", ["short", "x" * 65, "has space in it 123", "emoji🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂"])
def test_request_ids_are_16_to_64_safe_characters(request_id):
    with pytest.raises(ValueError):
        create(request_id=request_id)


# --- the board ------------------------------------------------------------------------


def board_chat(n: int, *, chars: int = 10, claimed_by: str | None = None) -> ChatView:
    return ChatView(id=f"c{n:03d}", department_id="reference", department_name="Reference",
                    state="active" if claimed_by else "queued", patron_name="Pat", question="🙂" * chars,
                    queued_at=QUEUED_AT + timedelta(seconds=n), claimed_by=claimed_by,
                    claimed_by_name="Ana" if claimed_by else None)


def test_the_board_keeps_everything_that_fits():
    chats = [board_chat(n) for n in range(5)]
    board = domain.fit_board(chats, max_bytes=100_000, max_chats=10)
    assert board.chats == chats and board.more is False


def test_the_board_is_cut_by_encoded_size_oldest_first():
    chats = [board_chat(n, chars=2000) for n in range(10)]  # 4 bytes of UTF-8 per emoji: > 8,000 bytes each
    size = domain.json_size(chats[0])
    board = domain.fit_board(chats, max_bytes=3 * size + 10, max_chats=10)
    assert [c.id for c in board.chats] == ["c000", "c001", "c002"] and board.more is True
    assert len(board.model_dump_json().encode()) < 3 * size + 100


def test_the_board_always_lists_one_chat_and_honours_the_count_limit():
    chats = [board_chat(n, chars=2000) for n in range(3)]
    assert [c.id for c in domain.fit_board(chats, max_bytes=10, max_chats=10).chats] == ["c000"]
    limited = domain.fit_board(chats, max_bytes=10**6, max_chats=2)
    assert (len(limited.chats), limited.more) == (2, True)


def test_the_operators_own_chats_come_first_and_the_board_lists_oldest_first():
    own = board_chat(9, claimed_by="op-ana")
    others = [board_chat(n, chars=2000) for n in range(5)]
    size = domain.json_size(others[0])
    board = domain.fit_board([own, *others], max_bytes=size + 1000, max_chats=10)  # store order: own first
    assert [c.id for c in board.chats] == ["c000", "c009"] and board.more is True


# --- claim ----------------------------------------------------------------------------


def test_claim_needs_membership_before_anything_else():
    with pytest.raises(Forbidden, match="Reference department"):
        domain.check_can_claim(chat(), "offline", ["archives"])


def test_claim_needs_operator_online():
    with pytest.raises(Conflict, match=r"^409: Go online to claim chats\.$"):
        domain.check_can_claim(chat(), "offline", ["reference"])
    domain.check_can_claim(chat(), "online", ["reference"])


def test_lost_claim_names_the_winner():
    with pytest.raises(Conflict) as info:
        domain.settle_lost_claim(chat("active", "op-ben"), "op-ana")
    assert info.value.message == "Already claimed by Ben."


def test_lost_claim_on_a_chat_ended_unclaimed():
    with pytest.raises(Conflict, match=r"This chat has ended\."):
        domain.settle_lost_claim(chat("ended", ended_by="patron", ended_at=QUEUED_AT), "op-ana")


def test_repeated_claim_by_the_owner_answers_the_chat():
    owned = chat("active", "op-ana")
    assert domain.settle_lost_claim(owned, "op-ana") is owned


def test_repeated_claim_by_the_owner_after_end_is_refused():
    with pytest.raises(Conflict, match="Already claimed by Ana"):
        domain.settle_lost_claim(chat("ended", "op-ana"), "op-ana")


# --- end and close --------------------------------------------------------------------


@pytest.mark.parametrize("state", ["queued", "active"])
def test_patron_may_end_a_queued_or_active_chat(state):
    domain.check_end(chat(state, "op-ana" if state == "active" else None), "patron", None)


@pytest.mark.parametrize("ended_by", ["patron", "operator"])
@pytest.mark.parametrize("state", ["ended", "closed"])
def test_ending_twice_is_a_conflict(state, ended_by):
    with pytest.raises(Conflict, match=r"This chat has ended\."):
        domain.check_end(chat(state, "op-ana"), ended_by, "op-ana")


def test_only_the_owner_operator_may_end():
    domain.check_end(chat("active", "op-ana"), "operator", "op-ana")
    with pytest.raises(Forbidden):
        domain.check_end(chat("active", "op-ana"), "operator", "op-ben")
    with pytest.raises(Forbidden):
        domain.check_end(chat("queued"), "operator", "op-ana")
    with pytest.raises(Invalid):
        domain.check_end(chat("active", "op-ana"), "operator", None)


def test_close_needs_the_owner_and_an_ended_chat():
    domain.check_close(chat("ended", "op-ana"), "op-ana")
    with pytest.raises(Forbidden):
        domain.check_close(chat("ended", "op-ana"), "op-ben")
    with pytest.raises(Forbidden):
        domain.check_close(chat("ended"), "op-ana")  # ended by the patron before anyone claimed it
    with pytest.raises(Conflict, match="End the chat"):
        domain.check_close(chat("active", "op-ana"), "op-ana")
    with pytest.raises(Conflict, match="already closed"):
        domain.check_close(chat("closed", "op-ana"), "op-ana")


# --- views ----------------------------------------------------------------------------


def test_chat_view_maps_a_joined_row():
    row = {
        "id": "c1", "department_id": "reference", "department_name": "Reference", "state": "active",
        "patron_name": "Pat", "patron_email": None, "question": "Q", "page_url": None, "queued_at": QUEUED_AT,
        "claimed_at": QUEUED_AT, "ended_at": None, "closed_at": None, "claimed_by": "op-ana",
        "claimed_by_name": "Ana", "ended_by": None,
    }
    view = domain.chat_view(row)
    assert (view.state, view.claimed_by_name, view.queued_at) == ("active", "Ana", QUEUED_AT)


def test_operator_profile_leaves_out_the_password_hash():
    row = {"id": "op-ana", "username": "ana", "full_name": "Ana Alvarez", "nickname": "Ana", "is_admin": False,
           "status": "online", "password_hash": "$argon2id$secret"}
    departments = domain.department_list([{"id": "reference", "name": "Reference"}], {"reference"})
    profile = domain.operator_profile(row, departments, ["reference"])
    assert profile.monitored == ["reference"] and profile.departments[0].online
    assert "argon2" not in profile.model_dump_json()
