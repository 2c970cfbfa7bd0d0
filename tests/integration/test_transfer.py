"""Transfers of a claimed chat to an operator or a department, over real NATS +
PostgreSQL + every service + the gateway: the queue service's rules (who may ask,
accept, decline, cancel, claim; the atomic claim of an accepted transfer), the
patron's system messages at each step, and the same through websockets — the offer
with note and preview, the sender's lock, stay (group chat) and leave, and the
patron's full history after a reconnect.

The demo operators: Ana (Reference, Circulation), Ben (Reference, Archives), Cleo
(Reference, Circulation, Archives).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from refdesk import bus
from refdesk.bus import BusError
from refdesk.contracts import queue as q
from refdesk.contracts.chat import HISTORY, History, HistoryRequest
from tests.gateway_client import Client, Gateway, gateway_stack, new_chat, of_chat, online_operator
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers) as gateway:
        yield gateway


# --- service level -------------------------------------------------------------------


async def operator(gw: Gateway, username: str, monitored: list[str] | None = None) -> q.OperatorProfile:
    """The demo operator, set Online (monitoring ``monitored``, or all their departments)."""
    nc = gw.stack.nc
    profile = await bus.request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username=username, password="librarian"),
                                q.OperatorProfile)
    return await bus.request(nc, q.OPERATOR_STATUS, q.SetStatusRequest(
        operator_id=profile.id, status="online", monitored=monitored), q.OperatorProfile)


async def claimed_chat(gw: Gateway, department: str, owner: q.OperatorProfile) -> q.ChatView:
    nc = gw.stack.nc
    chat = await bus.request(nc, q.CHAT_CREATE, q.CreateChatRequest(
        department_id=department, patron_name="Pat Reader", question="Where are the 1910 city directories?"),
        q.ChatView)
    return await bus.request(nc, q.CHAT_CLAIM, q.ClaimRequest(chat_id=chat.id, operator_id=owner.id), q.ChatView)


async def call(gw: Gateway, subject: str, payload) -> q.ChatView:
    return await bus.request(gw.stack.nc, subject, payload, q.ChatView)


async def refused(gw: Gateway, subject: str, payload) -> BusError:
    with pytest.raises(BusError) as caught:
        await bus.request(gw.stack.nc, subject, payload, q.ChatView)
    return caught.value


def answer(chat: q.ChatView, who: q.OperatorProfile) -> q.TransferAnswer:
    return q.TransferAnswer(chat_id=chat.id, operator_id=who.id,
                            transfer_id=chat.transfer.id if chat.transfer else None)


async def bodies(gw: Gateway, chat_id: str, *, include_internal: bool = False) -> list[str]:
    page = await bus.request(gw.stack.nc, HISTORY, HistoryRequest(chat_id=chat_id, include_internal=include_internal),
                             History)
    return [m.body for m in page.messages]


async def transcript_has(gw: Gateway, chat_id: str, *expected: str) -> list[str]:
    """Wait until the chat's messages include ``expected`` in that order (the chat
    service's lifecycle consumer records them from the queue events); return them."""

    async def probe() -> list[str] | None:
        found = await bodies(gw, chat_id)
        rest = iter(found)
        return found if all(text in rest for text in expected) else None  # a subsequence, in order

    return await eventually(probe, what=f"messages {expected}")


async def test_operator_transfer_rules_accept_and_claim_with_stay(gw: Gateway) -> None:
    ana, ben, cleo = await operator(gw, "ana"), await operator(gw, "ben"), await operator(gw, "cleo")
    chat = await claimed_chat(gw, "circulation", ana)
    request = q.TransferRequest(chat_id=chat.id, operator_id=ana.id, to_operator_id=ben.id,
                                note="  Needs the\r\narchives' directories  ", stay=True)

    # only the owner asks, never to themself, and the target must exist
    assert (await refused(gw, q.TRANSFER_REQUEST, request.model_copy(update={"operator_id": ben.id}))).code == "403"
    to_self = await refused(gw, q.TRANSFER_REQUEST, request.model_copy(update={"to_operator_id": ana.id}))
    assert to_self.code == "409" and "another operator" in to_self.message
    unknown = request.model_copy(update={"to_operator_id": "nobody"})
    assert (await refused(gw, q.TRANSFER_REQUEST, unknown)).code == "404"
    nowhere = q.TransferRequest(chat_id=chat.id, operator_id=ana.id, to_department_id="nowhere")
    assert (await refused(gw, q.TRANSFER_REQUEST, nowhere)).code == "404"

    pending = await call(gw, q.TRANSFER_REQUEST, request)
    transfer = pending.transfer
    assert pending.state == "active" and pending.claimed_by == ana.id
    assert transfer is not None and transfer.state == "pending" and transfer.stay
    assert (transfer.from_operator_name, transfer.to_operator_name, transfer.note) == \
        ("Ana", "Ben", "Needs the\narchives' directories")

    # one transfer at a time; nobody claims it meanwhile, not even the target before accepting
    again = await refused(gw, q.TRANSFER_REQUEST, request)
    assert again.code == "409" and again.message == "A transfer of this chat is already under way."
    by_cleo = await refused(gw, q.CHAT_CLAIM, q.ClaimRequest(chat_id=chat.id, operator_id=cleo.id))
    assert by_cleo.code == "409" and by_cleo.message == "This chat is being transferred to Ben."
    early = await refused(gw, q.CHAT_CLAIM, q.ClaimRequest(chat_id=chat.id, operator_id=ben.id))
    assert early.code == "409" and early.message == "Accept the transfer before claiming the chat."
    assert (await refused(gw, q.TRANSFER_ACCEPT, answer(pending, cleo))).code == "403"
    ending = await refused(gw, q.CHAT_END, q.EndRequest(chat_id=chat.id, ended_by="operator", operator_id=ana.id))
    assert ending.code == "409" and "cancel it" in ending.message
    stale = await refused(gw, q.TRANSFER_ACCEPT, q.TransferAnswer(chat_id=chat.id, operator_id=ben.id,
                                                                   transfer_id="not-this-one"))
    assert stale.code == "409" and stale.message == "This transfer is no longer open."

    accepted = await call(gw, q.TRANSFER_ACCEPT, answer(pending, ben))
    assert accepted.transfer.state == "accepted" and accepted.transfer.accepted_by == ben.id
    late_decline = await refused(gw, q.TRANSFER_DECLINE, answer(accepted, ben))
    assert late_decline.code == "409" and late_decline.message == "This transfer was already accepted."

    claimed = await call(gw, q.CHAT_CLAIM, q.ClaimRequest(chat_id=chat.id, operator_id=ben.id))
    assert (claimed.claimed_by, claimed.claimed_by_name, claimed.transfer, claimed.transfer_count) == \
        (ben.id, "Ben", None, 1)
    assert [(p.operator_id, p.nickname) for p in claimed.participants] == [(ana.id, "Ana")]
    # the chat keeps its department (an operator transfer) and its first claim time (wait time stays the patron's)
    assert claimed.department_id == "circulation" and claimed.claimed_at == chat.claimed_at
    # a retried claim by the winner answers the chat; only the new owner ends it
    assert (await call(gw, q.CHAT_CLAIM, q.ClaimRequest(chat_id=chat.id, operator_id=ben.id))).claimed_by == ben.id
    assert (await refused(gw, q.CHAT_END, q.EndRequest(chat_id=chat.id, ended_by="operator",
                                                       operator_id=ana.id))).code == "403"
    # Ben (not in Circulation) has the chat on his board, Ana as a participant too
    for who in (ben, ana):
        board = await bus.request(gw.stack.nc, q.BOARD, q.BoardRequest(
            department_ids=[d.id for d in who.departments], operator_id=who.id), q.Board)
        assert chat.id in [c.id for c in board.chats], who.username

    # the patron is told each step (recorded from the queue events by the chat service)
    found = await transcript_has(gw, chat.id, "Where are the 1910 city directories?", "Ana joined the chat.",
                                 "Ana is transferring your chat to Ben — please stay here.",
                                 "Ben accepted the transfer and will join shortly.", "Ben joined the chat.")
    assert "Ana left the chat." not in found
    assert not any("archives' directories" in body for body in found)  # the note is between librarians
    ended = await call(gw, q.CHAT_END, q.EndRequest(chat_id=chat.id, ended_by="operator", operator_id=ben.id))
    assert ended.state == "ended"


async def test_a_department_transfer_is_claimed_by_exactly_one_monitor(gw: Gateway) -> None:
    ana = await operator(gw, "ana")
    ben, cleo = await operator(gw, "ben", ["archives"]), await operator(gw, "cleo", ["archives"])
    for _ in range(5):
        chat = await claimed_chat(gw, "reference", ana)
        pending = await call(gw, q.TRANSFER_REQUEST, q.TransferRequest(
            chat_id=chat.id, operator_id=ana.id, to_department_id="archives", note="Manuscripts question"))
        assert pending.transfer.to_department_name == "Archives"
        # Ana is not in Archives: she cannot answer it; any Archives member can
        assert (await refused(gw, q.TRANSFER_ACCEPT, answer(pending, ana))).code == "403"
        await call(gw, q.TRANSFER_ACCEPT, answer(pending, cleo))
        results = await asyncio.gather(
            *(bus.request(gw.stack.nc, q.CHAT_CLAIM, q.ClaimRequest(chat_id=chat.id, operator_id=who.id), q.ChatView)
              for who in (ben, cleo)),
            return_exceptions=True)
        wins = [r for r in results if isinstance(r, q.ChatView)]
        losses = [r for r in results if isinstance(r, BusError)]
        assert len(wins) == 1 and len(losses) == 1, results
        winner = wins[0]
        assert losses[0].code == "409" and losses[0].message == f"Already claimed by {winner.claimed_by_name}."
        assert winner.department_id == "archives" and winner.participants == [] and winner.transfer_count == 1
        await transcript_has(gw, chat.id, "Archives accepted the transfer; someone will join shortly.",
                             f"{winner.claimed_by_name} joined the chat.", "Ana left the chat.")
        # Ana left: the chat is no longer hers to end or transfer
        assert (await refused(gw, q.TRANSFER_REQUEST, q.TransferRequest(
            chat_id=chat.id, operator_id=ana.id, to_operator_id=ben.id))).code == "403"


async def test_decline_cancel_and_the_patron_ending_a_transfer(gw: Gateway) -> None:
    ana, ben = await operator(gw, "ana"), await operator(gw, "ben")
    chat = await claimed_chat(gw, "reference", ana)
    to_ben = q.TransferRequest(chat_id=chat.id, operator_id=ana.id, to_operator_id=ben.id)

    declined = await call(gw, q.TRANSFER_DECLINE, answer(await call(gw, q.TRANSFER_REQUEST, to_ben), ben))
    assert declined.transfer is None and declined.claimed_by == ana.id and declined.transfer_count == 0

    pending = await call(gw, q.TRANSFER_REQUEST, to_ben)
    assert (await refused(gw, q.TRANSFER_CANCEL, answer(pending, ben))).code == "403"  # only the sender cancels
    accepted = await call(gw, q.TRANSFER_ACCEPT, answer(pending, ben))
    cancelled = await call(gw, q.TRANSFER_CANCEL, answer(accepted, ana))  # accepted, not yet claimed: still hers
    assert cancelled.transfer is None and cancelled.claimed_by == ana.id
    gone = await refused(gw, q.CHAT_CLAIM, q.ClaimRequest(chat_id=chat.id, operator_id=ben.id))
    assert gone.code == "409" and gone.message == "Already claimed by Ana."
    await transcript_has(gw, chat.id, "Ana is transferring your chat to Ben — please stay here.",
                         "Ana is still with you.", "Ben accepted the transfer and will join shortly.",
                         "Ana is still with you.")

    # the patron may leave while a transfer is pending: it ends with the chat
    pending = await call(gw, q.TRANSFER_REQUEST, to_ben)
    dismissing = await refused(gw, q.CHAT_DISMISS, q.DismissRequest(chat_id=chat.id, operator_id=ana.id))
    assert dismissing.code == "409" and "cancel it" in dismissing.message
    ended = await call(gw, q.CHAT_END, q.EndRequest(chat_id=chat.id, ended_by="patron"))
    assert ended.state == "ended" and ended.transfer is None
    assert (await refused(gw, q.TRANSFER_ACCEPT, answer(pending, ben))).code == "409"


# --- through the gateway ---------------------------------------------------------------


async def patron_of(gw: Gateway, department: str, question: str) -> tuple[Client, str, str]:
    created = await new_chat(gw, department, question=question)
    patron, _ = await Client.open(gw, created["token"])
    await patron.ok({"type": "chat.subscribe", "chat_id": created["chat_id"]})
    return patron, created["chat_id"], created["token"]


def system_bodies(frames: list[dict]) -> list[str]:
    return [f["message"]["body"] for f in frames if f["type"] == "message" and f["message"]["author_kind"] == "system"]


async def test_transfer_to_an_operator_over_websockets_stay_then_end(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["circulation"])
    ben = await online_operator(gw, "ben", ["reference"])
    cleo = await online_operator(gw, "cleo", ["circulation"])
    patron, chat_id, token = await patron_of(gw, "circulation", "Can I renew an interlibrary loan?")
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await ana.ok({"type": "chat.subscribe", "chat_id": chat_id})
    await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "p1", "body": "It is due Friday."})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "n1", "body": "ILL item from Dayton",
                  "internal": True})

    bad = await ana.request({"type": "transfer.request", "chat_id": chat_id})
    assert bad["type"] == "error" and bad["code"] == "400"
    ben_id = (await login_profile(gw, "ben"))["id"]
    pending = await ana.ok({"type": "transfer.request", "chat_id": chat_id, "to_operator_id": ben_id,
                            "note": "ILL renewals are yours", "stay": True})
    assert pending["transfer"]["state"] == "pending" and pending["transfer"]["to_operator_name"] == "Ben"

    # Ben (not in Circulation) is offered it: the chat, the note and the transcript so far, internal note included
    offer = await ben.expect("transfer.offer", lambda f: f["chat"]["id"] == chat_id)
    assert offer["note"] == "ILL renewals are yours" and offer["transfer"]["from_operator_name"] == "Ana"
    preview = [m["body"] for m in offer["preview"]]
    assert preview[:2] == ["Can I renew an interlibrary loan?", "Ana joined the chat."]
    assert "It is due Friday." in preview and "ILL item from Dayton" in preview
    # the patron is told, without the note
    told = await patron.expect("message", lambda f: "transferring" in f["message"]["body"])
    assert told["message"]["body"] == "Ana is transferring your chat to Ben — please stay here."
    update = await patron.expect("chat.update", of_chat(chat_id, "transfer_requested"))
    assert update["chat"]["transfer"]["note"] == "" and "ILL renewals" not in str(update)

    # the sender is locked out of the conversation while it is under way; nobody else can claim it
    locked = await ana.request({"type": "chat.send", "chat_id": chat_id, "cmid": "a1", "body": "Still there?"})
    assert (locked["type"], locked["code"], locked["message"]) == \
        ("error", "409", "A transfer is under way; cancel it to write to the patron.")
    taken = await cleo.request({"type": "chat.claim", "chat_id": chat_id})
    assert (taken["code"], taken["message"]) == ("409", "This chat is being transferred to Ben.")
    # a reloaded dashboard gets the preview again
    again = await ben.ok({"type": "transfer.preview", "chat_id": chat_id})
    assert again["note"] == "ILL renewals are yours" and len(again["preview"]) >= 4
    assert (await cleo.request({"type": "transfer.preview", "chat_id": chat_id}))["code"] == "403"

    await ben.ok({"type": "transfer.accept", "chat_id": chat_id, "transfer_id": pending["transfer"]["id"]})
    seen = await ana.expect("chat.update", of_chat(chat_id, "transfer_accepted"))
    assert seen["transfer"]["accepted_by"] == ben_id
    claimed = await ben.ok({"type": "chat.claim", "chat_id": chat_id})
    assert claimed["claimed_by_name"] == "Ben" and [p["nickname"] for p in claimed["participants"]] == ["Ana"]
    handed = await ana.expect("chat.update", lambda f: of_chat(chat_id, "claimed")(f) and "transfer" in f)
    assert handed["chat"]["claimed_by"] == ben_id and handed["transfer"]["stay"] is True

    # a group chat: both write, only Ben ends
    await ben.ok({"type": "chat.subscribe", "chat_id": chat_id})
    await ben.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "b1", "body": "Hi, I'm Ben; I can renew it."})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "a2", "body": "I'll stay in case you need me."})
    refused_end = await ana.request({"type": "chat.end", "chat_id": chat_id})
    assert refused_end["code"] == "403"
    await patron.expect("message", lambda f: f["message"]["body"] == "I'll stay in case you need me.")

    # the patron reconnects and has the whole conversation (without the internal note)
    await patron.close()
    patron, _ = await Client.open(gw, token)
    await patron.send({"type": "chat.subscribe", "chat_id": chat_id, "ref": "s"})
    history = await patron.expect("history", lambda f: f["chat_id"] == chat_id)
    assert [m["body"] for m in history["messages"]] == [
        "Can I renew an interlibrary loan?", "Ana joined the chat.", "It is due Friday.",
        "Ana is transferring your chat to Ben — please stay here.",
        "Ben accepted the transfer and will join shortly.", "Ben joined the chat.",
        "Hi, I'm Ben; I can renew it.", "I'll stay in case you need me.",
    ]
    assert (await ben.ok({"type": "chat.end", "chat_id": chat_id}))["state"] == "ended"
    for client in (ana, ben, cleo, patron):
        await client.close()


async def login_profile(gw: Gateway, username: str) -> dict:
    response = await gw.http.post("/api/auth/login", json={"username": username, "password": "librarian"})
    return response.json()["operator"]


async def test_decline_is_seen_by_the_sender_and_leaving_ends_their_part(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    ben = await online_operator(gw, "ben", ["reference"])
    patron, chat_id, _ = await patron_of(gw, "reference", "Do you have Moby-Dick?")
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    ben_id = (await login_profile(gw, "ben"))["id"]
    to_ben = {"type": "transfer.request", "chat_id": chat_id, "to_operator_id": ben_id, "note": "", "stay": False}

    await ana.ok(to_ben)
    await ben.expect("transfer.offer", lambda f: f["chat"]["id"] == chat_id)
    declined = await ben.ok({"type": "transfer.decline", "chat_id": chat_id})
    assert declined["transfer"] is None
    seen = await ana.expect("chat.update", of_chat(chat_id, "transfer_declined"))
    assert seen["transfer"]["to_operator_name"] == "Ben" and seen["chat"]["transfer"] is None
    await patron.expect("message", lambda f: f["message"]["body"] == "Ana is still with you.")
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "a1", "body": "Let me look myself."})

    await ana.ok(to_ben)
    await ben.ok({"type": "transfer.accept", "chat_id": chat_id})
    await ben.ok({"type": "chat.claim", "chat_id": chat_id})
    gone = await ana.request({"type": "chat.send", "chat_id": chat_id, "cmid": "a2", "body": "Hello?"})
    assert (gone["code"], gone["message"]) == ("403", "This chat belongs to Ben.")
    await patron.expect("message", lambda f: f["message"]["body"] == "Ana left the chat.")
    frames = await patron.drain()
    assert "Ana left the chat." not in system_bodies(frames)  # told once
    for client in (ana, ben, patron):
        await client.close()


async def test_department_monitors_both_get_the_offer_and_one_claim_wins(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    ben = await online_operator(gw, "ben", ["archives"])
    cleo = await online_operator(gw, "cleo", ["archives"])
    patron, chat_id, _ = await patron_of(gw, "reference", "Letters of a 19th-century mayor?")
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await ana.ok({"type": "transfer.request", "chat_id": chat_id, "to_department_id": "archives",
                  "note": "Manuscripts", "stay": False})
    for monitor in (ben, cleo):
        offer = await monitor.expect("transfer.offer", lambda f: f["chat"]["id"] == chat_id)
        assert offer["transfer"]["to_department_name"] == "Archives" and offer["note"] == "Manuscripts"
    await cleo.ok({"type": "transfer.accept", "chat_id": chat_id})
    for monitor in (ben, cleo):
        await monitor.expect("chat.update", of_chat(chat_id, "transfer_accepted"))
    await ben.send({"type": "chat.claim", "chat_id": chat_id, "ref": "b"})
    await cleo.send({"type": "chat.claim", "chat_id": chat_id, "ref": "c"})
    answers = [await ben.expect_answer("b"), await cleo.expect_answer("c")]
    assert sorted(a["type"] for a in answers) == ["error", "reply"]
    won = next(a for a in answers if a["type"] == "reply")["data"]
    lost = next(a for a in answers if a["type"] == "error")
    assert (lost["code"], lost["message"]) == ("409", f"Already claimed by {won['claimed_by_name']}.")
    assert won["department_id"] == "archives"
    await patron.expect("message", lambda f: f["message"]["body"] == f"{won['claimed_by_name']} joined the chat.")
    for client in (ana, ben, cleo, patron):
        await client.close()


async def test_a_transfer_offer_needs_a_target_that_exists(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    _, chat_id, _ = await patron_of(gw, "reference", "Hours on Sunday?")
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    unknown = await ana.request({"type": "transfer.request", "chat_id": chat_id, "to_department_id": "nowhere"})
    assert unknown["code"] == "404"
    both = await ana.request({"type": "transfer.request", "chat_id": chat_id, "to_department_id": "archives",
                              "to_operator_id": "x"})
    assert both["code"] == "400"
    cancel_nothing = await ana.request({"type": "transfer.cancel", "chat_id": chat_id})
    assert (cancel_nothing["code"], cancel_nothing["message"]) == ("409", "This transfer is no longer open.")
    await ana.close()



async def test_the_sender_cannot_answer_their_own_transfer_only_cancel_it(gw: Gateway) -> None:
    """Ana transfers her Reference chat to Reference (a department she is in): she is
    not offered it, cannot accept or decline it (which would lock the chat for good),
    and the queue service refuses it too; Ben can accept; Ana can cancel."""
    ana = await online_operator(gw, "ana", ["reference"])
    ben = await online_operator(gw, "ben", ["reference"])
    patron, chat_id, _ = await patron_of(gw, "reference", "Who can help with citations?")
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    pending = await ana.ok({"type": "transfer.request", "chat_id": chat_id, "to_department_id": "reference",
                            "note": "", "stay": False})
    await ben.expect("transfer.offer", lambda f: f["chat"]["id"] == chat_id)
    own = "You asked for this transfer: you can cancel it, not accept or decline it."
    for kind in ("transfer.accept", "transfer.decline"):
        refused_answer = await ana.request({"type": kind, "chat_id": chat_id, "transfer_id": pending["transfer"]["id"]})
        assert (refused_answer["type"], refused_answer["code"], refused_answer["message"]) == ("error", "403", own)
    ana_id = pending["claimed_by"]
    chat = await call(gw, q.CHAT_GET, q.ChatRef(chat_id=chat_id))
    by_service = await refused(gw, q.TRANSFER_ACCEPT, q.TransferAnswer(chat_id=chat_id, operator_id=ana_id))
    assert (by_service.code, by_service.message) == ("403", own)
    assert chat.transfer is not None and chat.transfer.state == "pending"
    assert not [f for f in await ana.drain() if f["type"] == "transfer.offer"]  # never offered to herself
    still = await ana.ok({"type": "chat.claim", "chat_id": chat_id})  # her own chat: nothing changes
    assert still["transfer"]["state"] == "pending" and still["claimed_by"] == ana_id

    await ana.ok({"type": "transfer.cancel", "chat_id": chat_id})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "a1", "body": "I'll keep helping you."})
    await ana.ok({"type": "transfer.request", "chat_id": chat_id, "to_department_id": "reference", "note": "",
                  "stay": False})
    accepted = await ben.ok({"type": "transfer.accept", "chat_id": chat_id})
    assert accepted["transfer"]["state"] == "accepted"
    for client in (ana, ben, patron):
        await client.close()


async def test_a_declined_target_stops_receiving_the_chat(gw: Gateway) -> None:
    """Ben (not in Circulation) subscribes to the Circulation chat offered to him, then
    declines: from then on its messages and internal notes no longer reach him."""
    ana = await online_operator(gw, "ana", ["circulation"])
    ben = await online_operator(gw, "ben", ["reference"])
    patron, chat_id, _ = await patron_of(gw, "circulation", "Can I borrow a laptop?")
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await ana.ok({"type": "chat.subscribe", "chat_id": chat_id})
    ben_id = (await login_profile(gw, "ben"))["id"]
    await ana.ok({"type": "transfer.request", "chat_id": chat_id, "to_operator_id": ben_id, "note": "", "stay": False})
    await ben.expect("transfer.offer", lambda f: f["chat"]["id"] == chat_id)
    await ben.ok({"type": "chat.subscribe", "chat_id": chat_id})  # a target may read it
    await ben.ok({"type": "transfer.decline", "chat_id": chat_id})
    await ben.expect("chat.update", of_chat(chat_id, "transfer_declined"))

    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "a1", "body": "Laptops are at the desk."})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "n1", "body": "Patron owes a fine",
                  "internal": True})
    await ana.expect("message", lambda f: f["message"]["body"] == "Patron owes a fine")  # delivered to feeds
    await patron.expect("message", lambda f: f["message"]["body"] == "Laptops are at the desk.")
    leaked = [f for f in await ben.drain() if f["type"] == "message" and f["chat_id"] == chat_id]
    assert [f["message"]["body"] for f in leaked] == []
    again = await ben.request({"type": "chat.subscribe", "chat_id": chat_id})
    assert (again["type"], again["code"]) == ("error", "403")
    for client in (ana, ben, patron):
        await client.close()


async def test_a_transfer_needs_someone_online_to_take_it(gw: Gateway) -> None:
    """An Offline operator, or a department nobody Online monitors, cannot be the
    target: the sender is told to create a ticket instead (the chat would otherwise
    wait for nobody)."""
    nc = gw.stack.nc
    ana = await operator(gw, "ana")
    chat = await claimed_chat(gw, "reference", ana)
    for name in ("ben", "cleo"):
        profile = await operator(gw, name)
        await bus.request(nc, q.OPERATOR_STATUS, q.SetStatusRequest(operator_id=profile.id, status="offline"),
                          q.OperatorProfile)
    ben = await bus.request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username="ben", password="librarian"),
                            q.OperatorProfile)

    to_ben = await refused(gw, q.TRANSFER_REQUEST, q.TransferRequest(
        chat_id=chat.id, operator_id=ana.id, to_operator_id=ben.id))
    assert (to_ben.code, to_ben.message) == ("409", "Ben is offline — create a ticket instead.")
    to_archives = await refused(gw, q.TRANSFER_REQUEST, q.TransferRequest(
        chat_id=chat.id, operator_id=ana.id, to_department_id="archives"))
    assert (to_archives.code, to_archives.message) == ("409", "Archives is offline — create a ticket instead.")
    assert (await call(gw, q.CHAT_GET, q.ChatRef(chat_id=chat.id))).transfer is None

    await operator(gw, "ben", ["reference", "archives"])  # back Online: the same request now goes through
    pending = await call(gw, q.TRANSFER_REQUEST, q.TransferRequest(
        chat_id=chat.id, operator_id=ana.id, to_department_id="archives"))
    assert pending.transfer is not None and pending.transfer.to_department_name == "Archives"
