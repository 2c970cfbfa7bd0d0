"""The chat service against real NATS + PostgreSQL: idempotent sends, gap-free
per-chat seqs, history paging, MessagePosted events, canned messages and the chat
lifecycle recorded as messages."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client

from refdesk import bus
from refdesk.contracts import chat, queue
from refdesk.contracts.common import utcnow
from refdesk.ids import new_id
from tests.support import eventually, running

pytestmark = pytest.mark.integration




async def send(nc: Client, chat_id: str, cmid: str, body: str, kind: str = "patron") -> chat.SendAck:
    author = {"patron": (None, "Maya"), "operator": ("ana", "Ana")}[kind]
    request = chat.SendRequest(chat_id=chat_id, cmid=cmid, author_kind=kind, author_id=author[0],
                               author_name=author[1], body=body)
    return await bus.request(nc, chat.SEND, request, chat.SendAck)


async def history(nc: Client, chat_id: str, after_seq: int = 0, limit: int = 200) -> chat.History:
    return await bus.request(nc, chat.HISTORY, chat.HistoryRequest(chat_id=chat_id, after_seq=after_seq, limit=limit),
                             chat.History)


def without_duplicate_flag(ack: chat.SendAck) -> dict:
    return ack.model_dump(exclude={"duplicate"})


async def test_a_retried_send_stores_one_message_and_returns_the_original_ack(servers) -> None:
    async with running(servers, "chat") as stack:
        chat_id = new_id()
        acks = [await send(stack.nc, chat_id, "cmid-1", "  Where are the theses kept?  ") for _ in range(5)]

        assert [ack.duplicate for ack in acks] == [False, True, True, True, True]
        assert all(without_duplicate_flag(ack) == without_duplicate_flag(acks[0]) for ack in acks)
        stored = await history(stack.nc, chat_id)
        assert [(m.seq, m.id, m.body) for m in stored.messages] == [(1, acks[0].message_id, "Where are the theses kept?")]
        assert stored.top_seq == 1


async def test_a_blank_body_is_refused_and_nothing_is_stored(servers) -> None:
    async with running(servers, "chat") as stack:
        chat_id = new_id()
        with pytest.raises(bus.BusError) as refused:
            await send(stack.nc, chat_id, "blank", " \n\t ")
        assert refused.value.code == "422"
        assert (await history(stack.nc, chat_id)).top_seq == 0


async def test_concurrent_identical_sends_store_one_row(servers) -> None:
    async with running(servers, "chat") as stack:
        chat_id = new_id()
        acks = await asyncio.gather(*(send(stack.nc, chat_id, "same", "hello") for _ in range(12)))

        assert sum(not ack.duplicate for ack in acks) == 1
        assert all(without_duplicate_flag(ack) == without_duplicate_flag(acks[0]) for ack in acks)
        stored = await history(stack.nc, chat_id)
        assert len(stored.messages) == 1 and stored.top_seq == 1


async def test_concurrent_patron_and_operator_sends_get_gap_free_seqs(servers) -> None:
    async with running(servers, "chat") as stack:
        chat_id = new_id()
        # The same cmids on both sides: a cmid is unique per (chat, author kind) only.
        sends = [send(stack.nc, chat_id, f"m{i}", f"{kind} {i}", kind) for i in range(15) for kind in ("patron", "operator")]
        acks = await asyncio.gather(*sends)

        assert sorted(ack.seq for ack in acks) == list(range(1, 31))
        assert not any(ack.duplicate for ack in acks)
        stored = await history(stack.nc, chat_id)
        assert [m.seq for m in stored.messages] == list(range(1, 31))
        assert {(m.author_kind, m.cmid): m.seq for m in stored.messages} == \
            {(kind, ack.cmid): ack.seq for ack, kind in zip(acks, ["patron", "operator"] * 15)}
        assert all(a.sent_at <= b.sent_at for a, b in zip(stored.messages, stored.messages[1:]))


async def test_history_pages_with_after_seq_limit_and_more(servers) -> None:
    async with running(servers, "chat") as stack:
        chat_id = new_id()
        for i in range(1, 8):
            await send(stack.nc, chat_id, f"m{i}", f"message {i}")

        pages = []
        after, more = 0, True
        while more:
            page = await history(stack.nc, chat_id, after_seq=after, limit=3)
            pages.append(([m.seq for m in page.messages], page.more, page.top_seq))
            after, more = page.messages[-1].seq, page.more
        assert pages == [([1, 2, 3], True, 7), ([4, 5, 6], True, 7), ([7], False, 7)]

        caught_up = await history(stack.nc, chat_id, after_seq=7)
        assert (caught_up.messages, caught_up.more, caught_up.top_seq) == ([], False, 7)
        unknown = await history(stack.nc, new_id())
        assert (unknown.messages, unknown.more, unknown.top_seq) == ([], False, 0)


async def test_message_posted_events_carry_the_seq_and_retries_publish_nothing(servers) -> None:
    async with running(servers, "chat") as stack:
        chat_id = new_id()
        events = await stack.nc.jetstream().subscribe(chat.message_event_subject(chat_id), ordered_consumer=True)

        first = await send(stack.nc, chat_id, "a", "first")
        await send(stack.nc, chat_id, "a", "first")  # a retry: no second event
        second = await send(stack.nc, chat_id, "b", "second", "operator")

        received = []
        for _ in range(2):
            msg = await events.next_msg(timeout=10)
            received.append(chat.MessagePosted.model_validate_json(msg.data))
        assert [(e.message.seq, e.message.id, e.message.author_kind) for e in received] == \
            [(1, first.message_id, "patron"), (2, second.message_id, "operator")]
        assert received[0].event_id != received[1].event_id
        await events.unsubscribe()


async def test_canned_messages_list_the_welcome_first(servers) -> None:
    async with running(servers, "chat") as stack:
        async def canned(department: str) -> list[chat.CannedMessage]:
            reply = await bus.request(stack.nc, chat.CANNED_LIST, chat.CannedListRequest(department_id=department),
                                      chat.CannedList)
            return reply.messages

        reference = await canned("reference")
        assert reference[0].is_welcome and reference[0].body.startswith("Hi, thanks for your question!")
        assert [m.is_welcome for m in reference[1:]] == [False] * (len(reference) - 1)
        assert any("anything else" in m.body.lower() for m in reference)
        assert any("renew" in m.body.lower() for m in await canned("circulation"))
        assert any("appointment" in m.body.lower() for m in await canned("archives"))
        assert await canned("no-such-department") == []


def chat_event(kind: queue.ChatEventType, view: queue.ChatView) -> queue.ChatEvent:
    return queue.ChatEvent(event_id=new_id(), type=kind, chat=view)


async def lifecycle_messages(nc: Client, chat_id: str, count: int) -> list[tuple[int, str, str, str]]:
    """Wait until the chat has ``count`` messages; return (seq, kind, author, body)."""
    async def probe() -> chat.History | None:
        page = await history(nc, chat_id)
        return page if len(page.messages) >= count else None

    page = await eventually(probe, what=f"{count} messages in chat {chat_id}")
    return [(m.seq, m.author_kind, m.author_name, m.body) for m in page.messages]


async def test_lifecycle_consumer_waits_for_the_queue_stream_and_is_idempotent(servers) -> None:
    async with running(servers, "chat") as stack:  # no queue service: QUEUE_EVENTS does not exist yet
        js = stack.nc.jetstream()
        await js.add_stream(name=queue.STREAM, subjects=queue.STREAM_SUBJECTS)
        queued = queue.ChatView(id=new_id(), department_id="archives", department_name="Archives", state="queued",
                                patron_name="Maya", question="Can I see the 1890 maps?", queued_at=utcnow())
        claimed = queued.model_copy(update={"state": "active", "claimed_by": "ben", "claimed_by_name": "Ben"})
        ended = claimed.model_copy(update={"state": "ended", "ended_by": "operator"})
        claim_event = chat_event("claimed", claimed)
        for kind, event in [("queued", chat_event("queued", queued)), ("claimed", claim_event),
                            ("claimed", claim_event), ("ended", chat_event("ended", ended)),
                            ("closed", chat_event("closed", ended.model_copy(update={"state": "closed"})))]:
            # No Nats-Msg-Id: JetStream keeps the repeated event, as after a relay crash.
            await js.publish(queue.chat_event_subject(queued.id, kind), bus.dumps(event))

        assert await lifecycle_messages(stack.nc, queued.id, 3) == [
            (1, "patron", "Maya", "Can I see the 1890 maps?"),
            (2, "system", "refdesk", "Ben joined the chat."),
            (3, "system", "refdesk", "The chat was ended by Ben."),
        ]


async def test_queue_lifecycle_appears_as_messages(servers) -> None:
    async with running(servers, "queue", "chat") as stack:
        nc = stack.nc
        ana = await bus.request(nc, queue.AUTHENTICATE, queue.AuthenticateRequest(username="ana", password="librarian"),
                                queue.OperatorProfile)
        await bus.request(nc, queue.OPERATOR_STATUS,
                          queue.SetStatusRequest(operator_id=ana.id, status="online", monitored=["reference"]),
                          queue.OperatorProfile)
        created = await bus.request(nc, queue.CHAT_CREATE, queue.CreateChatRequest(
            department_id="reference", patron_name="Maya", question="Do you have the 1923 city directory?"),
            queue.ChatView)
        assert await lifecycle_messages(nc, created.id, 1) == [
            (1, "patron", "Maya", "Do you have the 1923 city directory?")]

        await bus.request(nc, queue.CHAT_CLAIM, queue.ClaimRequest(chat_id=created.id, operator_id=ana.id),
                          queue.ChatView)
        assert (await lifecycle_messages(nc, created.id, 2))[1] == (2, "system", "refdesk", "Ana joined the chat.")

        await bus.request(nc, queue.CHAT_END, queue.EndRequest(chat_id=created.id, ended_by="patron"), queue.ChatView)
        assert (await lifecycle_messages(nc, created.id, 3))[2] == \
            (3, "system", "refdesk", "The chat was ended by the patron.")
