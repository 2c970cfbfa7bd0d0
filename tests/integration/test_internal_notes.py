"""Internal notes inside a patron chat, over the real gateway and services: staff see
them on every path, the patron on none — live, in the history on subscribe, in the
replay after a reconnect — and a patron cannot write one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from refdesk import bus
from refdesk.contracts.chat import HISTORY, History, HistoryRequest, patron_visible
from tests.gateway_client import Client, Conversation, Gateway, claimed_conversation, gateway_stack, online_operator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers) as gateway:
        yield gateway


@pytest_asyncio.fixture(loop_scope="module")
async def talk(gw: Gateway) -> AsyncIterator[tuple[Conversation, str]]:
    """Ana has claimed a fresh Reference chat; both sides are subscribed. Also yields
    the patron token (for reconnecting)."""
    async with claimed_conversation(gw, "reference", "Where are the atlases?") as claimed:
        yield claimed


def bodies(frames: list[dict]) -> list[str]:
    return [f["message"]["body"] for f in frames if f["type"] == "message"]


async def test_a_note_reaches_staff_live_and_never_the_patron(gw: Gateway, talk) -> None:
    conv, _ = talk
    note = await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "note-1",
                                   "body": "Patron seems to be a returning visitor", "internal": True})
    reply = await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "reply-1",
                                    "body": "The atlases are on floor 2."})
    assert reply["seq"] == note["seq"] + 1

    live = await conv.operator.expect("message", lambda f: f["message"]["cmid"] == "note-1")
    assert live["message"]["internal"] is True and live["message"]["author_kind"] == "operator"
    await conv.operator.expect("message", lambda f: f["message"]["cmid"] == "reply-1")

    await conv.patron.expect("message", lambda f: f["message"]["cmid"] == "reply-1")
    seen = bodies(await conv.patron.drain())
    assert "Patron seems to be a returning visitor" not in seen
    assert all(not f.get("message", {}).get("internal") for f in conv.patron.backlog)


async def test_history_on_subscribe_leaves_notes_out_for_the_patron_only(gw: Gateway, talk) -> None:
    conv, token = talk
    await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "n1", "body": "staff only",
                            "internal": True})
    await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "m1", "body": "hello"})

    patron, _ = await Client.open(gw, token)
    reply = await patron.ok({"type": "chat.subscribe", "chat_id": conv.chat_id})
    history = await patron.expect("history")
    assert "staff only" not in [m["body"] for m in history["messages"]]
    assert "hello" in [m["body"] for m in history["messages"]]
    top = max(m["seq"] for m in history["messages"])
    assert history["top_seq"] == reply["top_seq"] == top  # the note (seq top-1) is a gap below top

    ben = await online_operator(gw, "ben", ["reference"])  # another member sees the note in the history
    await ben.ok({"type": "chat.subscribe", "chat_id": conv.chat_id})
    staff = await ben.expect("history")
    notes = [m for m in staff["messages"] if m["internal"]]
    assert [m["body"] for m in notes] == ["staff only"]

    # The chat service filters in SQL: the default history has no notes at all.
    page = await bus.request(gw.stack.nc, HISTORY, HistoryRequest(chat_id=conv.chat_id), History)
    assert not [m for m in page.messages if m.internal]
    full = await bus.request(gw.stack.nc, HISTORY, HistoryRequest(chat_id=conv.chat_id, include_internal=True), History)
    assert patron_visible(full.messages) == page.messages
    await patron.close()
    await ben.close()


async def test_reconnect_replay_after_a_note_moves_past_the_gap(gw: Gateway, talk) -> None:
    conv, token = talk
    first = await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "before", "body": "one"})
    await conv.patron.expect("message", lambda f: f["message"]["cmid"] == "before")
    await conv.patron.close()  # the patron drops off …

    await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "gap", "body": "secret note",
                            "internal": True})
    after = await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "after", "body": "two"})

    # … and comes back asking for what followed the last seq it had.
    patron, _ = await Client.open(gw, token)
    reply = await patron.ok({"type": "chat.subscribe", "chat_id": conv.chat_id, "after_seq": first["seq"]})
    history = await patron.expect("history")
    assert [m["body"] for m in history["messages"]] == ["two"]
    assert history["top_seq"] == reply["top_seq"] == after["seq"] and history["more"] is False

    # Asking again from top_seq replays nothing: the client need not fetch forever.
    again = await patron.ok({"type": "chat.subscribe", "chat_id": conv.chat_id, "after_seq": history["top_seq"]})
    assert (await patron.expect("history"))["messages"] == [] and again["top_seq"] == after["seq"]

    # Live messages keep flowing after the gap; a later note is skipped on the live feed too.
    await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "n2", "body": "note two",
                            "internal": True})
    await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "three", "body": "three"})
    await patron.expect("message", lambda f: f["message"]["cmid"] == "three")
    assert "note two" not in bodies(await patron.drain())
    conv.patron = patron


async def test_a_patron_cannot_write_a_note_even_with_a_forged_frame(gw: Gateway, talk) -> None:
    conv, _ = talk
    answer = await conv.patron.request({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "forged",
                                        "body": "I am staff now", "internal": True})
    assert answer["type"] == "error" and answer["code"] == "403"
    assert answer["message"] == "Only library staff can write internal notes."
    # Nothing was stored: the operator's history has no such message.
    full = await bus.request(gw.stack.nc, HISTORY, HistoryRequest(chat_id=conv.chat_id, include_internal=True), History)
    assert "I am staff now" not in [m.body for m in full.messages]
    # The connection stays usable.
    assert (await conv.patron.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "ok", "body": "hi"}))["seq"] > 0


async def test_notes_are_accepted_after_the_end_and_other_operators_cannot_write_them(gw: Gateway, talk) -> None:
    conv, _ = talk
    ben = await online_operator(gw, "ben", ["reference"])
    refused = await ben.request({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "b1", "body": "x",
                                 "internal": True})
    assert refused["type"] == "error" and refused["code"] == "403"
    await conv.operator.ok({"type": "chat.end", "chat_id": conv.chat_id})
    late = await conv.operator.request({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "late", "body": "after"})
    assert late["type"] == "error" and late["code"] == "409"
    note = await conv.operator.ok({"type": "chat.send", "chat_id": conv.chat_id, "cmid": "post-note",
                                   "body": "Follow up by email", "internal": True})
    assert note["seq"] > 0
    await ben.close()
