"""Transactional outbox: events are stored in the same PostgreSQL transaction as the
change they describe, then published to JetStream by a relay.

Every service schema has an ``outbox`` table (``id`` bigserial, unique ``event_id``,
``subject``, ``payload`` bytea, ``created_at``), created by the migration runner
(:data:`refdesk.db.OUTBOX_TABLE`).

A crash between commit and publish loses nothing: the row stays until the relay has
published it (JetStream drops a repeated ``Nats-Msg-Id`` within its 2-minute window,
so a relay that publishes then crashes before deleting causes no duplicate). Only one
relay per schema runs at a time (transaction-level advisory lock), which keeps the
events of a chat in commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib

import asyncpg
import structlog
from nats.aio.client import Client

from .bus import publish_event
from .contracts.common import EventEnvelope

log = structlog.get_logger()


async def enqueue(conn: asyncpg.Connection, subject: str, event: EventEnvelope) -> None:
    """Add ``event`` to the outbox inside the caller's transaction."""
    await conn.execute(
        "INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING",
        event.event_id,
        subject,
        event.model_dump_json().encode(),
    )


class OutboxRelay:
    """Publishes outbox rows of one schema to JetStream, oldest first.

    Call :meth:`wake` after committing a transaction that enqueued events; the relay
    also polls every ``poll_seconds`` to pick up rows left by a crashed process.
    """

    def __init__(self, pool: asyncpg.Pool, nc: Client, schema: str, *, poll_seconds: float = 1.0) -> None:
        self._pool = pool
        self._nc = nc
        self._poll = poll_seconds
        self._wakeup = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock_key = int.from_bytes(hashlib.sha256(f"refdesk-outbox:{schema}".encode()).digest()[:8], "big", signed=True)

    def wake(self) -> None:
        """Ask the relay to publish now."""
        self._wakeup.set()

    def start(self) -> None:
        """Start the relay task (call once, inside the running event loop)."""
        self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self) -> None:
        """Publish what is pending (best effort), then stop."""
        self._stop.set()
        self._wakeup.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                while await self.flush():
                    pass
            except Exception:
                log.exception("outbox.publish_failed")
                await asyncio.sleep(self._poll)
            if self._stop.is_set():
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll)
            self._wakeup.clear()

    async def flush(self, limit: int = 200) -> int:
        """Publish up to ``limit`` pending events; return how many were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", self._lock_key):
                return 0
            rows = await conn.fetch("SELECT id, event_id, subject, payload FROM outbox ORDER BY id LIMIT $1", limit)
            for row in rows:
                await publish_event(self._nc, row["subject"], row["event_id"], bytes(row["payload"]))
            if rows:
                await conn.execute("DELETE FROM outbox WHERE id <= $1", rows[-1]["id"])
            return len(rows)
