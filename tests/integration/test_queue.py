"""The queue service against real NATS (JetStream) and PostgreSQL: sign-in, status
and monitored departments, the chat lifecycle and its events, the claim race, end and
close permissions, the board; and abuse: a department flooded with huge chats, a
sign-in flood, retried chat creation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from nats.aio.client import Client

from refdesk.bus import BusError, request
from refdesk.contracts import queue as q
from refdesk.contracts.common import Empty
from tests.support import Stack, running

pytestmark = pytest.mark.integration

PASSWORD = "correct horse"


@pytest.fixture
async def stack(servers) -> AsyncIterator[Stack]:
    async with running(servers, "queue") as started:
        yield started


class Tap:
    """Collects the messages published on a core NATS subject (JetStream publishes
    reach core subscribers too)."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    @classmethod
    async def on(cls, nc: Client, subject: str) -> Tap:
        tap = cls()

        async def collect(msg) -> None:
            tap.messages.put_nowait((msg.subject, msg.data))

        await nc.subscribe(subject, cb=collect)
        await nc.flush()
        return tap

    async def next_event(self, model: type, where: Callable[[object], bool] = lambda _: True, timeout: float = 5.0):
        """The next message that parses as ``model`` and matches ``where``; fails after ``timeout`` s."""
        async with asyncio.timeout(timeout):
            while True:
                subject, data = await self.messages.get()
                event = model.model_validate_json(data)
                if where(event):
                    return subject, event


async def new_operator(nc: Client, username: str, departments: list[str], *, online: bool = True) -> q.OperatorProfile:
    profile = await request(nc, q.OPERATOR_CREATE, q.CreateOperatorRequest(
        username=username, full_name=f"{username.title()} Tester", nickname=username.title(), password=PASSWORD,
        department_ids=departments), q.OperatorProfile)
    if online:
        profile = await set_status(nc, profile.id, "online")
    return profile


async def set_status(nc: Client, operator_id: str, status: str, monitored: list[str] | None = None) -> q.OperatorProfile:
    return await request(nc, q.OPERATOR_STATUS,
                         q.SetStatusRequest(operator_id=operator_id, status=status, monitored=monitored), q.OperatorProfile)


async def new_chat(nc: Client, department: str = "reference", patron: str = "Pat") -> q.ChatView:
    return await request(nc, q.CHAT_CREATE, q.CreateChatRequest(
        department_id=department, patron_name=patron, question="Do you have the 1910 city atlas?"), q.ChatView)


async def claim(nc: Client, chat_id: str, operator_id: str) -> q.ChatView:
    return await request(nc, q.CHAT_CLAIM, q.ClaimRequest(chat_id=chat_id, operator_id=operator_id), q.ChatView)


async def end(nc: Client, chat_id: str, ended_by: str, operator_id: str | None = None) -> q.ChatView:
    return await request(nc, q.CHAT_END, q.EndRequest(chat_id=chat_id, ended_by=ended_by, operator_id=operator_id), q.ChatView)


async def close(nc: Client, chat_id: str, operator_id: str) -> q.ChatView:
    return await request(nc, q.CHAT_CLOSE, q.CloseRequest(chat_id=chat_id, operator_id=operator_id), q.ChatView)


async def refused(call) -> BusError:
    with pytest.raises(BusError) as info:
        await call
    return info.value


async def online_departments(nc: Client) -> set[str]:
    listed = await request(nc, q.DEPARTMENTS, Empty(), q.DepartmentList)
    return {d.id for d in listed.departments if d.online}


# --- operators ------------------------------------------------------------------------


async def test_sign_in_accepts_the_right_password_only(stack: Stack):
    nc = stack.nc
    ana = await request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username=" ANA ", password="librarian"), q.OperatorProfile)
    assert (ana.username, ana.nickname, ana.status) == ("ana", "Ana", "offline")
    assert [d.id for d in ana.departments] == ["circulation", "reference"]

    wrong_password = await refused(request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username="ana", password="librarians"), q.OperatorProfile))
    unknown_user = await refused(request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username="nobody", password="librarian"), q.OperatorProfile))
    for error in (wrong_password, unknown_user):
        assert (error.code, error.message) == ("401", "Wrong username or password.")

    fetched = await request(nc, q.OPERATOR_GET, q.OperatorRef(operator_id=ana.id), q.OperatorProfile)
    assert fetched == ana


async def test_operator_create_refuses_taken_usernames_and_unknown_departments(stack: Stack):
    nc = stack.nc
    dora = await new_operator(nc, "dora", ["archives"], online=False)
    signed_in = await request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username="dora", password=PASSWORD), q.OperatorProfile)
    assert signed_in.id == dora.id and [d.id for d in dora.departments] == ["archives"]

    taken = await refused(new_operator(nc, "Dora", ["reference"], online=False))
    assert taken.code == "409"
    unknown = await refused(new_operator(nc, "ed", ["astronomy"], online=False))
    assert unknown.code == "404"
    unchecked = q.CreateOperatorRequest.model_construct(  # skips client-side validation: the service must refuse
        username="fay", full_name="Fay", nickname="Fay", password="short", department_ids=[], is_admin=False)
    short = await refused(request(nc, q.OPERATOR_CREATE, unchecked, q.OperatorProfile))
    assert short.code == "400" and "password" in short.message


async def test_status_sets_monitored_departments_and_department_presence(stack: Stack):
    nc = stack.nc
    ben = await request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username="ben", password="librarian"), q.OperatorProfile)
    tap = await Tap.on(nc, q.operator_event_subject(ben.id))
    assert await online_departments(nc) == set()

    online = await set_status(nc, ben.id, "online")
    assert (online.status, online.monitored) == ("online", ["archives", "reference"])  # defaults to all his departments
    assert {d.id: d.online for d in online.departments} == {"archives": True, "reference": True}
    assert await online_departments(nc) == {"archives", "reference"}
    _, event = await tap.next_event(q.OperatorStatusEvent)
    assert event.operator == online

    outside = await refused(set_status(nc, ben.id, "online", ["reference", "circulation"]))
    assert outside.code == "403" and "circulation" in outside.message

    narrowed = await set_status(nc, ben.id, "online", ["archives"])
    assert narrowed.monitored == ["archives"]
    assert await online_departments(nc) == {"archives"}

    offline = await set_status(nc, ben.id, "offline")
    assert (offline.status, offline.monitored) == ("offline", ["archives"])  # kept for the next shift
    assert await online_departments(nc) == set()
    back = await set_status(nc, ben.id, "online")
    assert back.monitored == ["archives"]

    statuses = [(await tap.next_event(q.OperatorStatusEvent))[1].operator.status for _ in range(3)]
    assert statuses == ["online", "offline", "online"]


# --- chat lifecycle -------------------------------------------------------------------


async def test_create_emits_queued_event_with_the_department_queue(stack: Stack):
    nc = stack.nc
    tap = await Tap.on(nc, "rd.ev.queue.chat.>")
    first = await new_chat(nc, patron="First")
    second = await new_chat(nc, patron="Second")
    assert (first.state, first.department_name, first.patron_name) == ("queued", "Reference", "First")

    subject, queued = await tap.next_event(q.ChatEvent, lambda e: e.chat.id == first.id)
    assert subject == f"rd.ev.queue.chat.{first.id}.queued"
    assert (queued.type, queued.chat, queued.department_queue) == ("queued", first, [first.id])
    _, event = await tap.next_event(q.ChatEvent, lambda e: e.chat.id == second.id)
    assert event.department_queue == [first.id, second.id]

    stored = await nc.jetstream().get_last_msg(q.STREAM, q.chat_event_subject(first.id, "queued"))
    assert q.ChatEvent.model_validate_json(stored.data) == queued  # the same event is kept in JetStream

    cleo = await request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username="cleo", password="librarian"), q.OperatorProfile)
    await set_status(nc, cleo.id, "online")
    await claim(nc, first.id, cleo.id)
    subject, event = await tap.next_event(q.ChatEvent, lambda e: e.type == "claimed")
    assert subject == f"rd.ev.queue.chat.{first.id}.claimed"
    assert (event.chat.claimed_by_name, event.department_queue) == ("Cleo", [second.id])

    unknown = await refused(new_chat(nc, department="astronomy"))
    assert unknown.code == "404"
    missing = await refused(request(nc, q.CHAT_GET, q.ChatRef(chat_id="nope"), q.ChatView))
    assert missing.code == "404"



async def test_ten_operators_claim_one_chat_exactly_one_wins(stack: Stack):
    nc = stack.nc
    operators = await asyncio.gather(*(new_operator(nc, f"racer{i}", ["reference"]) for i in range(10)))
    assert all(op.status == "online" for op in operators)
    tap = await Tap.on(nc, "rd.ev.queue.chat.*.claimed")
    rounds = 20

    chat_ids = []
    for _ in range(rounds):
        chat = await new_chat(nc)
        chat_ids.append(chat.id)
        outcomes = await asyncio.gather(*(claim(nc, chat.id, op.id) for op in operators), return_exceptions=True)
        winners = [o for o in outcomes if isinstance(o, q.ChatView)]
        losers = [o for o in outcomes if isinstance(o, BusError)]
        assert len(winners) == 1 and len(losers) == 9, outcomes
        winner = winners[0]
        assert winner.state == "active" and winner.claimed_by in {op.id for op in operators}
        assert {(e.code, e.message) for e in losers} == {("409", f"Already claimed by {winner.claimed_by_name}.")}
        assert await request(nc, q.CHAT_GET, q.ChatRef(chat_id=chat.id), q.ChatView) == winner

    claimed = [(await tap.next_event(q.ChatEvent))[1].chat.id for _ in range(rounds)]
    assert sorted(claimed) == sorted(chat_ids)
    info = await nc.jetstream().stream_info(q.STREAM, subjects_filter="rd.ev.queue.chat.*.claimed")
    assert info.state.subjects == {q.chat_event_subject(chat_id, "claimed"): 1 for chat_id in chat_ids}


async def test_claim_needs_department_membership_and_online_status(stack: Stack):
    nc = stack.nc
    archivist = await new_operator(nc, "archivist", ["archives"])
    resting = await new_operator(nc, "resting", ["reference"], online=False)
    chat = await new_chat(nc)

    outsider = await refused(claim(nc, chat.id, archivist.id))
    assert outsider.code == "403"
    offline = await refused(claim(nc, chat.id, resting.id))
    assert (offline.code, offline.message) == ("409", "Go online to claim chats.")
    assert (await request(nc, q.CHAT_GET, q.ChatRef(chat_id=chat.id), q.ChatView)).state == "queued"

    await set_status(nc, resting.id, "online")
    claimed = await claim(nc, chat.id, resting.id)
    assert claimed.claimed_by == resting.id
    assert await claim(nc, chat.id, resting.id) == claimed  # a retried claim answers the same chat


async def test_end_and_close_are_for_the_patron_and_the_owner(stack: Stack):
    nc = stack.nc
    owner = await new_operator(nc, "owner", ["reference"])
    other = await new_operator(nc, "other", ["reference"])
    tap = await Tap.on(nc, "rd.ev.queue.chat.>")
    chat = await new_chat(nc)
    await claim(nc, chat.id, owner.id)

    assert (await refused(end(nc, chat.id, "operator", other.id))).code == "403"
    assert (await refused(close(nc, chat.id, owner.id))).code == "409"  # not ended yet
    ended = await end(nc, chat.id, "operator", owner.id)
    assert (ended.state, ended.ended_by, ended.claimed_by) == ("ended", "operator", owner.id)
    assert ended.ended_at >= ended.claimed_at >= ended.queued_at
    for ended_by, who in (("operator", owner.id), ("patron", None)):
        again = await refused(end(nc, chat.id, ended_by, who))
        assert (again.code, again.message) == ("409", "This chat has ended.")
    assert (await refused(close(nc, chat.id, other.id))).code == "403"
    closed = await close(nc, chat.id, owner.id)
    assert closed.state == "closed" and closed.closed_at is not None
    assert (await refused(close(nc, chat.id, owner.id))).code == "409"

    types = [(await tap.next_event(q.ChatEvent, lambda e: e.chat.id == chat.id))[1].type for _ in range(4)]
    assert types == ["queued", "claimed", "ended", "closed"]

    waiting = await new_chat(nc, patron="Gives up")
    by_patron = await end(nc, waiting.id, "patron")
    assert (by_patron.state, by_patron.ended_by, by_patron.claimed_by) == ("ended", "patron", None)
    _, event = await tap.next_event(q.ChatEvent, lambda e: e.chat.id == waiting.id and e.type == "ended")
    assert event.department_queue == []  # it left the queue
    active = await new_chat(nc, patron="Leaves mid-chat")
    await claim(nc, active.id, owner.id)
    assert (await end(nc, active.id, "patron")).ended_by == "patron"


async def test_board_lists_queued_and_active_chats_of_the_departments_oldest_first(stack: Stack):
    nc = stack.nc
    cleo = await new_operator(nc, "board", ["reference", "circulation", "archives"])
    ref_1 = await new_chat(nc, "reference", "One")
    circ = await new_chat(nc, "circulation", "Two")
    arch = await new_chat(nc, "archives", "Three")
    ref_2 = await new_chat(nc, "reference", "Four")
    done = await new_chat(nc, "reference", "Five")
    await claim(nc, circ.id, cleo.id)
    await end(nc, done.id, "patron")

    board = await request(nc, q.BOARD, q.BoardRequest(department_ids=["reference", "circulation"]), q.Board)
    assert [(chat.id, chat.state) for chat in board.chats] == [
        (ref_1.id, "queued"), (circ.id, "active"), (ref_2.id, "queued")]
    assert arch.id not in {chat.id for chat in board.chats}
    empty = await request(nc, q.BOARD, q.BoardRequest(department_ids=[]), q.Board)
    assert empty.chats == []


# --- abuse and retries ------------------------------------------------------------------


async def test_a_department_flooded_with_huge_chats_stays_answerable(stack: Stack):
    """80 chats of 2,000 emoji (4 bytes each) in question and page address are ~1.3 MB
    of board: more than a NATS message. The board is cut, and patrons learn their place
    from the small position endpoint; events name at most 200 queued chats."""
    nc = stack.nc
    tap = await Tap.on(nc, "rd.ev.queue.chat.*.queued")
    huge = [await request(nc, q.CHAT_CREATE, q.CreateChatRequest(
        department_id="archives", patron_name=f"Flood {i}", question="📚" * 2000,
        page_url="https://library.example.edu/" + "🔥" * 1970), q.ChatView) for i in range(80)]
    small = [await new_chat(nc, "archives", f"Small {i}") for i in range(125)]

    board = await request(nc, q.BOARD, q.BoardRequest(department_ids=["archives"]), q.Board)
    assert board.more is True and len(board.model_dump_json().encode()) <= q.BOARD_MAX_BYTES + 1024
    assert [chat.id for chat in board.chats] == [chat.id for chat in huge[:len(board.chats)]]  # oldest first

    for chat, position in ((huge[0], 1), (huge[-1], 80), (small[-1], 205)):
        place = await request(nc, q.CHAT_POSITION, q.ChatRef(chat_id=chat.id), q.QueuePosition)
        assert (place.chat_id, place.position, place.waiting) == (chat.id, position, 205)
    _, last = await tap.next_event(q.ChatEvent, lambda e: e.chat.id == small[-1].id, timeout=15)
    assert last.department_queue == [chat.id for chat in huge + small][:200] and last.waiting == 205

    ended = await end(nc, huge[0].id, "patron")
    place = await request(nc, q.CHAT_POSITION, q.ChatRef(chat_id=ended.id), q.QueuePosition)
    assert (place.position, place.waiting) == (None, 204)
    missing = await refused(request(nc, q.CHAT_POSITION, q.ChatRef(chat_id="nope"), q.QueuePosition))
    assert missing.code == "404"


async def test_an_operator_keeps_their_own_chats_on_a_flooded_board(stack: Stack):
    nc = stack.nc
    owner = await new_operator(nc, "keeper", ["circulation"])
    flood = [await request(nc, q.CHAT_CREATE, q.CreateChatRequest(
        department_id="circulation", patron_name="Flood", question="📚" * 2000,
        page_url="https://library.example.edu/" + "🔥" * 1970), q.ChatView) for _ in range(70)]
    mine = await new_chat(nc, "circulation", "Mine")
    await claim(nc, mine.id, owner.id)
    board = await request(nc, q.BOARD, q.BoardRequest(department_ids=["circulation"], operator_id=owner.id), q.Board)
    assert board.more is True and board.chats[-1].id == mine.id  # kept although newest; listed oldest first
    assert [chat.id for chat in board.chats[:-1]] == [chat.id for chat in flood[:len(board.chats) - 1]]


async def test_other_requests_are_answered_during_a_sign_in_flood(stack: Stack):
    nc = stack.nc
    chat = await new_chat(nc)
    flood = [asyncio.create_task(request(nc, q.AUTHENTICATE, q.AuthenticateRequest(username="ana", password=f"guess{i}"),
                                         q.OperatorProfile, timeout=3))
             for i in range(200)]
    await asyncio.sleep(0)  # let every task publish its request
    await nc.flush()  # the server has them (in order) before the chat.get below
    fetched = await request(nc, q.CHAT_GET, q.ChatRef(chat_id=chat.id), q.ChatView, timeout=5)
    assert fetched.id == chat.id
    outcomes = await asyncio.gather(*flood, return_exceptions=True)
    assert {error.code for error in outcomes} <= {"401", "503"}  # refused, or given up on: never signed in


async def test_a_retried_chat_creation_answers_the_same_chat(stack: Stack):
    nc = stack.nc
    tap = await Tap.on(nc, "rd.ev.queue.chat.*.queued")
    ask = q.CreateChatRequest(department_id="reference", patron_name="Pat", question="Is the atlas in?",
                              request_id="6f1c2b9e-0a8d-4f57-b3e2-9c4d1a7e5f30")
    first = await request(nc, q.CHAT_CREATE, ask, q.ChatView)
    again = await request(nc, q.CHAT_CREATE, ask, q.ChatView)
    together = await asyncio.gather(*(request(nc, q.CHAT_CREATE, ask.model_copy(update={"request_id": "retry-" + "x" * 20}),
                                              q.ChatView) for _ in range(5)))
    assert again == first
    assert len({chat.id for chat in together}) == 1 and together[0].id != first.id

    other = await refused(request(nc, q.CHAT_CREATE, ask.model_copy(update={"question": "Something else?"}), q.ChatView))
    assert other.code == "409" and "already used" in other.message
    plain = [await new_chat(nc), await new_chat(nc)]  # without a request_id every call is a new chat
    assert plain[0].id != plain[1].id

    queued = [(await tap.next_event(q.ChatEvent))[1].chat.id for _ in range(4)]
    assert sorted(queued) == sorted([first.id, together[0].id, plain[0].id, plain[1].id])
    info = await nc.jetstream().stream_info(q.STREAM, subjects_filter="rd.ev.queue.chat.*.queued")
    assert info.state.messages == 4
