"""Tickets through the gateway, with every service running and a real SMTP catcher
(aiosmtpd): the widget's offline form (HTTP), "Create ticket from this chat" over the
websocket (contact, question and transcript; internal chat notes kept staff-side and
never emailed), ``ticket.update`` pushes, and who may reach a ticket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.gateway_client import Client, Gateway, gateway_stack, login, new_chat, online_operator
from tests.integration.test_tickets_flow import Outbox, body_of
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def outbox() -> AsyncIterator[Outbox]:
    async with Outbox() as box:
        yield box


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers, outbox: Outbox) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers, smtp_port=outbox.port) as gateway:
        yield gateway


async def test_offline_form_creates_a_ticket_and_emails_the_patron(gw: Gateway, outbox: Outbox) -> None:
    ben = await online_operator(gw, "ben", ["archives"])
    response = await gw.http.post("/api/patron/tickets", json={
        "department_id": "archives", "name": "Nora Quinn", "email": "nora@example.org",
        "question": "Do you have the mill's payroll ledgers?", "request_id": "offline-ledgers-0000001"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["email"], created["department_name"]) == ("nora@example.org", "Archives")
    update = await ben.expect("ticket.update", lambda f: f["ticket"]["id"] == created["ticket_id"])
    assert (update["event"], update["ticket"]["status"], update["ticket"]["patron_name"]) == (
        "created", "New", "Nora Quinn")
    mail = (await eventually(lambda: asyncio.sleep(0, outbox.to("nora@example.org")), what="confirmation"))[0]
    assert str(mail["Reply-To"]).startswith(f"ticket+{created['ticket_id']}.")

    listed = await ben.ok({"type": "ticket.list", "statuses": ["New"], "text": "payroll ledgers"})
    assert [x["id"] for x in listed["tickets"]] == [created["ticket_id"]]
    assert listed["counts"]["New"] >= 1
    await ben.close()


async def test_offline_form_is_validated(gw: Gateway) -> None:
    no_email = await gw.http.post("/api/patron/tickets", json={
        "department_id": "reference", "name": "Nora", "question": "Hello?"})
    assert no_email.status_code == 422 and "email" in no_email.text.lower()
    unknown = await gw.http.post("/api/patron/tickets", json={
        "department_id": "nowhere", "name": "Nora", "email": "nora@example.org", "question": "Hello?"})
    assert unknown.status_code == 404


async def test_create_ticket_from_a_chat_carries_contact_question_and_transcript(gw: Gateway, outbox: Outbox) -> None:
    ana = await online_operator(gw, "ana", ["circulation"])
    chat = await new_chat(gw, "circulation", "Can I renew my laptop loan?")
    chat_id = chat["chat_id"]
    assert (await ana.ok({"type": "chat.claim", "chat_id": chat_id}))["state"] == "active"
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "t1", "body": "Let me check with IT."})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "t2", "body": "SECRET-NOTE fines owed",
                  "internal": True})

    ben = await Client.open(gw, await login(gw, "ben"))
    bens_socket = ben[0]
    ticket = await ana.ok({"type": "ticket.create_from_chat", "chat_id": chat_id, "department_id": "reference",
                           "note": "IT knows the laptop pool."})
    assert (ticket["chat_id"], ticket["department_id"], ticket["status"]) == (chat_id, "reference", "New")
    assert (ticket["patron_name"], ticket["patron_email"], ticket["question"]) == (
        "Pat Reader", "pat@example.org", "Can I renew my laptop loan?")
    # Ben is in Reference: he is told even while offline (tickets do not need monitoring)
    await bens_socket.expect("ticket.update", lambda f: f["ticket"]["id"] == ticket["id"])

    detail = await ana.ok({"type": "ticket.get", "ticket_id": ticket["id"]})
    lines = [(line["body"], line["internal"]) for line in detail["transcript"]]
    assert ("Let me check with IT.", False) in lines and ("SECRET-NOTE fines owed", True) in lines
    assert [m["kind"] for m in detail["messages"]] == ["patron", "system", "internal_note"]

    # Ben replies as Pending; the email carries the reply, never a note or an internal chat line
    replied = await bens_socket.ok({"type": "ticket.reply", "ticket_id": ticket["id"],
                                    "body": "Yes, renew at the desk."})
    assert (replied["ticket"]["status"], replied["ticket"]["owner_operator_name"]) == ("Pending", "Ben")
    mail = (await eventually(lambda: asyncio.sleep(0, [m for m in outbox.to("pat@example.org")
                                                       if "renew at the desk" in body_of(m)]), what="reply"))[0]
    assert str(mail["Reply-To"]).startswith(f"ticket+{ticket['id']}.")
    for message in outbox.received:
        text = message.as_string()
        assert "SECRET-NOTE" not in text and "IT knows the laptop pool" not in text
    await ana.close()
    await bens_socket.close()


async def test_create_for_a_named_operator_and_who_may_reach_a_ticket(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["circulation"])
    ben, welcome = await Client.open(gw, await login(gw, "ben"))
    ben_id = welcome["operator"]["id"]
    chat = await new_chat(gw, "circulation", "Who can help with microfilm?")
    await ana.ok({"type": "chat.claim", "chat_id": chat["chat_id"]})
    ticket = await ana.ok({"type": "ticket.create_from_chat", "chat_id": chat["chat_id"], "operator_id": ben_id})
    # Ben is not in Circulation: the ticket goes to his first department, owned by him
    assert (ticket["owner_operator_id"], ticket["department_id"]) == (ben_id, "archives")
    seen = await ben.ok({"type": "ticket.get", "ticket_id": ticket["id"]})
    assert seen["ticket"]["id"] == ticket["id"]
    refused = await ana.request({"type": "ticket.get", "ticket_id": ticket["id"]})  # Ana is not in Archives
    assert refused["type"] == "error" and refused["code"] == "403"
    claimed = await ben.request({"type": "ticket.claim", "ticket_id": ticket["id"]})
    assert claimed["type"] == "reply"
    both = await ana.request({"type": "ticket.create_from_chat", "chat_id": chat["chat_id"],
                              "operator_id": ben_id, "department_id": "reference"})
    assert both["type"] == "error" and both["code"] == "400"
    await ana.close()
    await ben.close()
