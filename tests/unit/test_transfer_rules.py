"""Transfers' pure rules: the queue service's checks, the gateway's authorisation
(the sender's lock, participants, who may claim), who hears of a transfer, the
patron's view and the system messages' wording."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gateway import policy
from gateway.policy import OperatorIdentity, PatronIdentity
from gateway.registry import Registry
from gateway.transfer_preview import shorten
from refdesk.bus import BusError
from refdesk.contracts.chat import Message
from refdesk.contracts.queue import ChatView, Department, OperatorProfile, Participant, TransferRequest, TransferView
from services.chat.transfers import transfer_messages, transfer_steps
from services.queue import transfers

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


def transfer(state: str = "pending", *, to_operator: str | None = "ben-id", to_department: str | None = None,
             stay: bool = False, note: str = "Needs the archives") -> TransferView:
    return TransferView(
        id="t1", state=state, from_operator_id="ana-id", from_operator_name="Ana",
        to_operator_id=to_operator, to_operator_name="Ben" if to_operator else None,
        to_department_id=to_department, to_department_name="Archives" if to_department else None,
        note=note, stay=stay, requested_at=T0,
    )


def chat(*, claimed_by: str = "ana-id", open_transfer: TransferView | None = None, state: str = "active",
         participants: tuple[str, ...] = ()) -> ChatView:
    names = {"ana-id": "Ana", "ben-id": "Ben", "cleo-id": "Cleo", "dora-id": "Dora"}
    return ChatView(
        id="chat-1", department_id="reference", department_name="Reference", state=state, patron_name="Pat",
        question="Letters of the first mayor?", queued_at=T0, claimed_at=T0, claimed_by=claimed_by,
        claimed_by_name=names[claimed_by], transfer=open_transfer,
        participants=[Participant(operator_id=p, nickname=names[p]) for p in participants],
    )


def profile(operator_id: str, departments: tuple[str, ...], monitored: tuple[str, ...] = (),
            status: str = "online") -> OperatorProfile:
    return OperatorProfile(
        id=operator_id, username=operator_id, full_name=operator_id, nickname=operator_id, status=status,
        departments=[Department(id=d, name=d.title()) for d in departments], monitored=list(monitored),
    )


def refusal(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(BusError) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.message


# --- queue service ----------------------------------------------------------------------


def test_only_the_owner_of_an_active_chat_asks_once_and_never_to_themself() -> None:
    ask = TransferRequest(chat_id="chat-1", operator_id="ana-id", to_operator_id="ben-id")
    transfers.check_request(chat(), ask)
    assert refusal(transfers.check_request, chat(state="ended"), ask)[0] == "409"
    assert refusal(transfers.check_request, chat(claimed_by="ben-id"), ask) == (
        "403", "Only Ben can transfer it.")
    assert refusal(transfers.check_request, chat(open_transfer=transfer()), ask) == (
        "409", "A transfer of this chat is already under way.")
    to_self = ask.model_copy(update={"to_operator_id": "ana-id"})
    assert refusal(transfers.check_request, chat(), to_self)[0] == "409"


def test_a_request_names_exactly_one_target_and_cleans_its_note() -> None:
    with pytest.raises(ValueError):
        TransferRequest(chat_id="c", operator_id="a")
    with pytest.raises(ValueError):
        TransferRequest(chat_id="c", operator_id="a", to_operator_id="b", to_department_id="archives")
    assert TransferRequest(chat_id="c", operator_id="a", to_department_id="x", note=" \u202e ").note == ""
    assert TransferRequest(chat_id="c", operator_id="a", to_department_id="x", note=" Hi\r\nthere ").note == "Hi\nthere"


def test_answers_come_from_the_target_and_claims_only_once_accepted() -> None:
    to_ben, to_archives = transfer(), transfer(to_operator=None, to_department="archives")
    transfers.check_answer(to_ben, "ben-id", [], accept=True)
    transfers.check_answer(to_archives, "cleo-id", ["archives"], accept=False)
    assert refusal(transfers.check_answer, to_ben, "cleo-id", ["archives"], accept=True) == (
        "403", "Only Ben can accept this transfer.")
    assert refusal(transfers.check_answer, transfer("accepted"), "ben-id", [], accept=False) == (
        "409", "This transfer was already accepted.")
    assert refusal(transfers.check_cancel, to_ben, "ben-id")[0] == "403"
    assert refusal(transfers.check_transfer_claim, to_ben, "ben-id", "online", []) == (
        "409", "Accept the transfer before claiming the chat.")
    assert refusal(transfers.check_transfer_claim, transfer("accepted"), "cleo-id", "online", ["archives"]) == (
        "409", "This chat is being transferred to Ben.")
    assert refusal(transfers.check_transfer_claim, transfer("accepted"), "ben-id", "offline", [])[0] == "409"
    transfers.check_transfer_claim(transfer("accepted", to_operator=None, to_department="archives"), "cleo-id",
                                   "online", ["archives"])
    assert refusal(transfers.check_operator_end, chat(open_transfer=to_ben))[0] == "409"
    with pytest.raises(BusError):
        transfers.open_transfer(chat(open_transfer=to_ben), "another")


# --- gateway policy ---------------------------------------------------------------------


def test_the_sender_is_locked_out_while_their_transfer_is_open_and_participants_write() -> None:
    pending = chat(open_transfer=transfer())
    assert refusal(policy.check_author, OperatorIdentity("ana-id"), pending) == ("409", policy.TRANSFER_LOCKED)
    assert refusal(policy.check_talk, OperatorIdentity("ana-id"), pending) == ("409", policy.TRANSFER_LOCKED)
    policy.check_author(PatronIdentity("chat-1", "Pat"), pending)  # the patron always writes
    group = chat(claimed_by="ben-id", participants=("ana-id",))
    policy.check_author(OperatorIdentity("ana-id"), group)
    assert refusal(policy.check_end, OperatorIdentity("ana-id"), group)[0] == "403"
    left = chat(claimed_by="ben-id")
    assert refusal(policy.check_author, OperatorIdentity("ana-id"), left) == ("403", "This chat belongs to Ben.")


def test_claims_of_a_transferred_chat_and_reach_across_departments() -> None:
    ben = profile("ben-id", ("archives",), ("archives",))
    cleo = profile("cleo-id", ("reference", "archives"), ("reference",))
    pending, accepted = chat(open_transfer=transfer()), chat(open_transfer=transfer("accepted"))
    assert refusal(policy.check_claim, ben, pending) == ("409", "Accept the transfer before claiming the chat.")
    policy.check_claim(ben, accepted)
    assert refusal(policy.check_claim, cleo, accepted) == ("409", "This chat is being transferred to Ben.")
    # Ben is not in Reference, but the chat's transfer is his
    policy.check_reach(OperatorIdentity("ben-id"), ben, accepted)
    with pytest.raises(BusError):
        policy.check_reach(OperatorIdentity("ben-id"), ben, chat())
    policy.check_reach(OperatorIdentity("ben-id"), ben, chat(claimed_by="ben-id"))
    assert policy.check_transfer_target(ben, pending).id == "t1"
    assert refusal(policy.check_transfer_target, cleo, pending) == ("403", "This transfer is for Ben.")


def test_the_board_shows_offers_to_me_or_my_monitored_departments_and_my_group_chats() -> None:
    ben = profile("ben-id", ("archives",), ("archives",))
    to_archives = chat(open_transfer=transfer(to_operator=None, to_department="archives"))
    to_ben = chat(open_transfer=transfer()).model_copy(update={"id": "chat-2"})
    group = chat(claimed_by="cleo-id", participants=("ben-id",)).model_copy(update={"id": "chat-3"})
    other = chat().model_copy(update={"id": "chat-4"})
    assert [c.id for c in policy.board_view([to_archives, to_ben, group, other], ben)] == ["chat-1", "chat-2", "chat-3"]
    not_monitoring = profile("ben-id", ("archives",), ())
    assert [c.id for c in policy.board_view([to_archives, to_ben], not_monitoring)] == ["chat-2"]


def test_the_patron_never_sees_the_note() -> None:
    view = policy.patron_view(chat(open_transfer=transfer(note="Patron seems upset")))
    assert view.transfer is not None and view.transfer.note == ""
    assert policy.patron_view(chat()).transfer is None


class Peer:
    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, frame: str) -> None:  # pragma: no cover - not used here
        pass


def test_transfer_news_reaches_the_sender_the_targets_and_participants() -> None:
    registry = Registry()
    peers = {name: Peer(name) for name in ("ana", "ben", "cleo", "dora")}
    registry.join_operator(peers["ana"], profile("ana-id", ("reference",), ("reference",)))
    registry.join_operator(peers["ben"], profile("ben-id", ("archives",), ("archives",)))
    registry.join_operator(peers["cleo"], profile("cleo-id", ("archives",), ()))  # member, not monitoring
    registry.join_operator(peers["dora"], profile("dora-id", ("circulation",), ("circulation",)))
    department = transfer(to_operator=None, to_department="archives")
    assert registry.transfer_targets(department) == {peers["ben"]}
    assert registry.transfer_targets(transfer(to_operator="cleo-id")) == {peers["cleo"]}
    # a declined transfer (no longer on the chat) still reaches its target through the event's transfer
    moved = chat(claimed_by="ana-id").model_copy(update={"department_id": "circulation"})
    assert registry.chat_update_recipients(moved, department) == {peers["ana"], peers["ben"], peers["dora"]}
    group = chat(claimed_by="dora-id", participants=("cleo-id",)).model_copy(update={"department_id": "circulation"})
    assert registry.chat_update_recipients(group) == {peers["dora"], peers["cleo"]}


# --- the patron's system messages ------------------------------------------------------


def test_each_step_reads_as_one_short_sentence() -> None:
    to_ben, to_archives = transfer(), transfer(to_operator=None, to_department="archives")
    assert transfer_steps("transfer_requested", chat(), to_archives) == [
        ("requested", "Ana is transferring your chat to Archives — please stay here.")]
    assert transfer_steps("transfer_accepted", chat(), to_ben) == [
        ("accepted", "Ben accepted the transfer and will join shortly.")]
    assert transfer_steps("transfer_accepted", chat(), to_archives) == [
        ("accepted", "Archives accepted the transfer; someone will join shortly.")]
    assert transfer_steps("transfer_declined", chat(), to_ben) == [("declined", "Ana is still with you.")]
    assert transfer_steps("transfer_cancelled", chat(), to_ben) == [("cancelled", "Ana is still with you.")]
    claimed = chat(claimed_by="ben-id")
    assert transfer_steps("claimed", claimed, to_ben) == [
        ("joined", "Ben joined the chat."), ("left", "Ana left the chat.")]
    assert transfer_steps("claimed", claimed, transfer(stay=True)) == [("joined", "Ben joined the chat.")]


def test_transfer_messages_come_after_what_the_chat_shows_with_stable_cmids() -> None:
    messages = transfer_messages("transfer_requested", chat(), transfer())
    assert [m.cmid for m in messages] == ["ev:question", messages[1].cmid, "ev:transfer:t1:requested"]
    assert messages[1].body == "Ana joined the chat." and all(m.author_kind != "operator" for m in messages)
    assert [m.cmid for m in transfer_messages("claimed", chat(claimed_by="ben-id"), transfer())] == [
        "ev:transfer:t1:joined", "ev:transfer:t1:left"]
    assert transfer_messages("claimed", chat(), None) == []
    assert not any("archives" in m.body for m in messages)  # the note is never said to the patron


def test_a_preview_cuts_long_bodies() -> None:
    message = Message(id="m", chat_id="c", seq=1, cmid="x", author_kind="patron", author_name="Pat",
                      body="a" * 700, sent_at=T0)
    short = shorten([message], 600)[0]
    assert len(short.body) == 600 and short.body.endswith("…") and shorten([short], 600)[0].body == short.body
