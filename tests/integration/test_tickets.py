"""The tickets service skeleton against real NATS + PostgreSQL: it migrates its
schema, registers as ``nats.micro`` service ``tickets`` and answers its health check."""

from __future__ import annotations

import json

import asyncpg
import pytest

from refdesk import bus
from refdesk.contracts import tickets
from refdesk.contracts.common import Empty, Ok
from services.tickets.config import TICKET_STATUSES
from tests.support import running

pytestmark = pytest.mark.integration


async def test_tickets_migrates_and_answers_ping_and_health(servers) -> None:
    async with running(servers, "tickets") as stack:
        ping = json.loads((await stack.nc.request(f"$SRV.PING.{tickets.SERVICE}", b"", timeout=2)).data)
        assert ping["name"] == "tickets"
        assert await bus.request(stack.nc, tickets.HEALTH, Empty(), Ok) == Ok(ok=True)

        conn = await asyncpg.connect(stack.settings.database_url)
        try:
            tables = {r["table_name"] for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'tickets'")}
            assert {"tickets", "outbox", "schema_migrations"} <= tables

            insert = ("INSERT INTO tickets.tickets (id, department_id, status, subject, patron_name, question)"
                      " VALUES ($1, 'reference', $2, 'Interlibrary loan', 'Maya', 'Can you get this book?')")
            for status in TICKET_STATUSES:
                await conn.execute(insert, f"t-{status}", status)
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute(insert, "t-bad", "Resolved")
        finally:
            await conn.close()
