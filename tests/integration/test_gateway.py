"""The gateway end to end over real NATS + PostgreSQL + the real queue, chat,
analytics and tickets services: HTTP with httpx, websockets with ``websockets``.

One system (every service + the gateway, as ``refdesk up`` runs them) serves the whole
module; every test makes its own chats, so tests do not depend on each other's data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import ANY

import httpx
import nats
import pytest
import pytest_asyncio
import structlog.testing
from nats.js.errors import NotFoundError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway import session
from refdesk import bus
from refdesk.bus import BusError
from refdesk.contracts.analytics import Dataset, DatasetRequest
from refdesk.contracts.chat import HISTORY, History, HistoryRequest
from refdesk.contracts.common import utcnow
from refdesk.contracts.queue import OPERATOR_GET, ChatView, OperatorProfile, OperatorRef, chat_event_subject
from refdesk.contracts.queue import STREAM as QUEUE_STREAM
from gateway.server import serve as serve_gateway
from refdesk.contracts.queue import CHAT_CREATE, CHAT_END, CreateChatRequest, EndRequest
from refdesk.embedded import free_port
from tests.gateway_client import (Client, Conversation, Frame, Gateway, claimed_conversation, gateway_stack, login,
                                  new_chat, of_chat, online_operator)
from tests.support import eventually, wait_for_http

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers) as gateway:
        yield gateway


@pytest_asyncio.fixture(loop_scope="module")
async def conversation(gw: Gateway) -> AsyncIterator[Conversation]:
    """Ana has claimed a fresh Circulation chat; both sides are subscribed to it."""
    async with claimed_conversation(gw, "circulation") as (conv, _):
        yield conv


# --- HTTP --------------------------------------------------------------------------


async def test_login_logout_and_bad_credentials(gw: Gateway) -> None:
    good = await gw.http.post("/api/auth/login", json={"username": "ben", "password": "librarian"})
    assert good.status_code == 200 and good.json()["operator"]["nickname"] == "Ben"
    wrong = await gw.http.post("/api/auth/login", json={"username": "ben", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Wrong username or password."}
    malformed = await gw.http.post("/api/auth/login", json={"username": "ben"})
    assert malformed.status_code == 422 and malformed.json()["detail"] == "The password is required."

    token = good.json()["token"]
    ben = await Client.open(gw, token)
    await ben[0].ok({"type": "status.set", "status": "online"})
    out = await gw.http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 200 and out.json() == {"ok": True}
    profile = await bus.request(gw.stack.nc, OPERATOR_GET, OperatorRef(operator_id=good.json()["operator"]["id"]),
                                OperatorProfile)
    assert profile.status == "offline"
    assert (await gw.http.post("/api/auth/logout")).status_code == 401
    await ben[0].close()


async def test_departments_health_and_security_headers(gw: Gateway) -> None:
    departments = (await gw.http.get("/api/departments")).json()["departments"]
    assert {d["id"] for d in departments} == {"reference", "circulation", "archives"}
    health = await gw.http.get("/healthz")
    assert health.json() == {"status": "ok", "services": {"queue": True, "chat": True, "tickets": True,
                                                          "analytics": True}}
    root = await gw.http.get("/")
    assert root.status_code in (302, 307) and root.headers["location"] == "/dashboard/"
    patron_page = await gw.http.get("/patron/")
    dashboard = await gw.http.get("/dashboard/")
    for response in (patron_page, dashboard, await gw.http.get("/widget.js")):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'self'" in csp
        assert f"http://127.0.0.1:{gw.stack.settings.analytics_port}" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors *" in patron_page.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in dashboard.headers["content-security-policy"]


async def test_patron_chat_creation_is_validated(gw: Gateway) -> None:
    blank = await gw.http.post("/api/patron/chats", json={"department_id": "reference", "name": "  ", "question": "?"})
    assert blank.status_code == 422 and blank.json()["detail"] == "Your name must not be empty."
    invisible = await gw.http.post("/api/patron/chats", json={
        "department_id": "reference", "name": "Pat", "question": "\u200b\u202e \r\n"})
    assert invisible.status_code == 422 and invisible.json()["detail"] == "Your question must not be blank."
    email = await gw.http.post("/api/patron/chats", json={
        "department_id": "reference", "name": "Pat", "email": "not-an-address", "question": "?"})
    assert email.status_code == 422 and email.json()["detail"] == "Your email address is not a valid email address."
    unknown = await gw.http.post("/api/patron/chats", json={"department_id": "nowhere", "name": "Pat", "question": "?"})
    assert unknown.status_code == 404 and isinstance(unknown.json()["detail"], str)


def assert_security_headers(response: httpx.Response) -> None:
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_text_that_is_not_unicode_is_refused_readably_with_the_security_headers(gw: Gateway) -> None:
    good = {"department_id": "reference", "name": "Pat", "email": "pat@example.org", "question": "Any maps?",
            "page_url": "https://library.example.edu/maps"}
    cases = [("/api/patron/chats", {**good, field: "x\ud800"}) for field in good]
    cases += [("/api/patron/chats", {**good, "\ud800": 1}),
              ("/api/auth/login", {"username": "ana\ud800", "password": "librarian"})]
    for path, body in cases:
        # json.dumps escapes the lone surrogate as \ud800: valid JSON text, invalid Unicode
        response = await gw.http.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/json"
        assert_security_headers(response)
        detail = response.json()["detail"]
        assert "not allowed" in detail or "not a known field" in detail, detail


async def test_validation_errors_never_echo_what_was_submitted(gw: Gateway) -> None:
    secret = "My library card number is 29876543 and " + "x" * 2000
    response = await gw.http.post("/api/patron/chats", json={"department_id": "reference", "name": "Pat",
                                                             "question": secret})
    assert response.status_code == 422
    assert response.json()["detail"] == "Your question must be at most 2000 characters."
    assert all(set(error) == {"loc", "type", "msg"} for error in response.json()["errors"])
    assert "29876543" not in response.text
    assert_security_headers(response)


async def test_a_service_that_does_not_answer_reads_well(gw: Gateway) -> None:
    gateway = session.Gateway(gw.stack.nc, gw.stack.settings, hub=None)  # type: ignore[arg-type]
    with pytest.raises(BusError) as caught:
        await gateway.call("rd.analytics.nobody.home", DatasetRequest(), Dataset)
    assert (caught.value.code, caught.value.message) == (
        "503", "The Reference Analytics service is not answering; please try again.")


# --- websocket: lifecycle and malformed frames ---------------------------------------


async def test_frame_before_hello_and_bad_token_close_4001(gw: Gateway) -> None:
    for first in ({"type": "ping"}, {"type": "hello", "token": "forged"}):
        client = Client(await connect(gw.ws_url))
        await client.send(first)
        error = await client.expect("error")
        assert error["code"] == "401"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(client.ws.recv(), 5)
        assert client.ws.close_code == 4001


async def test_malformed_and_oversized_frames_keep_the_connection(gw: Gateway, conversation: Conversation) -> None:
    patron = conversation.patron
    await patron.send("{not json")
    assert (await patron.expect("error"))["code"] == "400"
    answer = await patron.request({"type": "chat.subscribe", "chat_id": conversation.chat_id, "after_seq": "x"})
    assert answer["code"] == "400" and "after_seq must be a whole number" in answer["message"]
    oversized = await patron.request({"type": "chat.send", "chat_id": conversation.chat_id, "cmid": "big",
                                      "body": "x" * 70_000})  # answered with its ref, so the client's waiter ends
    assert (oversized["type"], oversized["code"]) == ("error", "413")
    too_long = await patron.request({"type": "chat.send", "chat_id": conversation.chat_id, "cmid": "long",
                                     "body": " " + "x" * 4001})
    assert too_long["code"] == "422" and "at most 4000 characters" in too_long["message"]
    # a lone surrogate (a JSON escape only) cannot be stored or echoed: 400, the socket stays open
    await patron.send('{"type": "chat.send", "chat_id": "%s", "cmid": "bad", "body": "x\\ud800", "ref": "s1"}'
                      % conversation.chat_id)
    assert (await patron.expect_answer("s1"))["code"] == "400"
    await patron.send('{"type": "ping", "ref": "\\ud800"}')
    assert (await patron.expect("error"))["message"] == "The frame contains text that is not valid Unicode."
    ack = await patron.ok({"type": "chat.send", "chat_id": conversation.chat_id, "cmid": "after", "body": "Still here"})
    assert ack["duplicate"] is False


async def test_the_length_limit_counts_the_body_as_stored(gw: Gateway, conversation: Conversation) -> None:
    patron, chat_id = conversation.patron, conversation.chat_id
    padded = await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "padded",
                              "body": "  " + "x" * 3999 + "  "})
    crlf = await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "crlf",
                            "body": "a" * 3998 + "\r\n" + "b"})  # 4,001 characters sent, 4,000 stored
    stored = await bus.request(gw.stack.nc, HISTORY, HistoryRequest(chat_id=chat_id, after_seq=padded["seq"] - 1),
                               History)
    assert [(m.seq, m.body) for m in stored.messages] == [
        (padded["seq"], "x" * 3999), (crlf["seq"], "a" * 3998 + "\nb")]


async def test_subscribe_after_seq_is_bounded(gw: Gateway, conversation: Conversation) -> None:
    patron, chat_id = conversation.patron, conversation.chat_id
    for i, after_seq in enumerate(("1e30", str(10**30), str(2**63), str(2**53 + 1))):
        await patron.send('{"type": "chat.subscribe", "chat_id": "%s", "after_seq": %s, "ref": "a%d"}'
                          % (chat_id, after_seq, i))
        answer = await patron.expect_answer(f"a{i}")
        assert answer["type"] == "error" and answer["code"] == "400", answer
        assert answer["message"].startswith('Bad "chat.subscribe" frame: after_seq must be'), answer
    await patron.drain()
    at_bound = await patron.ok({"type": "chat.subscribe", "chat_id": chat_id, "after_seq": 2**53})
    assert (await patron.expect("history"))["messages"] == [] and at_bound["top_seq"] >= 2


async def test_patron_token_reaches_only_its_own_chat(gw: Gateway, conversation: Conversation) -> None:
    other = await new_chat(gw, "circulation")
    for frame in ({"type": "chat.subscribe", "chat_id": other["chat_id"]},
                  {"type": "chat.send", "chat_id": other["chat_id"], "cmid": "x", "body": "hi"},
                  {"type": "chat.end", "chat_id": other["chat_id"]},
                  {"type": "chat.claim", "chat_id": other["chat_id"]}):
        answer = await conversation.patron.request(frame)
        assert answer["type"] == "error" and answer["code"] == "403", answer


# --- websocket: the chat flow ----------------------------------------------------------


async def test_queued_chat_reaches_monitoring_operator(gw: Gateway) -> None:
    # the 1-second target is measured by benchmarks/shift_latency.py, not timed here
    ben = await online_operator(gw, "ben", ["archives"])
    await ben.drain()
    created = await new_chat(gw, "archives")
    update = await ben.expect("chat.update", of_chat(created["chat_id"]), timeout=10)
    assert update["event"] == "queued" and update["chat"]["state"] == "queued"
    patron, welcome = await Client.open(gw, created["token"])
    assert welcome["role"] == "patron" and welcome["chat"]["id"] == created["chat_id"]
    position = await patron.expect("queue.position")
    assert position["chat_id"] == created["chat_id"] and 1 <= position["position"] <= position["waiting"]
    await ben.ok({"type": "chat.claim", "chat_id": created["chat_id"]})
    await ben.close()
    await patron.close()


async def test_claim_race_has_one_winner(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    ben = await online_operator(gw, "ben", ["reference"])
    created = await new_chat(gw, "reference")
    chat_id = created["chat_id"]
    patron, _ = await Client.open(gw, created["token"])
    await patron.ok({"type": "chat.subscribe", "chat_id": chat_id})

    answers = await asyncio.gather(*(op.request({"type": "chat.claim", "chat_id": chat_id}) for op in (ana, ben)))
    assert sorted(a["type"] for a in answers) == ["error", "reply"]
    won = next(a for a in answers if a["type"] == "reply")["data"]
    winner_name = won["claimed_by_name"]
    lost = next(a for a in answers if a["type"] == "error")
    assert lost["code"] == "409" and lost["message"] == f"Already claimed by {winner_name}."
    loser = ben if winner_name == "Ana" else ana
    claimed = await loser.expect("chat.update", of_chat(chat_id, "claimed"))
    assert claimed["chat"]["claimed_by_name"] == winner_name

    assert (await patron.expect("chat.update", of_chat(chat_id, "claimed")))["chat"]["state"] == "active"
    joined = await patron.expect("message", lambda f: f["message"]["author_kind"] == "system")
    assert joined["message"]["body"] == f"{winner_name} joined the chat."
    for client in (ana, ben, patron):
        await client.close()


async def test_messages_both_ways_with_acks_and_idempotent_retry(gw: Gateway, conversation: Conversation) -> None:
    ana, patron, chat_id = conversation.operator, conversation.patron, conversation.chat_id
    ack = await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "p-1", "body": "Hello?"})
    got = await ana.expect("message", lambda f: f["message"]["cmid"] == "p-1")
    assert got["message"]["seq"] == ack["seq"] and got["message"]["author_kind"] == "patron"

    retry = await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "p-1", "body": "Hello?"})
    assert retry["duplicate"] is True and (retry["message_id"], retry["seq"]) == (ack["message_id"], ack["seq"])

    reply = await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "o-1", "body": "Hi, how can I help?"})
    assert reply["seq"] == ack["seq"] + 1
    answer = await patron.expect("message", lambda f: f["message"]["cmid"] == "o-1")
    assert answer["message"]["author_name"] == "Ana" and answer["message"]["seq"] == reply["seq"]
    assert not [f for f in await ana.drain() if f["type"] == "message" and f["message"]["cmid"] == "p-1"]


async def test_typing_reaches_only_the_other_side(gw: Gateway, conversation: Conversation) -> None:
    ana, patron, chat_id = conversation.operator, conversation.patron, conversation.chat_id
    await patron.send({"type": "chat.typing", "chat_id": chat_id, "typing": True})
    seen = await ana.expect("typing")
    assert (seen["author_kind"], seen["author_name"], seen["typing"]) == ("patron", "Pat Reader", True)
    assert not [f for f in await patron.drain() if f["type"] == "typing"]
    await ana.send({"type": "chat.typing", "chat_id": chat_id, "typing": False})
    assert (await patron.expect("typing"))["author_name"] == "Ana"
    assert not [f for f in await ana.drain() if f["type"] == "typing"]


async def test_subscribe_after_seq_replays_only_missed_messages(gw: Gateway, conversation: Conversation) -> None:
    ana, patron, chat_id = conversation.operator, conversation.patron, conversation.chat_id
    acks = [await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": f"m{i}", "body": f"Line {i}"})
            for i in range(3)]
    tab, _ = await Client.open(gw, await login(gw, "ana"))
    subscribed = await tab.ok({"type": "chat.subscribe", "chat_id": chat_id, "after_seq": acks[0]["seq"]})
    history = await tab.expect("history")
    assert [m["seq"] for m in history["messages"]] == [acks[1]["seq"], acks[2]["seq"]]
    assert history["more"] is False and subscribed["top_seq"] == acks[2]["seq"]
    later = await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "m3", "body": "Line 3"})
    assert (await tab.expect("message"))["message"]["seq"] == later["seq"] == acks[2]["seq"] + 1
    await tab.close()
    assert ana is conversation.operator


async def test_end_then_reference_analytics(gw: Gateway, conversation: Conversation) -> None:
    ana, patron, chat_id = conversation.operator, conversation.patron, conversation.chat_id
    ended = await ana.ok({"type": "chat.end", "chat_id": chat_id})
    assert ended["state"] == "ended" and ended["ended_by"] == "operator"
    for side in (ana, patron):
        assert (await side.expect("chat.update", of_chat(chat_id, "ended")))["chat"]["state"] == "ended"
    refused = await patron.request({"type": "chat.send", "chat_id": chat_id, "cmid": "late", "body": "Wait!"})
    assert (refused["code"], refused["message"]) == ("409", "This chat has ended.")

    # Ana reloads the dashboard: her ended chat is still on her board until she closes it.
    reloaded, _ = await Client.open(gw, await login(gw, "ana"))
    board = await reloaded.expect("board")
    assert [c["state"] for c in board["chats"] if c["id"] == chat_id] == ["ended"]
    await reloaded.close()

    form = await ana.ok({"type": "ra.form", "chat_id": chat_id})
    prefill = form["prefill"]
    assert prefill["question"] == "Do you have atlases?" and prefill["department_id"] == "circulation"
    assert prefill["duration"] >= 1 and prefill["operator_id"] == ended["claimed_by"]
    dataset = form["dataset"]
    incomplete = await ana.request({"type": "ra.save", "chat_id": chat_id, "dataset_id": dataset["id"], "values": {}})
    assert incomplete["code"] == "422"
    required = [f for f in dataset["fields"] if f["required"]]
    assert all(f["label"] in incomplete["message"] or f["key"] in incomplete["message"] for f in required)
    values = required_values(form)
    record = await ana.ok({"type": "ra.save", "chat_id": chat_id, "dataset_id": dataset["id"], "values": values})
    assert record["chat_id"] == chat_id and record["operator_id"] == ended["claimed_by"]
    closed = await ana.ok({"type": "chat.close", "chat_id": chat_id})
    assert closed["state"] == "closed"


# --- transcript order and lifecycle messages ----------------------------------------


async def lifecycle_consumer_caught_up(gw: Gateway, last_chat_id: str) -> None:
    """Wait until the queue service has published the ``ended`` event of the last chat
    (its outbox relays events in commit order, so every earlier one is in the stream
    too) and the chat service's ``chat-lifecycle`` consumer has handled them all."""
    jsm = gw.stack.nc.jsm()

    async def published() -> bool:
        try:
            await jsm.get_last_msg(QUEUE_STREAM, chat_event_subject(last_chat_id, "ended"))
        except NotFoundError:
            return False
        return True

    async def handled() -> bool:
        info = await jsm.consumer_info(QUEUE_STREAM, "chat-lifecycle")
        return info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(published, what="the last ended event in QUEUE_EVENTS")
    await eventually(handled, what="the chat-lifecycle consumer to catch up")


async def transcript(gw: Gateway, chat_id: str) -> list[tuple[str, str, str]]:
    page = await bus.request(gw.stack.nc, HISTORY, HistoryRequest(chat_id=chat_id), History)
    assert [m.seq for m in page.messages] == list(range(1, len(page.messages) + 1))
    return [(m.author_kind, m.cmid, m.body) for m in page.messages]


async def test_lifecycle_messages_come_before_what_follows_them(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    chat_ids = []
    for i in range(20):
        created = await new_chat(gw, "reference", question=f"Question {i}")
        chat_id = created["chat_id"]
        chat_ids.append(chat_id)
        patron, _ = await Client.open(gw, created["token"])
        await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "p1", "body": "Are you there?"})
        # the claim and the greeting back to back: the greeting must follow "Ana joined the chat."
        await ana.send({"type": "chat.claim", "chat_id": chat_id, "ref": f"claim-{i}"})
        await ana.send({"type": "chat.send", "chat_id": chat_id, "cmid": "o1", "body": "Hi, I'm Ana.",
                        "ref": f"hi-{i}"})
        assert (await ana.expect_answer(f"claim-{i}"))["type"] == "reply"
        assert (await ana.expect_answer(f"hi-{i}"))["type"] == "reply"
        assert (await ana.ok({"type": "chat.end", "chat_id": chat_id}))["state"] == "ended"
        await patron.close()
        assert await transcript(gw, chat_id) == [
            ("patron", "ev:question", f"Question {i}"),
            ("patron", "p1", "Are you there?"),
            ("system", ANY, "Ana joined the chat."),
            ("operator", "o1", "Hi, I'm Ana."),
            ("system", "ev:ended", "Ana ended the chat."),
        ], f"chat {i}"
    await ana.close()
    # the durable consumer (the backstop) writes nothing a second time
    await lifecycle_consumer_caught_up(gw, chat_ids[-1])
    for chat_id in chat_ids:
        assert [kind for kind, _, _ in await transcript(gw, chat_id)] == \
            ["patron", "patron", "system", "operator", "system"]



async def test_a_failed_lifecycle_report_is_logged_and_never_fails_the_user(servers, gw: Gateway) -> None:
    lonely = await nats.connect(await servers.fresh_nats())  # a NATS where no chat service answers
    try:
        gateway = session.Gateway(lonely, gw.stack.settings, hub=None)  # type: ignore[arg-type]
        chat = ChatView(id="c1", department_id="reference", department_name="Reference", state="queued",
                        patron_name="Pat", question="Any maps?", queued_at=utcnow())
        with structlog.testing.capture_logs() as logs:
            await gateway.record_lifecycle("queued", chat)
        assert [(entry["event"], entry["transition"]) for entry in logs
                if entry["event"] == "gateway.lifecycle_not_recorded"] == [("gateway.lifecycle_not_recorded", "queued")]
    finally:
        await lonely.close()


# --- large histories ------------------------------------------------------------------


async def test_a_history_bigger_than_a_nats_message_is_replayed_in_order(gw: Gateway) -> None:
    created = await new_chat(gw, "archives", question="Which boxes hold the 1890 letters?")
    chat_id = created["chat_id"]
    patron, _ = await Client.open(gw, created["token"])
    bodies = [f"{i:03d}" + "图" * 3996 for i in range(100)]  # 3,999 characters, ~12 KB of UTF-8 each
    for i, body in enumerate(bodies):
        await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": f"m{i}", "body": body})

    reader, _ = await Client.open(gw, created["token"])  # websockets' default: frames up to 1 MiB
    received: list[Frame] = []
    while True:  # as the page does: subscribe again after the last seq while "more"
        after_seq = received[-1]["seq"] if received else 0
        subscribed = await reader.ok({"type": "chat.subscribe", "chat_id": chat_id, "after_seq": after_seq})
        history = await reader.expect("history")
        assert history["messages"] and subscribed["top_seq"] == 101
        received.extend(history["messages"])
        if not history["more"]:
            break
    assert [m["seq"] for m in received] == list(range(1, 102))
    assert [m["body"] for m in received] == ["Which boxes hold the 1890 letters?", *bodies]
    await patron.close()
    await reader.close()


# --- Reference Analytics: the owner's record ------------------------------------------


def required_values(form: Frame) -> dict[str, Any]:
    """Values for every required field of the RA form, from the prefill where it has one."""
    return {f["key"]: form["prefill"].get(f["key"]) if f["kind"] == "number" else (f["options"] or ["x"])[0]
            for f in form["dataset"]["fields"] if f["required"]}


async def test_reference_analytics_belong_to_the_chat_owner_or_an_admin(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    ben, _ = await Client.open(gw, await login(gw, "ben"))  # a Reference member, not the owner
    cleo, _ = await Client.open(gw, await login(gw, "cleo"))  # an admin
    chat_id = (await new_chat(gw, "reference", question="Where is the map room?"))["chat_id"]
    claimed = await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await ana.ok({"type": "chat.end", "chat_id": chat_id})
    form = await ana.ok({"type": "ra.form", "chat_id": chat_id})
    values = required_values(form)
    save = {"type": "ra.save", "chat_id": chat_id, "dataset_id": form["dataset"]["id"], "values": values}

    for frame in ({"type": "ra.form", "chat_id": chat_id}, save):
        refused = await ben.request(frame)
        assert (refused["code"], refused["message"]) == ("403", "Only Ana can record its Reference Analytics.")

    unclaimed = (await new_chat(gw, "reference", question="Is the library open on Sunday?"))["chat_id"]
    for who in (ana, cleo):
        for frame in ({"type": "ra.form", "chat_id": unclaimed}, {**save, "chat_id": unclaimed}):
            refused = await who.request(frame)
            assert (refused["code"], refused["message"]) == (
                "403", "Reference Analytics can only be recorded for a chat a librarian has claimed.")

    assert (await cleo.ok({"type": "ra.form", "chat_id": chat_id}))["prefill"]["operator_id"] == claimed["claimed_by"]
    by_admin = await cleo.ok(save)
    assert by_admin["operator_id"] == claimed["claimed_by"]  # the record stays Ana's
    assert (await ana.ok(save))["operator_id"] == claimed["claimed_by"]
    for client in (ana, ben, cleo):
        await client.close()


# --- lifecycle races, sends after the end, unreadable frames, the saved RA record --------


async def test_a_claim_racing_the_patrons_end_never_puts_joined_after_the_end(gw: Gateway) -> None:
    cleo = await online_operator(gw, "cleo", ["archives"])
    chat_ids = []
    for i in range(20):
        created = await new_chat(gw, "archives", question=f"Race {i}")
        chat_id = created["chat_id"]
        chat_ids.append(chat_id)
        patron, _ = await Client.open(gw, created["token"])
        claim, end = await asyncio.gather(cleo.request({"type": "chat.claim", "chat_id": chat_id}),
                                          patron.request({"type": "chat.end", "chat_id": chat_id}))
        assert end["type"] == "reply", end
        question, ended = ("patron", "ev:question", f"Race {i}"), ("system", "ev:ended", "Pat Reader ended the chat.")
        if claim["type"] == "reply":
            expected = [question, ("system", ANY, "Cleo joined the chat."), ended]
        else:
            assert (claim["code"], claim["message"]) == ("409", "This chat has ended.")
            expected = [question, ended]
        assert await transcript(gw, chat_id) == expected, f"race {i}"
        await patron.close()
    await cleo.close()
    await lifecycle_consumer_caught_up(gw, chat_ids[-1])  # the backstop adds no second copy
    for chat_id in chat_ids:
        rows = await transcript(gw, chat_id)
        assert rows[0][1] == "ev:question" and rows[-1][1] == "ev:ended" and len(rows) in (2, 3)


async def test_a_second_tab_of_the_owner_never_posts_before_joined(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["circulation"])
    tab, _ = await Client.open(gw, await login(gw, "ana"))
    for i in range(20):
        chat_id = (await new_chat(gw, "circulation", question=f"Tab race {i}"))["chat_id"]
        await ana.send({"type": "chat.claim", "chat_id": chat_id, "ref": f"tab-claim-{i}"})
        while True:  # the other tab posts as soon as the claim lets it
            answer = await tab.request({"type": "chat.send", "chat_id": chat_id, "cmid": "o1", "body": "Hi!"})
            if answer["type"] == "reply":
                break
            assert (answer["code"], answer["message"]) == ("403", "Claim this chat first."), answer
        assert (await ana.expect_answer(f"tab-claim-{i}"))["type"] == "reply"
        assert await transcript(gw, chat_id) == [
            ("patron", "ev:question", f"Tab race {i}"),
            ("system", ANY, "Ana joined the chat."),
            ("operator", "o1", "Hi!"),
        ], f"race {i}"
        await ana.ok({"type": "chat.end", "chat_id": chat_id})
    await tab.close()
    await ana.close()


async def test_a_retry_of_a_message_sent_before_the_end_gets_its_ack_after_it(
    gw: Gateway, conversation: Conversation,
) -> None:
    ana, patron, chat_id = conversation.operator, conversation.patron, conversation.chat_id
    sent = await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "before", "body": "Thanks!"})
    answered = await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "o-before", "body": "Bye!"})
    await ana.ok({"type": "chat.end", "chat_id": chat_id})

    retry = await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "before", "body": "Thanks!"})
    assert retry["duplicate"] is True and (retry["message_id"], retry["seq"]) == (sent["message_id"], sent["seq"])
    operator_retry = await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "o-before", "body": "Bye!"})
    assert operator_retry["duplicate"] is True and operator_retry["seq"] == answered["seq"]
    for side, cmid in ((patron, "after"), (ana, "o-after")):
        refused = await side.request({"type": "chat.send", "chat_id": chat_id, "cmid": cmid, "body": "One more"})
        assert (refused["type"], refused["code"], refused["message"]) == ("error", "409", "This chat has ended.")
        typing = await side.request({"type": "chat.typing", "chat_id": chat_id, "typing": True})
        assert (typing["type"], typing["code"]) == ("error", "409")
    cleo, _ = await Client.open(gw, await login(gw, "cleo"))  # in Circulation, not the owner
    stranger = await cleo.request({"type": "chat.send", "chat_id": chat_id, "cmid": "before", "body": "Thanks!"})
    assert (stranger["code"], stranger["message"]) == ("403", "This chat belongs to Ana.")
    await cleo.close()
    rows = await transcript(gw, chat_id)
    assert rows[-1] == ("system", "ev:ended", "Ana ended the chat.")
    assert [cmid for _, cmid, _ in rows].count("before") == 1


async def test_frames_the_json_parser_cannot_read_are_answered_and_the_socket_stays(
    gw: Gateway, conversation: Conversation,
) -> None:
    patron, chat_id = conversation.patron, conversation.chat_id
    await patron.send('{"type": "chat.subscribe", "ref": "deep", "chat_id": ' + "[" * 10_000 + "]" * 10_000 + "}")
    deep = await patron.expect_answer("deep")
    assert (deep["code"], deep["message"]) == ("400", "The frame is nested too deeply.")
    await patron.send('{"type": "chat.subscribe", "chat_id": "%s", "ref": "digits", "after_seq": %s}'
                      % (chat_id, "1" * 5000))
    assert (await patron.expect_answer("digits"))["code"] == "400"
    assert (await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "still", "body": "Still here"}))["seq"]


async def test_a_service_failure_reads_as_one_fixed_sentence(gw: Gateway) -> None:
    nc = gw.stack.nc

    async def fail(msg: Any) -> None:
        await nc.publish(msg.reply, b"", headers={"Nats-Service-Error-Code": "500",
                                                  "Nats-Service-Error": "internal error: KeyError"})

    sub = await nc.subscribe("rd.analytics.test.failing", cb=fail)
    try:
        gateway = session.Gateway(nc, gw.stack.settings, hub=None)  # type: ignore[arg-type]
        with structlog.testing.capture_logs() as logs, pytest.raises(BusError) as caught:
            await gateway.call("rd.analytics.test.failing", DatasetRequest(), Dataset)
        assert (caught.value.code, caught.value.message) == (
            "500", "Something went wrong on our side; please try again.")
        assert any(entry.get("error") == "internal error: KeyError" for entry in logs)  # kept for the logs only
    finally:
        await sub.unsubscribe()


async def test_the_ra_form_brings_back_the_saved_record_after_a_reload(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    chat_id = (await new_chat(gw, "reference", question="Where is the map room?"))["chat_id"]
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await ana.ok({"type": "chat.end", "chat_id": chat_id})
    form = await ana.ok({"type": "ra.form", "chat_id": chat_id})
    assert form["record"] is None
    save = {"type": "ra.save", "chat_id": chat_id, "dataset_id": form["dataset"]["id"]}

    too_big = await ana.request({**save, "values": {**required_values(form), "duration": 10**400}})
    assert (too_big["code"], too_big["message"]) == ("422", "Duration must be a number of minutes from 0 to 1,440.")
    nested = await ana.request({**save, "values": {**required_values(form), "answer": {"a": 1}}})
    assert nested["code"] == "400" and "(check: answer)" in nested["message"]
    saved = await ana.ok({**save, "values": {**required_values(form), "answer": "Second\x00 floor.\r\nEast wing."}})
    assert saved["values"]["answer"] == "Second floor.\nEast wing."

    reloaded, _ = await Client.open(gw, await login(gw, "ana"))
    assert (await reloaded.ok({"type": "ra.form", "chat_id": chat_id}))["record"] == saved
    cleo, _ = await Client.open(gw, await login(gw, "cleo"))  # an admin sees it too
    assert (await cleo.ok({"type": "ra.form", "chat_id": chat_id}))["record"]["id"] == saved["id"]
    for client in (ana, reloaded, cleo):
        await client.close()


# --- abuse: flooded queues, retried chat creation, rate limits -------------------------


async def test_hellos_still_work_when_a_department_is_flooded_with_huge_chats(gw: Gateway) -> None:
    """~1.3 MB of queued chats in one department (more than one NATS message) must not
    lock its operators and patrons out."""

    flood = [await bus.request(gw.stack.nc, CHAT_CREATE, CreateChatRequest(
        department_id="archives", patron_name=f"Flood {i}", question="📚" * 2000,
        page_url="https://library.example.edu/" + "🔥" * 1970), ChatView) for i in range(80)]
    try:
        ben, welcome = await Client.open(gw, await login(gw, "ben"))
        assert welcome["role"] == "operator"
        await ben.expect("board")
        await ben.ok({"type": "status.set", "status": "online", "monitored": ["archives"]})
        board = await ben.expect("board")  # sent before the reply; websockets' default limit is 1 MiB
        assert flood[0].id in {chat["id"] for chat in board["chats"]}

        token = (await gw.http.post("/api/patron/chats", json={
            "department_id": "archives", "name": "Late Pat", "question": "Am I in the queue?"})).json()["token"]
        patron, welcome = await Client.open(gw, token)
        position = await patron.expect("queue.position")
        assert position["chat_id"] == welcome["chat"]["id"]
        assert position["position"] == position["waiting"] >= 81
        for client in (ben, patron):
            await client.close()
    finally:
        for chat in flood:
            await bus.request(gw.stack.nc, CHAT_END, EndRequest(chat_id=chat.id, ended_by="patron"), ChatView)


async def test_a_retried_chat_start_answers_the_same_chat(gw: Gateway) -> None:
    body = {"department_id": "reference", "name": "Pat Retry", "question": "Do you lend laptops?",
            "request_id": "3c9e1f0a-7b2d-4e6f-8a1b-5d4c3b2a1f0e"}
    first = await gw.http.post("/api/patron/chats", json=body)
    retry = await gw.http.post("/api/patron/chats", json=body)  # the first answer was "lost"
    assert first.status_code == retry.status_code == 201
    assert retry.json()["chat_id"] == first.json()["chat_id"] == retry.json()["chat"]["id"]
    patron, welcome = await Client.open(gw, retry.json()["token"])  # the new token reaches the chat
    assert welcome["chat"]["id"] == first.json()["chat_id"]
    await patron.close()

    changed = await gw.http.post("/api/patron/chats", json={**body, "question": "Something else?"})
    assert changed.status_code == 409 and "already used" in changed.json()["detail"]
    for bad in ("short", "no spaces allowed here!", "x" * 65):
        refused = await gw.http.post("/api/patron/chats", json={**body, "request_id": bad})
        assert refused.status_code == 422 and refused.json()["detail"].startswith("The request id"), refused.text
    bodies = [text for _, _, text in await transcript(gw, first.json()["chat_id"])]
    assert bodies == ["Do you lend laptops?"]  # the question recorded once


@pytest_asyncio.fixture(loop_scope="module")
async def strict_gateway(gw: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """A second gateway on the same services with tiny limits: 2 chats and 2 failed
    sign-ins per client address per minute."""

    settings = gw.stack.settings.model_copy(update={
        "gateway_port": free_port(), "patron_chat_limit": 2, "patron_chat_window_seconds": 60.0,
        "login_failure_limit": 2, "login_failure_window_seconds": 60.0})
    stop = asyncio.Event()
    task = asyncio.create_task(serve_gateway(settings, stop))
    base = f"http://127.0.0.1:{settings.gateway_port}"
    try:
        await wait_for_http(f"{base}/healthz", task)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            yield http
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


def assert_too_many(response: httpx.Response, detail: str) -> None:
    assert response.status_code == 429, response.text
    assert response.json() == {"detail": detail}
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert_security_headers(response)


async def test_starting_chats_is_rate_limited_per_address(strict_gateway: httpx.AsyncClient) -> None:
    body = {"department_id": "circulation", "name": "Pat", "question": "Can I renew online?"}
    for _ in range(2):
        assert (await strict_gateway.post("/api/patron/chats", json=body)).status_code == 201
    assert_too_many(await strict_gateway.post("/api/patron/chats", json=body),
                    "Too many chats started from this network. Please wait a few minutes and try again.")


async def test_failed_sign_ins_are_rate_limited_per_address(strict_gateway: httpx.AsyncClient) -> None:
    right = {"username": "cleo", "password": "librarian"}
    wrong = {"username": "cleo", "password": "guess"}
    for _ in range(3):  # successful sign-ins do not count
        assert (await strict_gateway.post("/api/auth/login", json=right)).status_code == 200
    for _ in range(2):
        assert (await strict_gateway.post("/api/auth/login", json=wrong)).status_code == 401
    detail = "Too many failed sign-in attempts from this network. Please wait a few minutes and try again."
    assert_too_many(await strict_gateway.post("/api/auth/login", json=wrong), detail)
    assert_too_many(await strict_gateway.post("/api/auth/login", json=right), detail)  # until the window moves on


async def test_a_subscribe_after_seq_beyond_the_chat_is_clamped_to_its_top(gw: Gateway,
                                                                           conversation: Conversation) -> None:
    """A client claiming a seq above the chat's real top (a stale or forged after_seq)
    is told the real top_seq and still receives every later message live."""
    ana, patron, chat_id = conversation.operator, conversation.patron, conversation.chat_id
    for side in (patron, ana):
        await side.drain()  # the fixture's own subscribe
        answer = await side.ok({"type": "chat.subscribe", "chat_id": chat_id, "after_seq": 50})
        history = await side.expect("history", lambda f: f["chat_id"] == chat_id)
        assert history["messages"] == [] and answer["top_seq"] == history["top_seq"] < 50
    top = history["top_seq"]
    sent = await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "after-clamp", "body": "Still here"})
    assert sent["seq"] == top + 1
    for side in (patron, ana):
        live = await side.expect("message", lambda f: f["message"]["body"] == "Still here")
        assert live["message"]["seq"] == top + 1
