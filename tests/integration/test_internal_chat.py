"""Internal Chat end to end over real NATS + PostgreSQL: the chat service's
``rd.chat.internal.*`` endpoints and events, the queue service's staff list, and the
gateway's websocket frames (``internal.*``, ``staff.list`` / ``staff.update``) as two
and three operators see them.

Demo operators (services/queue/seed.py): Ana (Reference, Circulation), Ben
(Reference, Archives), Cleo (all three).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from refdesk import bus
from refdesk.bus import BusError
from refdesk.contracts import chat as c
from refdesk.contracts.common import Ok
from refdesk.contracts.queue import OPERATORS_LIST, OperatorList, OperatorsListRequest
from tests.gateway_client import Client, Gateway, gateway_stack, login, new_chat, online_operator
from tests.support import Stack, eventually, running

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


def cmid() -> str:
    return uuid.uuid4().hex


# --- the services over NATS ----------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def services(servers) -> AsyncIterator[Stack]:
    async with running(servers, "queue", "chat") as stack:
        yield stack


async def _ids(stack: Stack) -> dict[str, str]:
    staff = await bus.request(stack.nc, OPERATORS_LIST, OperatorsListRequest(), OperatorList)
    return {entry.nickname.lower(): entry.id for entry in staff.operators}


async def test_staff_list_shape_and_filter(services: Stack) -> None:
    staff = await bus.request(services.nc, OPERATORS_LIST, OperatorsListRequest(), OperatorList)
    assert [entry.nickname for entry in staff.operators] == ["Ana", "Ben", "Cleo"]
    ana = staff.operators[0]
    assert ana.full_name == "Ana Alvarez" and ana.status == "offline" and ana.active_chats == 0
    assert [(d.id, d.name) for d in ana.departments] == [("circulation", "Circulation"), ("reference", "Reference")]
    only = await bus.request(services.nc, OPERATORS_LIST, OperatorsListRequest(operator_ids=[ana.id, "nobody"]),
                             OperatorList)
    assert [entry.id for entry in only.operators] == [ana.id]


async def test_rooms_direct_send_history_read(services: Stack) -> None:
    nc = services.nc
    ids = await _ids(services)
    ana = {"operator_id": ids["ana"], "department_ids": ["circulation", "reference"]}
    ben = {"operator_id": ids["ben"], "department_ids": ["archives", "reference"]}

    rooms = (await bus.request(nc, c.INTERNAL_ROOMS, c.InternalRoomsRequest(**ana), c.InternalRoomList)).rooms
    assert [(r.kind, r.department_id) for r in rooms] == [
        ("all_staff", None), ("department", "circulation"), ("department", "reference")]
    assert all(r.top_seq == 0 and r.unread == 0 and r.last_message is None for r in rooms)

    # the same pair always gets the same room, whoever opens it
    opened = await bus.request(nc, c.INTERNAL_OPEN, c.InternalOpenRequest(**ana, other_operator_id=ids["ben"]),
                               c.RoomView)
    again = await bus.request(nc, c.INTERNAL_OPEN, c.InternalOpenRequest(**ben, other_operator_id=ids["ana"]),
                              c.RoomView)
    assert opened.id == again.id and opened.kind == "direct" and opened.member_ids == sorted([ids["ana"], ids["ben"]])
    with pytest.raises(BusError) as myself:
        await bus.request(nc, c.INTERNAL_OPEN, c.InternalOpenRequest(**ana, other_operator_id=ids["ana"]), c.RoomView)
    assert myself.value.code == "422"

    # events go out through the outbox, one per stored message
    events: list[c.InternalMessagePosted] = []

    async def collect(msg) -> None:
        events.append(c.InternalMessagePosted.model_validate_json(msg.data))

    sub = await nc.subscribe(c.internal_event_subject(opened.id), cb=collect)
    room = opened.id
    first = c.InternalSendRequest(**ana, room_id=room, cmid="m-1", author_name="Ana", body="  Can you cover desk?\r\n")
    ack = await bus.request(nc, c.INTERNAL_SEND, first, c.InternalSendAck)
    assert ack.seq == 1 and not ack.duplicate
    retry = await bus.request(nc, c.INTERNAL_SEND, first, c.InternalSendAck)
    assert retry.duplicate and retry.seq == 1 and retry.message_id == ack.message_id
    for n in range(2, 8):
        await bus.request(nc, c.INTERNAL_SEND, c.InternalSendRequest(
            **(ana if n % 2 else ben), room_id=room, cmid=f"m-{n}", author_name="X", body=f"message {n}"),
            c.InternalSendAck)
    with pytest.raises(BusError) as blank:
        await bus.request(nc, c.INTERNAL_SEND, c.InternalSendRequest(
            **ana, room_id=room, cmid="blank", author_name="Ana", body=" \u200b "), c.InternalSendAck)
    assert blank.value.code == "422"
    async def all_posted() -> bool:
        return len(events) == 7

    await eventually(all_posted, what="seven posted events")
    await sub.unsubscribe()
    assert [e.message.seq for e in events] == list(range(1, 8))
    assert events[0].message.body == "Can you cover desk?" and events[0].room.member_ids == opened.member_ids

    # Ben's unread counts Ana's messages only (seqs 1, 3, 5, 7); the preview is the latest
    ben_view = next(r for r in (await bus.request(nc, c.INTERNAL_ROOMS, c.InternalRoomsRequest(**ben),
                                                  c.InternalRoomList)).rooms if r.id == room)
    assert (ben_view.unread, ben_view.top_seq, ben_view.last_read_seq) == (4, 7, 0)
    assert ben_view.last_message and ben_view.last_message.body == "message 7"
    read = await bus.request(nc, c.INTERNAL_READ, c.InternalReadRequest(**ben, room_id=room, seq=5), c.RoomView)
    assert (read.unread, read.last_read_seq) == (1, 5)
    back = await bus.request(nc, c.INTERNAL_READ, c.InternalReadRequest(**ben, room_id=room, seq=2), c.RoomView)
    assert back.last_read_seq == 5  # never moves back
    capped = await bus.request(nc, c.INTERNAL_READ, c.InternalReadRequest(**ben, room_id=room, seq=99), c.RoomView)
    assert (capped.last_read_seq, capped.unread) == (7, 0)

    # "load earlier": pages before a seq, oldest first
    latest = await bus.request(nc, c.INTERNAL_HISTORY, c.InternalHistoryRequest(
        **ben, room_id=room, before_seq=8, limit=3), c.InternalHistory)
    assert [m.seq for m in latest.messages] == [5, 6, 7] and latest.more and latest.top_seq == 7
    earlier = await bus.request(nc, c.INTERNAL_HISTORY, c.InternalHistoryRequest(
        **ben, room_id=room, before_seq=5, limit=3), c.InternalHistory)
    assert [m.seq for m in earlier.messages] == [2, 3, 4] and earlier.more
    first_page = await bus.request(nc, c.INTERNAL_HISTORY, c.InternalHistoryRequest(
        **ben, room_id=room, before_seq=2, limit=3), c.InternalHistory)
    assert [m.seq for m in first_page.messages] == [1] and not first_page.more
    replay = await bus.request(nc, c.INTERNAL_HISTORY, c.InternalHistoryRequest(
        **ana, room_id=room, after_seq=5), c.InternalHistory)
    assert [m.seq for m in replay.messages] == [6, 7] and not replay.more


async def test_membership_is_checked(services: Stack) -> None:
    nc = services.nc
    ids = await _ids(services)
    ana = {"operator_id": ids["ana"], "department_ids": ["circulation", "reference"]}
    ben = {"operator_id": ids["ben"], "department_ids": ["archives", "reference"]}
    cleo = {"operator_id": ids["cleo"], "department_ids": ["archives", "circulation", "reference"]}
    circulation = await bus.request(nc, c.INTERNAL_OPEN, c.InternalOpenRequest(**ana, department_id="circulation"),
                                    c.RoomView)
    assert circulation.kind == "department" and circulation.department_id == "circulation"
    direct = await bus.request(nc, c.INTERNAL_OPEN, c.InternalOpenRequest(**ana, other_operator_id=ids["cleo"]),
                               c.RoomView)
    for room_id in (circulation.id, direct.id):
        for request in (c.InternalSendRequest(**ben, room_id=room_id, cmid="x", author_name="Ben", body="hi"),
                        c.InternalHistoryRequest(**ben, room_id=room_id),
                        c.InternalReadRequest(**ben, room_id=room_id, seq=1)):
            subject = {c.InternalSendRequest: c.INTERNAL_SEND, c.InternalHistoryRequest: c.INTERNAL_HISTORY,
                       c.InternalReadRequest: c.INTERNAL_READ}[type(request)]
            with pytest.raises(BusError) as refused:
                await bus.request(nc, subject, request, Ok)
            assert (refused.value.code, refused.value.message) == ("403", "You are not in this room.")
    with pytest.raises(BusError) as not_member:
        await bus.request(nc, c.INTERNAL_OPEN, c.InternalOpenRequest(**ben, department_id="circulation"), c.RoomView)
    assert not_member.value.code == "403"
    with pytest.raises(BusError) as unknown:
        await bus.request(nc, c.INTERNAL_HISTORY, c.InternalHistoryRequest(**ben, room_id="no-such-room"), Ok)
    assert unknown.value.code == "404"
    # Cleo is in Circulation: she sees the room; Ben's room list does not show it
    await bus.request(nc, c.INTERNAL_SEND, c.InternalSendRequest(
        **cleo, room_id=circulation.id, cmid="c1", author_name="Cleo", body="Circulation only"), c.InternalSendAck)
    ben_rooms = (await bus.request(nc, c.INTERNAL_ROOMS, c.InternalRoomsRequest(**ben), c.InternalRoomList)).rooms
    assert circulation.id not in {r.id for r in ben_rooms} and direct.id not in {r.id for r in ben_rooms}


# --- through the gateway's websocket -------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers) as gateway:
        yield gateway


async def operator(gw: Gateway, username: str) -> tuple[Client, dict]:
    client, welcome = await Client.open(gw, await login(gw, username))
    return client, welcome["operator"]


def entry_of(operator_id: str):
    return lambda f: f["operator"]["id"] == operator_id


async def test_staff_list_and_updates(gw: Gateway) -> None:
    ben, ben_profile = await operator(gw, "ben")
    staff = (await ben.ok({"type": "staff.list"}))["operators"]
    assert [s["nickname"] for s in staff] == ["Ana", "Ben", "Cleo"]
    ana_entry = staff[0]
    assert set(ana_entry) == {"id", "nickname", "full_name", "status", "departments", "monitored", "active_chats"}
    assert ana_entry["status"] == "offline" and ana_entry["active_chats"] == 0
    assert ana_entry["departments"] == [{"id": "circulation", "name": "Circulation"},
                                        {"id": "reference", "name": "Reference"}]

    # Ana goes online monitoring Circulation: Ben sees it
    ana = await online_operator(gw, "ana", ["circulation"])
    update = await ben.expect("staff.update", lambda f: f["operator"]["id"] == ana_entry["id"]
                              and f["operator"]["status"] == "online")
    assert update["operator"]["monitored"] == ["circulation"] and update["operator"]["active_chats"] == 0

    # she claims a chat: her count of active chats is 1; she ends it: back to 0
    created = await new_chat(gw, "circulation", "Where are the maps?")
    await ana.ok({"type": "chat.claim", "chat_id": created["chat_id"]})
    claimed = await ben.expect("staff.update", lambda f: f["operator"]["id"] == ana_entry["id"]
                               and f["operator"]["active_chats"] == 1)
    assert claimed["operator"]["status"] == "online"
    assert [s["active_chats"] for s in (await ben.ok({"type": "staff.list"}))["operators"]] == [1, 0, 0]
    await ana.ok({"type": "chat.end", "chat_id": created["chat_id"]})
    await ben.expect("staff.update", lambda f: f["operator"]["id"] == ana_entry["id"]
                     and f["operator"]["active_chats"] == 0)

    # patrons get no staff list
    patron, _ = await Client.open(gw, (await new_chat(gw, "reference"))["token"])
    refused = await patron.request({"type": "staff.list"})
    assert refused["type"] == "error" and refused["code"] == "403"
    await ana.ok({"type": "status.set", "status": "offline"})
    await ben.expect("staff.update", lambda f: f["operator"]["id"] == ana_entry["id"]
                     and f["operator"]["status"] == "offline")
    for client in (patron, ana, ben):
        await client.close()


async def test_direct_chat_unread_and_reconnect(gw: Gateway) -> None:
    ana, ana_profile = await operator(gw, "ana")
    ben, ben_profile = await operator(gw, "ben")

    room = await ana.ok({"type": "internal.open", "operator_id": ben_profile["id"]})
    assert room["kind"] == "direct" and sorted(room["member_ids"]) == sorted([ana_profile["id"], ben_profile["id"]])
    await ana.ok({"type": "internal.subscribe", "room_id": room["id"], "after_seq": room["top_seq"]})
    replayed = await ana.expect("internal.history", lambda f: f["room_id"] == room["id"])
    start = room["top_seq"]
    assert replayed["messages"] == [] and replayed["top_seq"] == start

    # Ana writes; Ben (not subscribed yet) learns of it directly
    sent = await ana.ok({"type": "internal.send", "room_id": room["id"], "cmid": "hello-ben", "body": "Hi Ben!"})
    assert sent["seq"] == start + 1 and not sent["duplicate"]
    pushed = await ben.expect("internal.message", lambda f: f["room_id"] == room["id"])
    assert pushed["message"]["body"] == "Hi Ben!" and pushed["message"]["author_name"] == "Ana"
    own = await ana.expect("internal.message", lambda f: f["room_id"] == room["id"])
    assert own["message"]["seq"] == start + 1
    retry = await ana.ok({"type": "internal.send", "room_id": room["id"], "cmid": "hello-ben", "body": "Hi Ben!"})
    assert retry["duplicate"] and retry["seq"] == start + 1
    too_long = await ana.request({"type": "internal.send", "room_id": room["id"], "cmid": "long", "body": "x" * 5000})
    assert too_long["type"] == "error" and too_long["code"] == "422"

    rooms = (await ben.ok({"type": "internal.rooms"}))["rooms"]
    assert [r["kind"] for r in rooms][:3] == ["all_staff", "department", "department"]
    assert [r["department_id"] for r in rooms if r["kind"] == "department"] == ["archives", "reference"]
    mine = next(r for r in rooms if r["id"] == room["id"])
    assert mine["unread"] == 1 and mine["last_message"]["body"] == "Hi Ben!"

    # Ben subscribes from the room's top and reads; his second socket hears of it
    ben2, _ = await operator(gw, "ben")
    await ben.ok({"type": "internal.subscribe", "room_id": room["id"], "after_seq": mine["top_seq"]})
    read = await ben.ok({"type": "internal.read", "room_id": room["id"], "seq": mine["top_seq"]})
    assert read["unread"] == 0 and read["last_read_seq"] == start + 1
    marker = await ben2.expect("internal.read", lambda f: f["room_id"] == room["id"])
    assert marker["unread"] == 0

    # Ben's first socket drops; Ana writes three more; Ben reconnects from his last seq
    await ben.close()
    for n in range(3):
        await ana.ok({"type": "internal.send", "room_id": room["id"], "cmid": f"more-{n}", "body": f"Update {n}"})
    ben3, _ = await operator(gw, "ben")
    answer = await ben3.ok({"type": "internal.subscribe", "room_id": room["id"], "after_seq": start + 1})
    history = await ben3.expect("internal.history", lambda f: f["room_id"] == room["id"])
    assert [m["seq"] for m in history["messages"]] == [start + 2, start + 3, start + 4]
    assert answer["top_seq"] == start + 4
    await ana.ok({"type": "internal.send", "room_id": room["id"], "cmid": "last", "body": "Last one"})
    live = await ben3.expect("internal.message", lambda f: f["room_id"] == room["id"])
    assert live["message"]["seq"] == start + 5
    later = [f for f in await ben3.drain() if f["type"] in ("internal.message", "internal.history")]
    assert later == []  # each seq exactly once

    # load earlier
    earlier = await ben3.ok({"type": "internal.earlier", "room_id": room["id"], "before_seq": start + 5, "limit": 2})
    assert [m["seq"] for m in earlier["messages"]] == [start + 3, start + 4] and earlier["more"]
    for client in (ana, ben2, ben3):
        await client.close()


async def test_department_rooms_reach_members_only(gw: Gateway) -> None:
    ana, _ = await operator(gw, "ana")    # Reference, Circulation
    ben, _ = await operator(gw, "ben")    # Reference, Archives
    cleo, _ = await operator(gw, "cleo")  # all three
    circulation = await ana.ok({"type": "internal.open", "department_id": "circulation"})
    refused = await ben.request({"type": "internal.open", "department_id": "circulation"})
    assert refused["type"] == "error" and refused["code"] == "403"
    for frame in ({"type": "internal.subscribe", "room_id": circulation["id"]},
                  {"type": "internal.send", "room_id": circulation["id"], "cmid": "b", "body": "let me in"},
                  {"type": "internal.earlier", "room_id": circulation["id"], "before_seq": 10}):
        answer = await ben.request(frame)
        assert (answer["type"], answer["code"], answer["message"]) == ("error", "403", "You are not in this room.")

    await ana.ok({"type": "internal.send", "room_id": circulation["id"], "cmid": "circ-1",
                  "body": "Returns cart is full"})
    heard = await cleo.expect("internal.message", lambda f: f["room_id"] == circulation["id"])
    assert heard["message"]["body"] == "Returns cart is full"

    all_staff = next(r for r in (await ben.ok({"type": "internal.rooms"}))["rooms"] if r["kind"] == "all_staff")
    await ben.ok({"type": "internal.send", "room_id": all_staff["id"], "cmid": "all-1", "body": "Cake in the lounge"})
    for client in (ana, cleo):
        got = await client.expect("internal.message", lambda f: f["room_id"] == all_staff["id"])
        assert got["message"]["author_name"] == "Ben"
    # Ben never heard the Circulation message
    assert not [f for f in await ben.drain()
                if f["type"] == "internal.message" and f["room_id"] == circulation["id"]]
    bad = await ana.request({"type": "internal.open", "operator_id": "nobody-here"})
    assert bad["type"] == "error" and bad["code"] == "404"
    both = await ana.request({"type": "internal.open", "operator_id": "x", "department_id": "reference"})
    assert both["type"] == "error" and both["code"] == "400"
    for client in (ana, ben, cleo):
        await client.close()


async def test_an_internal_subscribe_beyond_the_room_is_clamped_to_its_top(gw: Gateway) -> None:
    """internal.subscribe with an after_seq above the room's real top: the reply gives
    the real top_seq and later messages are still delivered live."""
    cleo, _ = await operator(gw, "cleo")
    ben, ben_profile = await operator(gw, "ben")
    room = await cleo.ok({"type": "internal.open", "operator_id": ben_profile["id"]})
    top = room["top_seq"]
    answer = await cleo.ok({"type": "internal.subscribe", "room_id": room["id"], "after_seq": top + 50})
    replayed = await cleo.expect("internal.history", lambda f: f["room_id"] == room["id"])
    assert replayed["messages"] == [] and answer["top_seq"] == replayed["top_seq"] == top
    sent = await ben.ok({"type": "internal.send", "room_id": room["id"], "cmid": cmid(), "body": "Lunch at one?"})
    assert sent["seq"] == top + 1
    live = await cleo.expect("internal.message", lambda f: f["room_id"] == room["id"])
    assert live["message"]["seq"] == top + 1 and live["message"]["body"] == "Lunch at one?"
    for client in (cleo, ben):
        await client.close()
