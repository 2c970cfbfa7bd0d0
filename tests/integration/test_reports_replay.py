"""Replay: the chat-facts read model rebuilt from the streams equals the live one —
for the generated history (shuffled, partly redelivered) and for chats driven through
the real queue, chat and tickets services (answered, missed then ticketed, dismissed); a rebuild into an emptied
model restores it, and events consumed after a rebuild still apply once."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from refdesk import auth, db
from refdesk.bus import request
from refdesk.contracts import chat, queue, tickets
from services.analytics.facts_store import FactsStore
from services.analytics.rebuild import Fold, rebuild_command, replay
from tests.integration import reports_history
from tests.support import Stack, eventually, running

pytestmark = pytest.mark.integration


def api(stack: Stack, operator_id: str) -> httpx.AsyncClient:
    token = auth.issue_token(stack.settings.jwt_secret, subject=operator_id, role="operator", name="T",
                             ttl_seconds=600)
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.analytics_port}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=20.0)


async def sign_in(stack: Stack, username: str) -> queue.OperatorProfile:
    return await request(stack.nc, queue.AUTHENTICATE,
                         queue.AuthenticateRequest(username=username, password="librarian"), queue.OperatorProfile)


async def snapshot(pool: asyncpg.Pool) -> tuple:
    """The whole read model: facts, applied keys, status changes."""
    store = FactsStore(pool)
    keys = {row["key"] for row in await pool.fetch("SELECT key FROM fact_events")}
    changes = await pool.fetch("SELECT * FROM operator_status_log ORDER BY event_id")
    return await store.all_facts(), keys, [dict(row) for row in changes]


async def assert_rebuild_equals_live(stack: Stack, admin: httpx.AsyncClient, pool: asyncpg.Pool) -> tuple:
    live = await snapshot(pool)
    folded = Fold()
    await replay(stack.nc, folded)  # the pure fold over the streams …
    assert sorted(folded.facts.values(), key=lambda f: f.chat_id) == live[0]  # … equals the live model
    assert folded.keys == live[1]

    response = await admin.post("/api/admin/rebuild")
    assert response.status_code == 200, response.text
    assert response.json()["chats"] == len(live[0])
    assert await snapshot(pool) == live  # swapping in the rebuilt model changes nothing

    await pool.execute("DELETE FROM chat_facts; DELETE FROM fact_events; DELETE FROM operator_status_log")
    assert (await admin.post("/api/admin/rebuild")).status_code == 200
    assert await snapshot(pool) == live  # an emptied model comes back whole
    return live


async def test_rebuild_of_the_generated_history_equals_the_live_model(servers) -> None:
    async with running(servers, "queue", "analytics", time_zone="America/New_York") as stack:
        history = reports_history.build("r")
        await reports_history.publish(stack.nc, history)
        admin = await sign_in(stack, "cleo")
        pool = await db.create_pool(stack.settings.database_url, schema="analytics")
        try:
            async with api(stack, admin.id) as client:

                async def all_applied() -> bool:
                    keys = await pool.fetchval("SELECT count(*) FROM fact_events")
                    statuses = await pool.fetchval("SELECT count(*) FROM operator_status_log")
                    # every chat event, message and the one ticket: distinct keys of the history
                    return keys == sum(1 for _, e in history.events if e.type != "status") and statuses == 5

                await eventually(all_applied, timeout=30, what="the live model to fold the history")
                live = await assert_rebuild_equals_live(stack, client, pool)
                assert len(live[0]) == 11

                # An event consumed after the rebuild applies on top, once.
                late = reports_history.History("late")
                c = reports_history.Chat("r-c9", "reference", reports_history.local("2026-11-02 08:00"))
                late.chat_event(c, "ended", 60, c.view("ended", ended_at=c.at(60), ended_by="patron"))
                await reports_history.publish(stack.nc, late)

                async def c9_missed() -> bool:
                    fact = await FactsStore(pool).get("r-c9")
                    return fact is not None and fact.outcome == "missed"

                await eventually(c9_missed, what="the late event to apply")
                live = await assert_rebuild_equals_live(stack, client, pool)

                # `python -m services.analytics rebuild` does the same from the command line.
                result = await rebuild_command(stack.settings)
                assert (result.chats, result.status_changes) == (11, 5)
                assert await snapshot(pool) == live
        finally:
            await pool.close()


async def test_answered_missed_dismissed_and_ticketed_chats_through_the_real_services(servers) -> None:
    async with running(servers, "queue", "chat", "tickets", "analytics") as stack:
        nc = stack.nc
        ana, admin = await sign_in(stack, "ana"), await sign_in(stack, "cleo")
        await request(nc, queue.OPERATOR_STATUS, queue.SetStatusRequest(
            operator_id=ana.id, status="online", monitored=["reference"]), queue.OperatorProfile)
        answered = await request(nc, queue.CHAT_CREATE, queue.CreateChatRequest(
            department_id="reference", patron_name="Pat", question="Do you have the 1910 city atlas?"), queue.ChatView)
        missed = await request(nc, queue.CHAT_CREATE, queue.CreateChatRequest(
            department_id="reference", patron_name="Sam", question="Are you open Sunday?"), queue.ChatView)
        claimed = await request(nc, queue.CHAT_CLAIM, queue.ClaimRequest(chat_id=answered.id, operator_id=ana.id),
                                queue.ChatView)
        reply = await request(nc, chat.SEND, chat.SendRequest(
            chat_id=answered.id, cmid="welcome", author_kind="operator", author_id=ana.id, author_name="Ana",
            body="Hi, I'm reading over your question.", chat=claimed), chat.SendAck)
        ended = await request(nc, queue.CHAT_END, queue.EndRequest(
            chat_id=answered.id, ended_by="operator", operator_id=ana.id), queue.ChatView)
        left = await request(nc, queue.CHAT_END, queue.EndRequest(chat_id=missed.id, ended_by="patron"),
                             queue.ChatView)
        spam = await request(nc, queue.CHAT_CREATE, queue.CreateChatRequest(
            department_id="reference", patron_name="Bot", question="Buy cheap watches"), queue.ChatView)
        await request(nc, queue.CHAT_DISMISS, queue.DismissRequest(chat_id=spam.id, operator_id=ana.id),
                      queue.ChatView)
        await request(nc, tickets.CREATE_FROM_CHAT, tickets.CreateFromChatRequest(
            operator_id=ana.id, operator_name="Ana", chat_id=missed.id, department_id="reference",
            department_name="Reference", patron_name="Sam", patron_email="sam@example.org",
            question="Are you open Sunday?"), tickets.TicketView)
        today = ended.ended_at.date().isoformat()
        pool = await db.create_pool(stack.settings.database_url, schema="analytics")
        try:
            async with api(stack, ana.id) as client, api(stack, admin.id) as admin_client:

                async def export() -> dict | None:
                    response = await client.get("/api/reports/chats", params={"from": today, "to": today})
                    rows = {r["chat_id"]: r for r in response.json()["rows"]}
                    done = rows.get(answered.id, {}).get("first_response_seconds") is not None and \
                        rows.get(answered.id, {}).get("duration_seconds") is not None and \
                        rows.get(missed.id, {}).get("ticketed") is True and \
                        rows.get(spam.id, {}).get("outcome") == "dismissed"
                    return rows if done else None

                rows = await eventually(export, timeout=20, what="both chats in the facts export")
                row = rows[answered.id]
                assert (row["outcome"], row["first_operator_id"], row["operators"]) == ("answered", ana.id, [ana.id])
                ms = timedelta(milliseconds=1).total_seconds()
                assert row["wait_seconds"] == pytest.approx(
                    (claimed.claimed_at - answered.queued_at).total_seconds(), abs=ms)
                assert row["first_response_seconds"] == pytest.approx(
                    (reply.sent_at - claimed.claimed_at).total_seconds(), abs=ms)
                assert row["duration_seconds"] == pytest.approx(
                    (ended.ended_at - claimed.claimed_at).total_seconds(), abs=ms)
                assert row["messages_operator"] == 1 and row["messages_patron"] >= 1
                lost = rows[missed.id]
                assert (lost["outcome"], lost["wait_seconds"], lost["ended_by"]) == ("missed", None, "patron")
                assert (lost["ticketed"], left.claimed_at) == (True, None)
                assert (rows[spam.id]["outcome"], rows[spam.id]["duration_seconds"]) == ("dismissed", None)
                summary = (await client.get("/api/reports/summary", params={"from": today, "to": today})).json()
                first = summary["rows"][0]
                assert (first["chats"], first["answered"], first["missed"], first["dismissed"], first["ticketed"],
                        first["missed_rate"], first["wait"]["n"]) == (3, 1, 1, 1, 1, 0.5, 1)

                async def coverage() -> list | None:
                    response = await client.get("/api/reports/coverage", params={"from": today, "to": today})
                    return [r for r in response.json()["rows"] if r["operator_id"] == ana.id] or None

                assert [r["department_id"] for r in await eventually(coverage, what="ana's coverage")] == ["reference"]
                await assert_rebuild_equals_live(stack, admin_client, pool)
        finally:
            await pool.close()
