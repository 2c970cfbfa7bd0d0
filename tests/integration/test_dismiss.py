"""Dismiss (LibChat): an unanswerable or spam chat leaves every dashboard with a
recorded note; it stays in the records as dismissed, the patron's widget sees it
closed, and only the right operators may do it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from refdesk import bus
from refdesk.contracts.chat import HISTORY, History, HistoryRequest
from refdesk.contracts.queue import CHAT_DISMISS, CHAT_GET, ChatRef, ChatView, DismissRequest
from refdesk.bus import BusError
from tests.gateway_client import Client, Gateway, gateway_stack, new_chat, of_chat, online_operator
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers) as gateway:
        yield gateway


async def history(gw: Gateway, chat_id: str, *, staff: bool) -> list[dict]:
    page = await bus.request(gw.stack.nc, HISTORY, HistoryRequest(chat_id=chat_id, include_internal=staff), History)
    return [m.model_dump(mode="json") for m in page.messages]


async def test_a_queued_chat_dismissed_with_the_default_note_leaves_every_dashboard(gw: Gateway) -> None:
    cleo = await online_operator(gw, "cleo", ["archives"])
    ben = await online_operator(gw, "ben", ["archives"])
    created = await new_chat(gw, "archives", "buy cheap watches")
    chat_id = created["chat_id"]
    patron, _ = await Client.open(gw, created["token"])
    await patron.ok({"type": "chat.subscribe", "chat_id": chat_id})
    await ben.expect("chat.update", of_chat(chat_id, "queued"))

    ana = await online_operator(gw, "ana", ["reference"])  # not an Archives member
    refused = await ana.request({"type": "chat.dismiss", "chat_id": chat_id})
    assert refused["type"] == "error" and refused["code"] == "403"

    dismissed = await cleo.ok({"type": "chat.dismiss", "chat_id": chat_id})
    assert dismissed["state"] == "closed" and dismissed["dismissed_by_name"] == "Cleo"
    assert dismissed["dismiss_note"] == "Dismissed by Cleo" and dismissed["claimed_by"] is None

    # Every other dashboard and the patron's widget hear it.
    update = await ben.expect("chat.update", of_chat(chat_id, "dismissed"))
    assert update["chat"]["state"] == "closed" and update["chat"]["dismissed_by"] == dismissed["dismissed_by"]
    seen = await patron.expect("chat.update", of_chat(chat_id, "dismissed"))
    assert seen["chat"]["state"] == "closed"

    # A reloaded board no longer lists it.
    await ben.ok({"type": "status.set", "status": "online", "monitored": ["archives"]})
    board = await ben.expect("board")
    assert chat_id not in [c["id"] for c in board["chats"]]

    # It stays in the record: the staff history has the question and the dismissal.
    staff = await history(gw, chat_id, staff=True)
    assert [m["body"] for m in staff] == ["buy cheap watches", "Cleo dismissed the chat. Note: Dismissed by Cleo"]
    assert staff[-1]["internal"] is True and staff[-1]["author_kind"] == "system"
    # The patron's history shows no note; the patron cannot write any more.
    assert [m["body"] for m in await history(gw, chat_id, staff=False)] == ["buy cheap watches"]
    late = await patron.request({"type": "chat.send", "chat_id": chat_id, "cmid": "late", "body": "hello?"})
    assert late["type"] == "error" and late["code"] == "409"
    for client in (ana, ben, cleo, patron):
        await client.close()


async def test_the_owner_dismisses_an_active_chat_with_an_edited_note(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    created = await new_chat(gw, "reference", "asdfgh")
    chat_id = created["chat_id"]
    patron, _ = await Client.open(gw, created["token"])
    await patron.ok({"type": "chat.subscribe", "chat_id": chat_id})
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await ana.ok({"type": "chat.subscribe", "chat_id": chat_id})

    ben = await online_operator(gw, "ben", ["reference"])
    refused = await ben.request({"type": "chat.dismiss", "chat_id": chat_id})
    assert refused["type"] == "error" and refused["code"] == "403" and refused["message"] == "Only Ana can dismiss it."
    refused = await patron.request({"type": "chat.dismiss", "chat_id": chat_id})
    assert refused["type"] == "error" and refused["code"] == "403"

    dismissed = await ana.ok({"type": "chat.dismiss", "chat_id": chat_id, "note": "  Test message\nfrom a bot  "})
    assert dismissed["dismiss_note"] == "Test message from a bot"
    assert (await patron.expect("chat.update", of_chat(chat_id, "dismissed")))["chat"]["state"] == "closed"
    again = await ana.request({"type": "chat.dismiss", "chat_id": chat_id})
    assert again["type"] == "error" and again["code"] == "409" and again["message"] == "This chat has ended."
    staff = await history(gw, chat_id, staff=True)
    assert staff[-1]["body"] == "Ana dismissed the chat. Note: Test message from a bot"
    assert "Ana joined the chat." in [m["body"] for m in staff]
    for client in (ana, ben, patron):
        await client.close()


async def test_the_queue_endpoint_checks_membership_and_state(gw: Gateway) -> None:
    created = await new_chat(gw, "circulation", "Can I renew?")
    chat = await bus.request(gw.stack.nc, CHAT_GET, ChatRef(chat_id=created["chat_id"]), ChatView)
    ana = await online_operator(gw, "ana", ["circulation"])
    operator_id = (await ana.ok({"type": "status.set", "status": "online"}))["id"]
    with pytest.raises(BusError) as caught:
        await bus.request(gw.stack.nc, CHAT_DISMISS, DismissRequest(chat_id="nope", operator_id=operator_id), ChatView)
    assert caught.value.code == "404"
    ok = await bus.request(gw.stack.nc, CHAT_DISMISS,
                           DismissRequest(chat_id=chat.id, operator_id=operator_id, note="   "), ChatView)
    assert ok.dismiss_note == "Dismissed by Ana" and ok.ended_by == "operator" and ok.ended_at and ok.closed_at

    # The chat service's queue-event consumer (the backstop) records the same dismissal only once.
    async def recorded() -> list[dict] | None:
        messages = await history(gw, chat.id, staff=True)
        return messages if len(messages) == 2 else None

    messages = await eventually(recorded, what="the dismissal record")
    assert [m["cmid"] for m in messages] == ["ev:question", "ev:dismissed"]
    await ana.close()


class Tap:
    """A websocket wrapper that keeps the text of every frame received."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.texts: list[str] = []

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def recv(self) -> str:
        text = await self.ws.recv()
        self.texts.append(text)
        return text

    async def close(self) -> None:
        await self.ws.close()


async def tapped_patron(gw: Gateway, token: str) -> tuple[Client, Tap]:
    tap = Tap(await connect(gw.ws_url, compression=None))
    client = Client(tap)  # type: ignore[arg-type]
    await client.send({"type": "hello", "token": token})
    await client.expect("welcome")
    return client, tap


STAFF_ONLY = {"dismissed_by", "dismissed_by_name", "dismiss_note", "claimed_by"}


def chats_in(value: object) -> list[dict]:
    """Every chat object (a dict with ``patron_name`` and ``state``) inside a frame."""
    if isinstance(value, dict):
        found = [value] if "patron_name" in value and "state" in value else []
        return found + [chat for item in value.values() for chat in chats_in(item)]
    if isinstance(value, list):
        return [chat for item in value for chat in chats_in(item)]
    return []


async def test_the_patron_never_receives_the_dismissal_or_the_transfer_note(gw: Gateway) -> None:
    """Whatever reaches the patron's sockets — pushes, the welcome after a reconnect,
    the replies to chat.rate, chat.end, chat.subscribe, screenshare and transcript
    frames, the HTTP answer of a retried start — holds neither the dismissal (who, the
    note) nor the transfer note, nor operator ids of the chat."""
    ana = await online_operator(gw, "ana", ["reference"])
    start = {"department_id": "reference", "name": "Pat Reader", "question": "spam spam spam",
             "request_id": "dismiss-leak-request-0001"}
    created = (await gw.http.post("/api/patron/chats", json=start)).json()
    chat_id, token = created["chat_id"], created["token"]
    patron, tap = await tapped_patron(gw, token)
    await patron.ok({"type": "chat.subscribe", "chat_id": chat_id})
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await ana.ok({"type": "transfer.request", "chat_id": chat_id, "to_department_id": "archives",
                  "note": "TRANSFER-SECRET-41", "stay": False})
    await patron.expect("chat.update", of_chat(chat_id, "transfer_requested"))
    await ana.ok({"type": "transfer.cancel", "chat_id": chat_id})
    dismissed = await ana.ok({"type": "chat.dismiss", "chat_id": chat_id, "note": "DISMISS-SECRET-42 rude patron"})
    assert dismissed["dismiss_note"] == "DISMISS-SECRET-42 rude patron"  # staff see it

    seen = await patron.expect("chat.update", of_chat(chat_id, "dismissed"))
    assert seen["chat"]["state"] == "closed"
    for frame in ({"type": "chat.rate", "chat_id": chat_id, "rating": 2},
                  {"type": "chat.end", "chat_id": chat_id},
                  {"type": "screenshare.get", "chat_id": chat_id},
                  {"type": "transcript.mails", "chat_id": chat_id}):
        await patron.request(frame)
    await patron.close()
    again, tap_again = await tapped_patron(gw, token)  # the welcome after a reconnect
    rated = await again.ok({"type": "chat.rate", "chat_id": chat_id, "rating": 3, "comment": "ok"})
    assert rated["rating"] == 3 and rated["state"] == "closed"
    await again.ok({"type": "chat.subscribe", "chat_id": chat_id})
    await again.drain()
    await again.close()
    retried = await gw.http.post("/api/patron/chats", json=start)

    texts = tap.texts + tap_again.texts + [retried.text]
    assert any('"dismissed"' in text for text in texts) and any('"rating":3' in text for text in texts)
    assert [text for text in texts if "SECRET" in text] == []
    for text in texts:
        for chat in chats_in(json.loads(text)):
            assert not STAFF_ONLY & chat.keys(), chat
            assert all(set(p) == {"nickname"} for p in chat.get("participants", []))
    await ana.close()
