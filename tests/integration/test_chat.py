"""The chat service against real NATS + PostgreSQL: idempotent sends, gap-free
per-chat seqs, history paging, MessagePosted events, canned messages and the chat
lifecycle recorded as messages."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from refdesk import bus
from refdesk.contracts import chat, queue
from refdesk.contracts.common import Ok, utcnow
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


def chat_views(question: str) -> tuple[queue.ChatView, queue.ChatView, queue.ChatView]:
    """A chat as the queue service reports it when queued, claimed by Ben and ended by him."""
    queued = queue.ChatView(id=new_id(), department_id="archives", department_name="Archives", state="queued",
                            patron_name="Maya", question=question, queued_at=utcnow())
    claimed = queued.model_copy(update={"state": "active", "claimed_by": "ben", "claimed_by_name": "Ben",
                                        "claimed_at": queued.queued_at + timedelta(seconds=42)})
    ended = claimed.model_copy(update={"state": "ended", "ended_by": "operator",
                                       "ended_at": claimed.claimed_at + timedelta(minutes=5)})
    return queued, claimed, ended


async def record(nc: Client, kind: queue.ChatEventType, view: queue.ChatView) -> None:
    """Report a lifecycle transition the way the gateway does (``rd.chat.lifecycle``)."""
    await bus.request(nc, chat.LIFECYCLE, chat.LifecycleRequest(type=kind, chat=view), Ok)


async def consumer_caught_up(nc: Client) -> None:
    """Wait until the lifecycle consumer exists and has handled every queue event."""
    async def probe() -> bool:
        try:
            info = await nc.jsm().consumer_info(queue.STREAM, "chat-lifecycle")
        except NotFoundError:
            return False
        return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0

    await eventually(probe, what="the chat-lifecycle consumer to catch up")


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
        queued, claimed, ended = chat_views("Can I see the 1890 maps?")
        claim_event = chat_event("claimed", claimed)
        for kind, event in [("queued", chat_event("queued", queued)), ("claimed", claim_event),
                            ("claimed", claim_event), ("ended", chat_event("ended", ended)),
                            ("closed", chat_event("closed", ended.model_copy(update={"state": "closed"})))]:
            # No Nats-Msg-Id: JetStream keeps the repeated event, as after a relay crash.
            await js.publish(queue.chat_event_subject(queued.id, kind), bus.dumps(event))

        assert await lifecycle_messages(stack.nc, queued.id, 3) == [
            (1, "patron", "Maya", "Can I see the 1890 maps?"),
            (2, "system", "refdesk", "Ben joined the chat."),
            (3, "system", "refdesk", "Ben ended the chat."),
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
            (3, "system", "refdesk", "Maya ended the chat.")


async def test_the_lifecycle_endpoint_and_the_consumer_store_each_transition_once(servers) -> None:
    async with running(servers, "chat") as stack:
        js = stack.nc.jetstream()
        await js.add_stream(name=queue.STREAM, subjects=queue.STREAM_SUBJECTS)
        views = dict(zip(("queued", "claimed", "ended"), chat_views("Where are the 1890 maps?"), strict=True))
        chat_id = views["queued"].id
        for kind, view in views.items():
            # the gateway's report (twice, as after a retried claim) races the queue event
            event = bus.dumps(chat_event(kind, view))
            await asyncio.gather(record(stack.nc, kind, view), record(stack.nc, kind, view),
                                 js.publish(queue.chat_event_subject(chat_id, kind), event))
        await record(stack.nc, "closed", views["ended"].model_copy(update={"state": "closed"}))
        await consumer_caught_up(stack.nc)

        assert [(m.seq, m.author_kind, m.body) for m in (await history(stack.nc, chat_id)).messages] == [
            (1, "patron", "Where are the 1890 maps?"),
            (2, "system", "Ben joined the chat."),
            (3, "system", "Ben ended the chat."),
        ]


async def test_a_later_claim_of_the_same_chat_is_a_new_message(servers) -> None:
    async with running(servers, "chat") as stack:
        _, claimed, _ = chat_views("Is the reading room open?")
        again = claimed.model_copy(update={"claimed_by_name": "Cleo",
                                           "claimed_at": claimed.claimed_at + timedelta(minutes=1)})
        for view in (claimed, claimed, again):
            await record(stack.nc, "claimed", view)
        bodies = [m.body for m in (await history(stack.nc, claimed.id)).messages]
        assert bodies == ["Is the reading room open?", "Ben joined the chat.", "Cleo joined the chat."]


async def test_after_the_end_only_retries_and_lifecycle_messages_are_stored(servers) -> None:
    async with running(servers, "chat") as stack:
        queued, claimed, ended = chat_views("Do you keep old yearbooks?")
        chat_id = queued.id
        await record(stack.nc, "claimed", claimed)
        before = await send(stack.nc, chat_id, "p-1", "Hello?")
        answer = await send(stack.nc, chat_id, "o-1", "Hi, yes we do.", "operator")
        await record(stack.nc, "ended", ended)

        for kind, cmid in (("patron", "p-2"), ("operator", "o-2")):
            with pytest.raises(bus.BusError) as refused:
                await send(stack.nc, chat_id, cmid, "One more thing…", kind)
            assert (refused.value.code, refused.value.message) == ("409", "This chat has ended.")
        retry = await send(stack.nc, chat_id, "p-1", "Hello?")
        assert retry.duplicate and without_duplicate_flag(retry) == without_duplicate_flag(before)
        assert (await send(stack.nc, chat_id, "o-1", "Hi, yes we do.", "operator")).seq == answer.seq
        # a late report of an earlier transition finds its message stored already
        await record(stack.nc, "queued", queued)

        stored = await history(stack.nc, chat_id)
        assert [(m.seq, m.author_kind, m.body) for m in stored.messages] == [
            (1, "patron", "Do you keep old yearbooks?"),  # recorded with the claim, which implies it
            (2, "system", "Ben joined the chat."),
            (3, "patron", "Hello?"),
            (4, "operator", "Hi, yes we do."),
            (5, "system", "Ben ended the chat."),
        ]
        assert stored.top_seq == 5  # the refused sends left no gap


async def test_sends_racing_the_end_are_stored_before_it_or_refused(servers) -> None:
    async with running(servers, "chat") as stack:
        _, claimed, ended = chat_views("Can I renew online?")
        chat_id = claimed.id
        await record(stack.nc, "claimed", claimed)

        async def attempt(i: int) -> chat.SendAck | bus.BusError:
            try:
                return await send(stack.nc, chat_id, f"p-{i}", f"Message {i}")
            except bus.BusError as exc:
                return exc

        outcomes = await asyncio.gather(*(attempt(i) for i in range(10)), record(stack.nc, "ended", ended),
                                        *(attempt(i) for i in range(10, 20)))
        stored = (await history(stack.nc, chat_id)).messages
        end_seq = next(m.seq for m in stored if m.body.endswith("ended the chat."))
        acks = [o for o in outcomes if isinstance(o, chat.SendAck)]
        refusals = [o for o in outcomes if isinstance(o, bus.BusError)]
        assert all(ack.seq < end_seq for ack in acks)
        assert all((r.code, r.message) == ("409", "This chat has ended.") for r in refusals)
        assert len(acks) + len(refusals) == 20
        assert [m.seq for m in stored] == list(range(1, len(acks) + 4))  # question + joined + acks + ended, no gap


async def test_history_pages_stay_under_the_nats_payload_limit(servers) -> None:
    async with running(servers, "chat") as stack:
        chat_id = new_id()
        bodies = [f"{i:03d}" + "图" * 3996 for i in range(100)]  # 3,999 characters, ~12 KB of UTF-8 each
        for i, body in enumerate(bodies):
            await send(stack.nc, chat_id, f"m{i}", body)

        received: list[chat.Message] = []
        after, more = 0, True
        while more:
            request = chat.HistoryRequest(chat_id=chat_id, after_seq=after, limit=200)
            msg = await stack.nc.request(chat.HISTORY, bus.dumps(request), timeout=5)
            assert len(msg.data) <= chat.HISTORY_PAGE_BYTES + 1024
            page = chat.History.model_validate_json(msg.data)
            assert page.messages and page.top_seq == 100
            received.extend(page.messages)
            after, more = page.messages[-1].seq, page.more
        assert [m.seq for m in received] == list(range(1, 101))
        assert [m.body for m in received] == bodies


# --- the transcript's order does not depend on which report arrives first -----------

RACES = 20


def transcript_of(page: chat.History) -> list[tuple[int, str, str, str]]:
    return [(m.seq, m.author_kind, m.cmid, m.body) for m in page.messages]


def expected_transcript(*rows: tuple[str, str, str]) -> list[tuple[int, str, str, str]]:
    return [(seq, *row) for seq, row in enumerate(rows, start=1)]


async def send_with(nc: Client, view: queue.ChatView, cmid: str, body: str, kind: str = "operator") -> chat.SendAck:
    """Send as the gateway does: with the chat it fetched to authorise the send."""
    author = {"patron": (None, "Maya"), "operator": ("ben", "Ben")}[kind]
    request = chat.SendRequest(chat_id=view.id, cmid=cmid, author_kind=kind, author_id=author[0],
                               author_name=author[1], body=body, chat=view)
    return await bus.request(nc, chat.SEND, request, chat.SendAck)


def joined(view: queue.ChatView) -> tuple[str, str, str]:
    assert view.claimed_at is not None
    return ("system", f"ev:claimed:{view.claimed_at.isoformat()}", "Ben joined the chat.")


async def test_the_end_reported_before_the_claim_still_comes_after_joined(servers) -> None:
    """An operator claims while the patron ends: the queue service committed the claim
    first, but the patron's end report reaches the chat service first (in turn, and at
    the same time)."""
    async with running(servers, "chat") as stack:
        for i in range(RACES):
            queued, claimed, ended = chat_views(f"Question {i}")
            ended = ended.model_copy(update={"ended_by": "patron"})
            if i % 2:
                await record(stack.nc, "ended", ended)
                await record(stack.nc, "claimed", claimed)
            else:
                await asyncio.gather(record(stack.nc, "claimed", claimed), record(stack.nc, "ended", ended),
                                     record(stack.nc, "queued", queued))
            assert transcript_of(await history(stack.nc, queued.id)) == expected_transcript(
                ("patron", "ev:question", f"Question {i}"),
                joined(claimed),
                ("system", "ev:ended", "Maya ended the chat."),
            ), f"race {i}"


async def test_a_send_first_records_what_the_chat_it_carries_shows(servers) -> None:
    """A second tab of the owner posts before the claim's "joined" is recorded; the
    patron writes before the question is: neither message comes first."""
    async with running(servers, "chat") as stack:
        for i in range(RACES):
            queued, claimed, _ = chat_views(f"Question {i}")
            if i % 2:
                await send_with(stack.nc, queued, "p-1", "Hello?", "patron")
                await send_with(stack.nc, claimed, "o-1", "Hi, I'm Ben.")
                await record(stack.nc, "claimed", claimed)
                await record(stack.nc, "queued", queued)
            else:
                await record(stack.nc, "queued", queued)
                await send_with(stack.nc, queued, "p-1", "Hello?", "patron")
                await asyncio.gather(record(stack.nc, "claimed", claimed),
                                     send_with(stack.nc, claimed, "o-1", "Hi, I'm Ben."))
            assert transcript_of(await history(stack.nc, queued.id)) == expected_transcript(
                ("patron", "ev:question", f"Question {i}"),
                ("patron", "p-1", "Hello?"),
                joined(claimed),
                ("operator", "o-1", "Hi, I'm Ben."),
            ), f"race {i}"


async def test_a_send_to_an_ended_chat_records_the_end_first(servers) -> None:
    """The gateway forwards sends to an ended chat: a retry of a message stored before
    the end gets its original ack, a new message 409 — also when the end report has
    not arrived yet, since the chat the send carries shows the end."""
    async with running(servers, "chat") as stack:
        _, claimed, ended = chat_views("Do you have the 1890 maps?")
        original = await send_with(stack.nc, claimed, "o-1", "Yes, in the map room.")
        retry = await send_with(stack.nc, ended, "o-1", "Yes, in the map room.")
        assert retry.duplicate and without_duplicate_flag(retry) == without_duplicate_flag(original)
        for kind in ("operator", "patron"):
            with pytest.raises(bus.BusError) as refused:
                await send_with(stack.nc, ended, f"{kind}-late", "One more thing", kind)
            assert (refused.value.code, refused.value.message) == ("409", "This chat has ended.")
        await record(stack.nc, "ended", ended)  # the end report, late: nothing new
        assert transcript_of(await history(stack.nc, claimed.id)) == expected_transcript(
            ("patron", "ev:question", "Do you have the 1890 maps?"),
            joined(claimed),
            ("operator", "o-1", "Yes, in the map room."),
            ("system", "ev:ended", "Ben ended the chat."),
        )


async def test_a_send_carrying_another_chat_is_refused(servers) -> None:
    async with running(servers, "chat") as stack:
        queued, _, _ = chat_views("Any maps?")
        payload = chat.SendRequest(chat_id=queued.id, cmid="p-1", author_kind="patron", author_name="Maya",
                                   body="Hello?", chat=queued).model_dump(mode="json")
        payload["chat_id"] = new_id()
        msg = await stack.nc.request(chat.SEND, json.dumps(payload).encode(), timeout=5)
        assert msg.headers and msg.headers["Nats-Service-Error-Code"] == "400"
        assert (await history(stack.nc, queued.id)).top_seq == 0
