"""Screenshare with the patron's consent, over the real gateway and services: the
owner asks, the patron is prompted (no link exists yet), the decision is recorded in
the chat, and only on Accept do both sides get the meeting link (default provider:
``settings.screenshare_url_template`` with a fresh room)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from refdesk import bus
from refdesk.contracts.chat import HISTORY, History, HistoryRequest
from tests.gateway_client import (Client, Conversation, Gateway, claimed_conversation, gateway_stack, new_chat,
                                  online_operator)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

TEMPLATE = "https://meet.example.org/library-{room}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers, screenshare_url_template=TEMPLATE) as gateway:
        yield gateway


@pytest_asyncio.fixture(loop_scope="module")
async def talk(gw: Gateway) -> AsyncIterator[tuple[Conversation, str]]:
    async with claimed_conversation(gw, "reference", "The catalogue search shows nothing") as claimed:
        yield claimed


async def system_bodies(gw: Gateway, chat_id: str) -> list[str]:
    page = await bus.request(gw.stack.nc, HISTORY, HistoryRequest(chat_id=chat_id), History)
    return [m.body for m in page.messages if m.author_kind == "system"]


async def test_accept_gives_both_sides_the_link_and_is_recorded(gw: Gateway, talk) -> None:
    conv, token = talk
    asked = await conv.operator.ok({"type": "screenshare.request", "chat_id": conv.chat_id})
    assert asked["state"] == "pending" and asked["join_url"] is None and asked["host_url"] is None

    offer = await conv.patron.expect("screenshare.offer")
    assert offer["request"]["id"] == asked["id"] and offer["request"]["operator_name"] == "Ana"
    assert offer["request"]["join_url"] is None and offer["request"]["host_url"] is None

    # Asking again while it waits answers the same request: one prompt.
    assert (await conv.operator.ok({"type": "screenshare.request", "chat_id": conv.chat_id}))["id"] == asked["id"]

    # A patron who reloads gets the pending prompt back.
    reloaded, _ = await Client.open(gw, token)
    pending = await reloaded.ok({"type": "screenshare.get", "chat_id": conv.chat_id})
    assert pending["request"]["id"] == asked["id"] and pending["request"]["state"] == "pending"

    # Operators cannot answer for the patron.
    refused = await conv.operator.request({"type": "screenshare.answer", "chat_id": conv.chat_id,
                                           "request_id": asked["id"], "accept": True})
    assert refused["type"] == "error" and refused["code"] == "403"

    answer = await reloaded.ok({"type": "screenshare.answer", "chat_id": conv.chat_id, "request_id": asked["id"],
                                "accept": True})
    assert answer["state"] == "accepted" and answer["join_url"].startswith("https://meet.example.org/library-")
    assert answer["host_url"] is None  # never the operator's link on the patron's side
    room = answer["join_url"].removeprefix("https://meet.example.org/library-")
    assert len(room) >= 20

    staff = await conv.operator.expect("screenshare.update", lambda f: f["request"]["state"] == "accepted")
    assert staff["request"]["join_url"] == answer["join_url"] and staff["request"]["host_url"] == answer["join_url"]
    other_tab = await conv.patron.expect("screenshare.update")
    assert other_tab["request"]["join_url"] == answer["join_url"] and other_tab["request"]["host_url"] is None

    decided = await conv.patron.expect("message", lambda f: f["message"]["author_kind"] == "system"
                                       and "screenshare" in f["message"]["body"])
    assert decided["message"]["body"] == "Pat Reader accepted the screenshare request."
    assert (await system_bodies(gw, conv.chat_id)).count("Pat Reader accepted the screenshare request.") == 1

    # Answering again the same way is harmless; the other way is refused.
    same = await reloaded.ok({"type": "screenshare.answer", "chat_id": conv.chat_id, "request_id": asked["id"],
                              "accept": True})
    assert same["join_url"] == answer["join_url"]
    other = await reloaded.request({"type": "screenshare.answer", "chat_id": conv.chat_id,
                                    "request_id": asked["id"], "accept": False})
    assert other["type"] == "error" and other["code"] == "409"
    assert (await system_bodies(gw, conv.chat_id)).count("Pat Reader accepted the screenshare request.") == 1

    # A new request gets a fresh room.
    second = await conv.operator.ok({"type": "screenshare.request", "chat_id": conv.chat_id})
    assert second["id"] != asked["id"]
    accepted = await reloaded.ok({"type": "screenshare.answer", "chat_id": conv.chat_id, "request_id": second["id"],
                                  "accept": True})
    assert accepted["join_url"] != answer["join_url"]
    await reloaded.close()


async def test_decline_shows_no_link_anywhere(gw: Gateway, talk) -> None:
    conv, _ = talk
    asked = await conv.operator.ok({"type": "screenshare.request", "chat_id": conv.chat_id})
    await conv.patron.expect("screenshare.offer")
    answer = await conv.patron.ok({"type": "screenshare.answer", "chat_id": conv.chat_id, "request_id": asked["id"],
                                   "accept": False})
    assert answer["state"] == "declined" and answer["join_url"] is None
    staff = await conv.operator.expect("screenshare.update", lambda f: f["request"]["id"] == asked["id"]
                                       and f["request"]["state"] != "pending")
    assert staff["request"]["state"] == "declined" and staff["request"]["join_url"] is None
    assert "Pat Reader declined the screenshare request." in await system_bodies(gw, conv.chat_id)
    latest = await conv.operator.ok({"type": "screenshare.get", "chat_id": conv.chat_id})
    assert latest["request"]["state"] == "declined"


async def test_only_the_owner_of_an_active_chat_may_ask(gw: Gateway, talk) -> None:
    conv, _ = talk
    ben = await online_operator(gw, "ben", ["reference"])
    refused = await ben.request({"type": "screenshare.request", "chat_id": conv.chat_id})
    assert refused["type"] == "error" and refused["code"] == "403"
    refused = await conv.patron.request({"type": "screenshare.request", "chat_id": conv.chat_id})
    assert refused["type"] == "error" and refused["code"] == "403"
    queued = await new_chat(gw, "reference", "waiting")
    ana_refused = await conv.operator.request({"type": "screenshare.request", "chat_id": queued["chat_id"]})
    assert ana_refused["type"] == "error" and ana_refused["code"] == "403"  # not claimed by Ana

    asked = await conv.operator.ok({"type": "screenshare.request", "chat_id": conv.chat_id})
    await conv.operator.ok({"type": "chat.end", "chat_id": conv.chat_id})
    late = await conv.patron.request({"type": "screenshare.answer", "chat_id": conv.chat_id,
                                      "request_id": asked["id"], "accept": True})
    assert late["type"] == "error" and late["code"] == "409"
    assert (await conv.patron.ok({"type": "screenshare.get", "chat_id": conv.chat_id}))["request"] is None
    again = await conv.operator.request({"type": "screenshare.request", "chat_id": conv.chat_id})
    assert again["type"] == "error" and again["code"] == "409"
    await ben.close()


async def test_no_screenshare_request_while_the_owners_transfer_is_open(gw: Gateway, talk) -> None:
    """The chat is locked for its owner while her transfer is open (as for chat.send):
    asking to share screens is refused with 409 until she cancels."""
    conv, _ = talk
    ben = await online_operator(gw, "ben", ["archives"])  # a transfer needs someone Online to take it
    await conv.operator.ok({"type": "transfer.request", "chat_id": conv.chat_id, "to_department_id": "archives",
                            "note": "", "stay": False})
    locked = await conv.operator.request({"type": "screenshare.request", "chat_id": conv.chat_id})
    assert (locked["type"], locked["code"], locked["message"]) == (
        "error", "409", "A transfer is under way; cancel it to ask the patron to share their screen.")
    assert not [f for f in await conv.patron.drain() if f["type"] == "screenshare.offer"]
    await conv.operator.ok({"type": "transfer.cancel", "chat_id": conv.chat_id})
    asked = await conv.operator.ok({"type": "screenshare.request", "chat_id": conv.chat_id})
    assert asked["state"] == "pending"
    await conv.patron.expect("screenshare.offer")
    await ben.close()
