"""Unit tests of Internal Chat's pure parts: room rules (services/chat/internal.py), the
staff list (services/queue/domain.staff_list), the gateway's staff-list diff
(gateway/staff.py), room fan-out (gateway/rooms.py) and the client frames."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from gateway.frames import FrameError, parse_frame
from gateway.frames_internal import InternalOpen
from gateway.registry import Registry
from gateway.rooms import deliver, feed_key
from gateway.staff import changed
from refdesk.bus import Forbidden, Invalid
from refdesk.contracts.chat import PREVIEW_CHARS, InternalMessage, MessagePreview, RoomAudience, RoomView
from refdesk.contracts.queue import Department, OperatorProfile, OperatorSummary
from services.chat import internal
from services.queue.domain import staff_list

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


class Peer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.frames: list[dict] = []

    def send(self, frame: str) -> None:
        self.frames.append(json.loads(frame))

    def __repr__(self) -> str:
        return self.name


def test_direct_pair_is_order_free_and_refuses_oneself() -> None:
    assert internal.direct_pair("b", "a") == internal.direct_pair("a", "b") == ("a", "b")
    with pytest.raises(Invalid):
        internal.direct_pair("a", "a")


@pytest.mark.parametrize(("room", "operator_id", "departments", "sees"), [
    (RoomAudience(id="r", kind="all_staff"), "x", [], True),
    (RoomAudience(id="r", kind="department", department_id="archives"), "x", ["archives"], True),
    (RoomAudience(id="r", kind="department", department_id="archives"), "x", ["reference"], False),
    (RoomAudience(id="r", kind="direct", member_ids=["a", "b"]), "a", [], True),
    (RoomAudience(id="r", kind="direct", member_ids=["a", "b"]), "c", ["reference"], False),
])
def test_who_sees_a_room(room: RoomAudience, operator_id: str, departments: list[str], sees: bool) -> None:
    assert internal.can_see(room, operator_id, departments) is sees
    if not sees:
        with pytest.raises(Forbidden, match="You are not in this room."):
            internal.check_member(room, operator_id, departments)


def test_preview_is_cut_with_an_ellipsis() -> None:
    assert internal.preview_text("short") == "short"
    cut = internal.preview_text("word " * 100)
    assert len(cut) <= PREVIEW_CHARS and cut.endswith("…")


def _view(room_id: str, kind: str, *, department: str | None = None, at: datetime | None = None) -> RoomView:
    last = MessagePreview(seq=1, author_id="a", author_name="A", body="x", sent_at=at) if at else None
    return RoomView(id=room_id, kind=kind, department_id=department, last_message=last)  # type: ignore[arg-type]


def test_room_order() -> None:
    rooms = [_view("d1", "direct", at=T0), _view("dep-r", "department", department="reference"),
             _view("d2", "direct", at=T0 + timedelta(minutes=5)), _view("d3", "direct"),
             _view("all", "all_staff"), _view("dep-a", "department", department="archives")]
    assert [r.id for r in internal.order_rooms(rooms)] == ["all", "dep-a", "dep-r", "d2", "d1", "d3"]


def test_room_view_from_a_row() -> None:
    row = {"id": "r", "kind": "direct", "department_id": None, "member_a": "a", "member_b": "b", "last_seq": 3,
           "last_read_seq": 1, "unread": 2, "m_seq": 3, "m_author_id": "b", "m_author_name": "Ben",
           "m_body": "y" * 200, "m_sent_at": T0}
    view = internal.room_view(row)
    assert view.member_ids == ["a", "b"] and view.top_seq == 3 and view.unread == 2
    assert view.last_message is not None and len(view.last_message.body) == PREVIEW_CHARS


def test_staff_list_assembles_rows() -> None:
    operators = [{"id": "a", "nickname": "Ana", "full_name": "Ana A", "status": "online"},
                 {"id": "b", "nickname": "Ben", "full_name": "Ben B", "status": "offline"}]
    members = [{"operator_id": "a", "id": "circulation", "name": "Circulation"},
               {"operator_id": "a", "id": "reference", "name": "Reference"}]
    monitored = [{"operator_id": "a", "department_id": "reference"}]
    active = [{"operator_id": "a", "n": 2}]
    ana, ben = staff_list(operators, members, monitored, active)
    assert (ana.active_chats, ana.monitored, [d.id for d in ana.departments]) == (2, ["reference"],
                                                                                 ["circulation", "reference"])
    assert (ben.active_chats, ben.departments, ben.monitored) == (0, [], [])


def test_staff_changes_are_per_entry() -> None:
    ana = OperatorSummary(id="a", nickname="Ana", full_name="Ana A", status="online")
    ben = OperatorSummary(id="b", nickname="Ben", full_name="Ben B", status="offline")
    assert changed(None, [ana, ben]) == [ana, ben]
    busy = ana.model_copy(update={"active_chats": 1})
    assert changed({"a": ana, "b": ben}, [busy, ben]) == [busy]
    assert changed({"a": ana, "b": ben}, [ana, ben]) == []


def _profile(operator_id: str, departments: list[str]) -> OperatorProfile:
    return OperatorProfile(id=operator_id, username=operator_id, full_name=operator_id, nickname=operator_id,
                           departments=[Department(id=d, name=d.title()) for d in departments])


def test_room_messages_reach_the_rooms_operators_once() -> None:
    registry = Registry()
    ana, ana2, ben, cleo = Peer("ana"), Peer("ana2"), Peer("ben"), Peer("cleo")
    registry.join_operator(ana, _profile("a", ["reference", "circulation"]))
    registry.join_operator(ana2, _profile("a", ["reference", "circulation"]))
    registry.join_operator(ben, _profile("b", ["reference", "archives"]))
    registry.join_operator(cleo, _profile("c", ["circulation"]))
    circulation = RoomAudience(id="r1", kind="department", department_id="circulation")

    def message(seq: int, room_id: str = "r1") -> InternalMessage:
        return InternalMessage(id=f"m{seq}", room_id=room_id, seq=seq, cmid=f"c{seq}", author_id="a",
                               author_name="Ana", body="hi", sent_at=T0)

    feed = registry.open_feed(ana, feed_key("r1"), "operator")  # ana subscribes; still replaying
    deliver(registry, circulation, message(1))
    assert [f["message"]["seq"] for f in cleo.frames] == [1] and ana2.frames and not ana.frames and not ben.frames
    feed.go_live(0, [1])  # the replay carried seq 1: the buffered copy is dropped
    deliver(registry, circulation, message(2))
    deliver(registry, circulation, message(2))  # a repeated publish
    assert [f["message"]["seq"] for f in ana.frames] == [2]
    direct = RoomAudience(id="r2", kind="direct", member_ids=["a", "b"])
    deliver(registry, direct, message(1, "r2"))
    assert [f["room_id"] for f in ben.frames] == ["r2"] and all(f["room_id"] == "r1" for f in cleo.frames)
    deliver(registry, RoomAudience(id="r3", kind="all_staff"), message(1, "r3"))
    assert all(any(f["room_id"] == "r3" for f in peer.frames) for peer in (ana, ana2, ben, cleo))


def test_internal_open_frame_needs_exactly_one_target() -> None:
    assert isinstance(parse_frame('{"type": "internal.open", "operator_id": "abc"}'), InternalOpen)
    for bad in ('{"type": "internal.open"}', '{"type": "internal.open", "operator_id": "a", "department_id": "b"}'):
        with pytest.raises(FrameError) as error:
            parse_frame(bad)
        assert error.value.code == "400"
    with pytest.raises(FrameError):
        parse_frame('{"type": "internal.earlier", "room_id": "r", "before_seq": 0}')
