"""The patron's rating of an ended chat through the gateway, the queue service and the
``rated`` event, over real NATS, PostgreSQL and every service."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from refdesk.contracts.queue import ChatEvent, chat_event_subject
from tests.gateway_client import Client, Gateway, gateway_stack, new_chat, online_operator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers) as gateway:
        yield gateway


async def test_the_patron_rates_an_ended_chat_once_it_has_ended(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    created = await new_chat(gw, "reference", question="Can I renew online?")
    chat_id = created["chat_id"]
    patron, _ = await Client.open(gw, created["token"])
    events: asyncio.Queue[ChatEvent] = asyncio.Queue()

    async def seen(msg) -> None:
        await events.put(ChatEvent.model_validate(json.loads(msg.data)))

    subscription = await gw.stack.nc.subscribe(chat_event_subject(chat_id, "rated"), cb=seen)
    try:
        rate = {"type": "chat.rate", "chat_id": chat_id, "rating": 5, "comment": "  Quick and kind!  "}
        early = await patron.request(rate)
        assert (early["code"], early["message"]) == ("409", "You can rate this chat once it has ended.")
        await ana.ok({"type": "chat.claim", "chat_id": chat_id})
        assert (await patron.request(rate))["code"] == "409"
        await ana.ok({"type": "chat.end", "chat_id": chat_id})

        refused = await ana.request(rate)
        assert (refused["code"], refused["message"]) == ("403", "Only the patron can rate a chat.")
        out_of_range = await patron.request({**rate, "rating": 6})
        assert out_of_range["code"] == "400" and "rating" in out_of_range["message"]
        too_long = await patron.request({**rate, "comment": "x" * 1001})
        assert too_long["code"] == "400" and "comment" in too_long["message"]

        rated = await patron.ok(rate)
        assert (rated["rating"], rated["rating_comment"]) == (5, "Quick and kind!")
        event = await asyncio.wait_for(events.get(), 10)
        assert (event.type, event.chat.id, event.chat.rating) == ("rated", chat_id, 5)

        # Rating again replaces the earlier rating (and is announced again); a blank comment is none.
        again = await patron.ok({**rate, "rating": 3, "comment": "   "})
        assert (again["rating"], again["rating_comment"]) == (3, None)
        assert (await asyncio.wait_for(events.get(), 10)).chat.rating == 3
        # The owner sees the rating on the chat; a reloaded patron widget learns it from welcome.
        update = await ana.expect("chat.update", lambda f: f["event"] == "rated" and f["chat"]["rating"] == 3)
        assert update["chat"]["id"] == chat_id
        _, welcome = await Client.open(gw, created["token"])
        assert welcome["chat"]["rating"] == 3

        # Another patron's chat is out of reach.
        other = await new_chat(gw, "reference", question="Hours?")
        assert (await patron.request({**rate, "chat_id": other["chat_id"]}))["code"] == "403"
    finally:
        await subscription.unsubscribe()
        await ana.close()
        await patron.close()
