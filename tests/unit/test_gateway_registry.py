"""Recipient resolution (Registry) and per-chat feeds (no gap, no duplicate)."""

from __future__ import annotations

from datetime import datetime, timezone

from gateway.registry import ChatFeed, Registry
from refdesk.contracts.queue import ChatView, Department, OperatorProfile

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)


class Peer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.frames: list[str] = []

    def send(self, frame: str) -> None:
        self.frames.append(frame)

    def __repr__(self) -> str:
        return self.name


def operator(operator_id: str, status: str, monitored: list[str]) -> OperatorProfile:
    return OperatorProfile(
        id=operator_id, username=operator_id, full_name=operator_id, nickname=operator_id, status=status,
        departments=[Department(id="reference", name="Reference"), Department(id="archives", name="Archives")],
        monitored=monitored,
    )


def chat(chat_id: str = "c1", department: str = "reference", claimed_by: str | None = None) -> ChatView:
    return ChatView(id=chat_id, department_id=department, department_name=department, state="queued",
                    patron_name="Pat", question="?", queued_at=T0, claimed_by=claimed_by)


def test_chat_update_goes_to_watchers_owner_and_patron() -> None:
    registry = Registry()
    ana, ana_tab2, ben, cleo, patron, other_patron = (Peer(n) for n in ("ana", "ana2", "ben", "cleo", "pat", "pat2"))
    registry.join_operator(ana, operator("ana", "online", ["reference"]))
    registry.join_operator(ana_tab2, operator("ana", "online", ["reference"]))
    registry.join_operator(ben, operator("ben", "online", ["archives"]))
    registry.join_operator(cleo, operator("cleo", "offline", ["reference"]))
    registry.join_patron(patron, "c1")
    registry.join_patron(other_patron, "c2")
    assert registry.chat_update_recipients(chat()) == {ana, ana_tab2, patron}
    assert registry.chat_update_recipients(chat(claimed_by="ben")) == {ana, ana_tab2, ben, patron}


def test_status_changes_move_interest() -> None:
    registry = Registry()
    ana = Peer("ana")
    registry.join_operator(ana, operator("ana", "online", ["reference"]))
    registry.update_operator(operator("ana", "offline", ["reference"]))
    assert registry.chat_update_recipients(chat()) == set()
    registry.update_operator(operator("ana", "online", ["archives"]))
    assert registry.chat_update_recipients(chat(department="archives")) == {ana}
    assert registry.profile("ana").monitored == ["archives"]
    registry.update_operator(operator("zed", "online", ["archives"]))  # not connected here: ignored
    assert registry.profile("zed") is None


def test_leave_forgets_the_peer_everywhere() -> None:
    registry = Registry()
    ana, patron = Peer("ana"), Peer("pat")
    registry.join_operator(ana, operator("ana", "online", ["reference"]))
    registry.join_patron(patron, "c1")
    registry.open_feed(ana, "c1", "operator")
    registry.leave(ana)
    registry.leave(patron)
    assert registry.chat_update_recipients(chat(claimed_by="ana")) == set()
    assert registry.feeds("c1") == [] and registry.profile("ana") is None


def test_closing_a_chat_drops_its_feeds() -> None:
    registry = Registry()
    ana = Peer("ana")
    registry.open_feed(ana, "c1", "operator")
    registry.open_feed(ana, "c2", "operator")
    registry.close_chat_feeds("c1")
    assert registry.feeds("c1") == [] and len(registry.feeds("c2")) == 1


def test_feed_buffers_until_live_then_merges_without_gap_or_duplicate() -> None:
    peer = Peer("p")
    feed = ChatFeed(peer, "c1", "patron")
    feed.offer(5, "m5")  # arrived while the history (seqs 3..5) was being fetched
    feed.offer(6, "m6")
    feed.offer(5, "m5")
    assert peer.frames == []
    feed.go_live(2, [3, 4, 5])
    assert peer.frames == ["m6"]
    feed.offer(6, "m6")  # repeated publish
    feed.offer(8, "m8")  # out of order
    feed.offer(7, "m7")
    feed.offer(8, "m8")
    assert peer.frames == ["m6", "m8", "m7"]
    assert feed.top_seq == 8


def test_feed_after_truncated_history_delivers_newer_messages() -> None:
    peer = Peer("p")
    feed = ChatFeed(peer, "c1", "operator")
    feed.go_live(0, range(1, 1001))
    feed.offer(1500, "m1500")
    assert peer.frames == ["m1500"] and feed.top_seq == 1500
