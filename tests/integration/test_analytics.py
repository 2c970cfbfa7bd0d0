"""The analytics service against real NATS (JetStream) and PostgreSQL: chat facts
from events (out of order, redelivered, streams created after analytics started),
Reference Analytics datasets and records, the HTTP reporting API and its
authentication, and facts of a chat driven through the real queue and chat services."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest
from nats.aio.client import Client

from refdesk import auth
from refdesk.bus import BusError, ensure_stream, request
from refdesk.contracts import analytics as an
from refdesk.contracts import chat, queue
from refdesk.ids import new_id
from tests.analytics_api import operator_api
from tests.support import Stack, eventually, running

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 30, 14, 0, 0, 250000, tzinfo=timezone.utc)
VALID = {"location": "Chat", "mode": "Chat", "duration": 7.5}



def patron_api(stack: Stack, chat_id: str) -> httpx.AsyncClient:
    """An HTTP client for the reporting API carrying a patron's token (always refused)."""
    token = auth.issue_token(stack.settings.jwt_secret, subject=chat_id, role="patron", name="Pat", ttl_seconds=600)
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.analytics_port}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=5.0)


async def fact_where(api: httpx.AsyncClient, chat_id: str, ready: Callable[[dict], bool]) -> dict:
    """Poll ``GET /api/chats/{chat_id}`` until the fact satisfies ``ready``."""

    async def probe() -> dict | None:
        response = await api.get(f"/api/chats/{chat_id}")
        return response.json() if response.status_code == 200 and ready(response.json()) else None

    return await eventually(probe, what=f"the facts of chat {chat_id}")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# -- facts from events published by the test ----------------------------------------------


def chat_event(chat_id: str, kind: queue.ChatEventType, occurred_at: datetime, **chat_fields: Any) -> queue.ChatEvent:
    view = queue.ChatView(id=chat_id, department_id="reference", department_name="Reference",
                          patron_name="Pat", question="Do you have the 1910 city atlas?", queued_at=T0, **chat_fields)
    return queue.ChatEvent(event_id=new_id(), type=kind, chat=view, occurred_at=occurred_at)


async def publish(nc: Client, subject: str, event: Any, *, msg_id: str | None = None) -> int:
    """Publish ``event`` to JetStream; return its stream sequence."""
    ack = await nc.jetstream().publish(subject, event.model_dump_json().encode(),
                                       headers={"Nats-Msg-Id": msg_id or event.event_id})
    return ack.seq


async def test_facts_from_out_of_order_events_on_streams_created_later(servers) -> None:
    async with running(servers, "queue", "analytics") as stack, await operator_api(stack, "ana") as api:
        chat_id = new_id()
        missing = await api.get(f"/api/chats/{chat_id}")
        assert missing.status_code == 404
        assert chat_id in missing.json()["detail"]

        # Analytics is already running: its consumers must pick the streams up once they exist.
        await ensure_stream(stack.nc, queue.STREAM, queue.STREAM_SUBJECTS)
        await ensure_stream(stack.nc, chat.STREAM, chat.STREAM_SUBJECTS)
        claimed_at = T0 + timedelta(seconds=42, microseconds=125)
        first_reply_at = claimed_at + timedelta(seconds=4)
        ended_at = claimed_at + timedelta(minutes=6, seconds=1.5)
        owner = {"claimed_by": "op-ana", "claimed_by_name": "Ana"}
        queued = chat_event(chat_id, "queued", T0, state="queued")
        claimed = chat_event(chat_id, "claimed", claimed_at, state="active", claimed_at=claimed_at, **owner)
        ended = chat_event(chat_id, "ended", ended_at, state="ended", claimed_at=claimed_at, ended_at=ended_at,
                           ended_by="patron", **owner)
        reply = chat.MessagePosted(event_id=new_id(), message=chat.Message(
            id=new_id(), chat_id=chat_id, seq=2, cmid="c-1", author_kind="operator", author_id="op-ana",
            author_name="Ana", body="Let me check the catalogue.", sent_at=first_reply_at))
        # Newest first: the late, older events must not erase what the newer ones told.
        await publish(stack.nc, queue.chat_event_subject(chat_id, "ended"), ended)
        await publish(stack.nc, chat.message_event_subject(chat_id), reply)
        await publish(stack.nc, queue.chat_event_subject(chat_id, "claimed"), claimed)
        last_seq = await publish(stack.nc, queue.chat_event_subject(chat_id, "queued"), queued)

        fact = await fact_where(api, chat_id, lambda f: f["first_response_at"] is not None)
        await wait_acked(stack.nc, queue.STREAM, "analytics-facts", last_seq)
        fact = (await api.get(f"/api/chats/{chat_id}")).json()
        assert fact["state"] == "ended" and fact["ended_by"] == "patron"
        assert fact["department_id"] == "reference" and fact["patron_name"] == "Pat"
        assert fact["operator_id"] == "op-ana"
        assert (at(fact["queued_at"]), at(fact["claimed_at"]), at(fact["ended_at"])) == (T0, claimed_at, ended_at)
        assert fact["queued_at"].endswith("Z")
        assert fact["wait_seconds"] == pytest.approx(42.000125, abs=1e-6)
        assert fact["duration_seconds"] == pytest.approx(361.5, abs=1e-6)
        assert fact["first_response_seconds"] == pytest.approx(4.0, abs=1e-6)
        assert fact["message_count"] == 2 and fact["missed"] is False

        # A redelivered / replayed event (same payload, published again) changes nothing.
        before = await fact_row(stack, chat_id)
        seq = await publish(stack.nc, queue.chat_event_subject(chat_id, "claimed"), claimed, msg_id=new_id())
        await wait_acked(stack.nc, queue.STREAM, "analytics-facts", seq)
        assert await fact_row(stack, chat_id) == before
        listed = (await api.get("/api/chats", params={"chat_id": chat_id})).json()["chats"]
        assert listed == [fact]


async def wait_acked(nc: Client, stream: str, durable: str, seq: int) -> None:
    """Wait until the durable consumer has acknowledged stream sequence ``seq``."""

    async def probe() -> bool:
        info = await nc.jetstream().consumer_info(stream, durable)
        return info.ack_floor.stream_seq >= seq and not info.num_ack_pending

    await eventually(probe, what=f"{durable} to acknowledge message {seq}")


async def fact_row(stack: Stack, chat_id: str) -> dict:
    """The stored chat_facts row, ``updated_at`` included."""
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        return dict(await conn.fetchrow("SELECT * FROM analytics.chat_facts WHERE chat_id = $1", chat_id))
    finally:
        await conn.close()


# -- Reference Analytics and the reporting API ---------------------------------------------


async def test_dataset_records_and_reporting_api(servers) -> None:
    # Cleo is an admin: she sees every department's records and the hand entries without one.
    async with running(servers, "queue", "analytics") as stack, await operator_api(stack, "cleo") as api:
        nc = stack.nc
        dataset = await request(nc, an.DATASET_GET, an.DatasetRequest(), an.Dataset)
        assert (dataset.id, dataset.name) == ("default", "Reference Analytics")
        assert [f.key for f in dataset.fields] == ["location", "mode", "duration", "referred_by", "question_type",
                                                   "read_scale", "question", "answer", "internal_note"]
        assert dataset.fields[2].unit == "minutes"
        with pytest.raises(BusError) as unknown:
            await request(nc, an.DATASET_GET, an.DatasetRequest(dataset_id="nope"), an.Dataset)
        assert unknown.value.code == "404"

        with pytest.raises(BusError) as refused:
            await request(nc, an.RECORD_CREATE, an.RecordCreate(
                dataset_id="default", operator_id="op-ben", values={"duration": 5, "question": "Maps?"}), an.RaRecord)
        assert refused.value.code == "422"
        assert refused.value.message == "Please fill in: Location, Mode."

        chat_id = new_id()
        saved = await request(nc, an.RECORD_CREATE, an.RecordCreate(
            dataset_id="default", operator_id="op-ben", chat_id=chat_id, department_id="archives",
            values={**VALID, "question": " Where are the maps? "}), an.RaRecord)
        assert saved.values == {**VALID, "question": "Where are the maps?"}
        by_hand = await request(nc, an.RECORD_CREATE, an.RecordCreate(
            dataset_id="default", operator_id="op-cleo", values={**VALID, "mode": "in person"}), an.RaRecord)
        assert by_hand.values["mode"] == "In person"
        # Saving the form again for the same chat records another question of that chat.
        second = await request(nc, an.RECORD_CREATE, an.RecordCreate(
            dataset_id="default", operator_id="op-ben", chat_id=chat_id, department_id="archives",
            values={**VALID, "duration": 9}), an.RaRecord)
        assert second.id != saved.id and (second.department_id, second.values["duration"]) == ("archives", 9)

        listed = (await api.get("/api/records", params={"chat_id": chat_id})).json()["records"]
        assert [(r["id"], r["operator_id"], r["values"]["duration"]) for r in listed] == [
            (second.id, "op-ben", 9), (saved.id, "op-ben", 7.5)]
        newest_first = (await api.get("/api/records")).json()["records"]
        assert [r["id"] for r in newest_first] == [second.id, by_hand.id, saved.id]
        by_operator = (await api.get("/api/records", params={"operator_id": "op-cleo", "limit": 500})).json()
        assert [r["id"] for r in by_operator["records"]] == [by_hand.id]
        assert (await api.get("/api/records", params={"limit": 501})).status_code == 422

        base = str(api.base_url)
        async with httpx.AsyncClient(base_url=base) as anonymous:
            assert (await anonymous.get("/healthz")).json() == {"status": "ok", "database": True}
            no_token = await anonymous.get("/api/records")
            assert no_token.status_code == 401 and "Bearer" in no_token.json()["detail"]
            forged = await anonymous.get("/api/chats", headers={"Authorization": "Bearer not-a-token"})
            assert forged.status_code == 401 and "sign in again" in forged.json()["detail"]
            assert "/api/chats/{chat_id}" in (await anonymous.get("/openapi.json")).json()["paths"]
            # the API docs page works without internet access: its assets are served here
            docs = (await anonymous.get("/docs")).text
            assert "https://" not in docs and "/docs-assets/swagger-ui-bundle.js" in docs
            bundle = await anonymous.get("/docs-assets/swagger-ui-bundle.js")
            assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
            gateway = f"http://localhost:{stack.settings.gateway_port}"
            cors = await anonymous.get("/healthz", headers={"Origin": gateway})
            assert cors.headers["access-control-allow-origin"] == gateway
            assert "access-control-allow-origin" not in (
                await anonymous.get("/healthz", headers={"Origin": "http://evil.example"})).headers
        async with patron_api(stack, chat_id) as patron:
            assert (await patron.get("/api/records")).status_code == 401


# -- a chat through the real queue and chat services ------------------------------------------


async def test_facts_of_a_chat_through_queue_and_chat(servers) -> None:
    async with running(servers, "queue", "chat", "analytics") as stack:
        nc = stack.nc
        ana = await request(nc, queue.AUTHENTICATE,
                            queue.AuthenticateRequest(username="ana", password="librarian"), queue.OperatorProfile)
        await request(nc, queue.OPERATOR_STATUS, queue.SetStatusRequest(operator_id=ana.id, status="online"),
                      queue.OperatorProfile)
        created = await request(nc, queue.CHAT_CREATE, queue.CreateChatRequest(
            department_id="reference", patron_name="Pat", question="Do you have the 1910 city atlas?"), queue.ChatView)
        claimed = await request(nc, queue.CHAT_CLAIM, queue.ClaimRequest(chat_id=created.id, operator_id=ana.id),
                                queue.ChatView)
        await request(nc, chat.SEND, chat.SendRequest(
            chat_id=created.id, cmid="welcome", author_kind="operator", author_id=ana.id, author_name="Ana",
            body="Hi, I'm reading over your question."), chat.SendAck)
        ended = await request(nc, queue.CHAT_END, queue.EndRequest(
            chat_id=created.id, ended_by="operator", operator_id=ana.id), queue.ChatView)
        assert ended.claimed_at is not None and ended.ended_at is not None

        async with await operator_api(stack, "ana") as api:
            fact = await fact_where(api, created.id, lambda f: f["duration_seconds"] is not None
                                    and f["first_response_at"] is not None)
        assert (fact["operator_id"], fact["department_id"], fact["ended_by"]) == (ana.id, "reference", "operator")
        millisecond = timedelta(milliseconds=1)
        assert abs(at(fact["queued_at"]) - created.queued_at) < millisecond
        assert abs(at(fact["claimed_at"]) - claimed.claimed_at) < millisecond
        assert abs(at(fact["ended_at"]) - ended.ended_at) < millisecond
        assert fact["wait_seconds"] == pytest.approx((claimed.claimed_at - created.queued_at).total_seconds(), abs=1e-3)
        assert fact["duration_seconds"] == pytest.approx((ended.ended_at - claimed.claimed_at).total_seconds(), abs=1e-3)
        assert fact["first_response_seconds"] >= 0

        record = await request(nc, an.RECORD_CREATE, an.RecordCreate(
            dataset_id="default", operator_id=ana.id, chat_id=created.id, values=VALID), an.RaRecord)
        assert record.department_id == "reference"  # taken from the chat's facts


# -- a chat's record, and values that must read as a 422 ----------------------------------


async def test_a_chats_record_is_found_by_its_chat(servers) -> None:
    async with running(servers, "analytics") as stack:
        nc, chat_id = stack.nc, new_id()
        with pytest.raises(BusError) as none_yet:
            await request(nc, an.RECORD_FOR_CHAT, an.ChatRecordRequest(chat_id=chat_id), an.RaRecord)
        assert (none_yet.value.code, none_yet.value.message) == (
            "404", "This chat has no Reference Analytics record yet.")

        saved = await request(nc, an.RECORD_CREATE, an.RecordCreate(
            dataset_id="default", operator_id="op-ben", chat_id=chat_id, values=VALID), an.RaRecord)
        found = await request(nc, an.RECORD_FOR_CHAT, an.ChatRecordRequest(chat_id=chat_id), an.RaRecord)
        assert found == saved
        corrected = await request(nc, an.RECORD_CREATE, an.RecordCreate(
            dataset_id="default", operator_id="op-ben", chat_id=chat_id, values={**VALID, "answer": "The map room."}),
            an.RaRecord)
        found = await request(nc, an.RECORD_FOR_CHAT, an.ChatRecordRequest(chat_id=chat_id, dataset_id="default"),
                              an.RaRecord)
        assert (found.id, found.values) == (corrected.id, corrected.values)  # the newest of the chat's records


async def test_values_that_cannot_be_stored_as_given_are_cleaned_or_refused_readably(servers) -> None:
    async with running(servers, "analytics") as stack:
        nc = stack.nc

        async def create(values: dict[str, Any]) -> an.RaRecord:
            return await request(nc, an.RECORD_CREATE, an.RecordCreate(
                dataset_id="default", operator_id="op-ana", chat_id=new_id(), values=values), an.RaRecord)

        stored = await create({**VALID, "question": "Maps\x00 of\r\n1890?", "answer": " \x00 "})
        assert stored.values == {**VALID, "question": "Maps of\n1890?"}
        for duration in (10**400, "1e400"):
            with pytest.raises(BusError) as refused:
                await create({**VALID, "duration": duration})
            assert (refused.value.code, refused.value.message) == (
                "422", "Duration must be a number of minutes from 0 to 1,440.")
        with pytest.raises(BusError) as unknown:
            await create({**VALID, "x" * 3000: "y"})
        assert (unknown.value.code, unknown.value.message) == ("422", "The form has 1 unknown field.")

        # a payload from another client, not built with the contract: nesting is a 400
        raw = {"dataset_id": "default", "operator_id": "op-ana", "values": {**VALID, "answer": {"a": [1]}}}
        msg = await nc.request(an.RECORD_CREATE, json.dumps(raw).encode(), timeout=5)
        assert msg.headers and msg.headers["Nats-Service-Error-Code"] == "400"
        assert "answer" in msg.headers["Nats-Service-Error"]
