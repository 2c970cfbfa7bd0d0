"""PostgreSQL access of the tickets service (schema ``tickets``). :class:`TicketStore`
hands out :class:`Queries` bound to one connection, inside a transaction for writes.

Times are ``timestamptz`` (aware UTC datetimes in Python); a ticket's ``updated_at``
moves on every change; thread messages are ordered by ``(sent_at, id)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from refdesk import outbox
from refdesk.contracts.common import EventEnvelope
from refdesk.contracts.tickets import ListRequest
from refdesk.db import SchemaStore

_VIEW = """
    SELECT t.*, (SELECT count(*) FROM ticket_messages m WHERE m.ticket_id = t.id) AS message_count
    FROM tickets t
"""

_UPDATABLE = frozenset({
    "status", "department_id", "department_name", "owner_operator_id", "owner_operator_name",
    "assigned_department", "last_message_from",
})


def _like(text: str) -> str:
    """``%text%`` for ILIKE with ``%``, ``_`` and ``\\`` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class TicketStore(SchemaStore["Queries"]):
    """Access to the ``tickets`` schema through an asyncpg pool whose search path
    starts with that schema: ``transaction()`` / ``reading()`` yield :class:`Queries`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, Queries)

    async def ping(self) -> None:
        """Run a trivial query on the ``tickets`` table.

        Raises:
            asyncpg.PostgresError / OSError: the database does not answer.
        """
        await self._pool.fetchval("SELECT count(*) FROM (SELECT 1 FROM tickets LIMIT 1) AS one")


class Queries:
    """The statements of the tickets service, on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def enqueue(self, subject: str, event: EventEnvelope) -> None:
        """Add ``event`` to the outbox (published after commit by the relay)."""
        await outbox.enqueue(self.conn, subject, event)

    # --- tickets ------------------------------------------------------------------

    async def add_ticket(self, ticket_id: str, fields: dict[str, Any]) -> asyncpg.Record | None:
        """Insert a ticket (``fields``: column → value); return its view row, or
        ``None`` when a ticket with the same ``request_id`` exists."""
        columns = ["id", *fields]
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        inserted = await self.conn.fetchval(
            f"INSERT INTO tickets ({', '.join(columns)}) VALUES ({placeholders})"
            " ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING RETURNING id",
            ticket_id, *fields.values(),
        )
        return None if inserted is None else await self.ticket(inserted)

    async def ticket(self, ticket_id: str, *, lock: bool = False) -> asyncpg.Record | None:
        """A ticket's view row (with ``message_count``), or ``None``. ``lock`` holds the
        row until the transaction ends (concurrent changes of it wait)."""
        if lock:
            found = await self.conn.fetchval("SELECT id FROM tickets WHERE id = $1 FOR UPDATE", ticket_id)
            if found is None:
                return None
        return await self.conn.fetchrow(_VIEW + " WHERE t.id = $1", ticket_id)

    async def ticket_by_request_id(self, request_id: str) -> asyncpg.Record | None:
        """The ticket created with this client ``request_id``, or ``None``."""
        return await self.conn.fetchrow(_VIEW + " WHERE t.request_id = $1", request_id)

    async def update_ticket(self, ticket_id: str, **changes: Any) -> asyncpg.Record:
        """Change columns of a ticket (and ``updated_at``); return its view row."""
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=2))
        await self.conn.execute(
            f"UPDATE tickets SET {sets}{', ' if sets else ''}updated_at = clock_timestamp() WHERE id = $1",
            ticket_id, *changes.values(),
        )
        row = await self.ticket(ticket_id)
        assert row is not None
        return row

    async def search(self, req: ListRequest) -> tuple[list[asyncpg.Record], int, dict[str, int]]:
        """A page of tickets for ``req`` (most recently updated first), how many match
        in all, and the per-status counts in the caller's scope."""
        scope, scope_args = self._scope(req)
        where, args = list(scope), list(scope_args)
        if req.statuses:
            args.append(list(req.statuses))
            where.append(f"t.status = ANY(${len(args)}::text[])")
        if req.department_ids:
            args.append(list(req.department_ids))
            where.append(f"t.department_id = ANY(${len(args)}::text[])")
        if req.owner == "mine":
            args.append(req.viewer_id or "")
            where.append(f"t.owner_operator_id = ${len(args)}")
        elif req.owner == "unclaimed":
            where.append("t.owner_operator_id IS NULL")
        for word in (req.text or "").split()[:8]:
            args.append(_like(word))
            where.append(f"(t.subject || ' ' || t.question || ' ' || t.patron_name || ' '"
                         f" || coalesce(t.patron_email, '')) ILIKE ${len(args)}")
        clause = " WHERE " + " AND ".join(where) if where else ""
        total = await self.conn.fetchval(f"SELECT count(*) FROM tickets t{clause}", *args)
        rows = await self.conn.fetch(
            _VIEW + clause + f" ORDER BY t.updated_at DESC, t.id DESC LIMIT {req.limit} OFFSET {req.offset}", *args)
        scope_clause = " WHERE " + " AND ".join(scope) if scope else ""
        count_rows = await self.conn.fetch(
            f"SELECT status, count(*) AS n FROM tickets t{scope_clause} GROUP BY status", *scope_args)
        return list(rows), int(total), {row["status"]: int(row["n"]) for row in count_rows}

    @staticmethod
    def _scope(req: ListRequest) -> tuple[list[str], list[Any]]:
        """The visibility condition: the scope's departments, or the viewer's own tickets."""
        if req.scope_department_ids is None:
            return [], []
        return ["(t.department_id = ANY($1::text[]) OR t.owner_operator_id = $2)"], [
            list(req.scope_department_ids), req.viewer_id or ""]

    # --- thread -------------------------------------------------------------------

    async def add_message(self, message_id: str, ticket_id: str, *, kind: str, author: str, body: str,
                          author_id: str | None = None, mail_id: str | None = None,
                          mail_message_id: str | None = None) -> asyncpg.Record | None:
        """Append to a ticket's thread; ``None`` when a message with the same
        ``mail_message_id`` exists (an email delivered twice). ``mail_id``: the
        mail outbox row of the email this message was sent as."""
        return await self.conn.fetchrow(
            "INSERT INTO ticket_messages (id, ticket_id, kind, author, author_id, body, mail_id, mail_message_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (mail_message_id) WHERE mail_message_id IS NOT NULL DO NOTHING RETURNING *",
            message_id, ticket_id, kind, author, author_id, body, mail_id, mail_message_id,
        )

    async def messages(self, ticket_id: str) -> list[asyncpg.Record]:
        """A ticket's thread, oldest first, each with ``mail_status`` (the mail
        outbox's status of the email it was sent as, or NULL)."""
        return list(await self.conn.fetch(
            "SELECT m.*, o.status AS mail_status FROM ticket_messages m LEFT JOIN mail_outbox o ON o.id = m.mail_id"
            " WHERE m.ticket_id = $1 ORDER BY m.sent_at, m.id", ticket_id))

    async def ticket_of_mail(self, mail_message_ids: Sequence[str]) -> str | None:
        """The ticket of the newest email this service sent (a thread message with a
        mail outbox row: confirmation or staff reply) whose ``Message-ID`` is one of
        ``mail_message_ids`` (exact, angle brackets included), or ``None``. Patrons'
        own Message-IDs never match: they are not secret."""
        return await self.conn.fetchval(
            "SELECT ticket_id FROM ticket_messages WHERE mail_message_id = ANY($1::text[]) AND mail_id IS NOT NULL"
            " ORDER BY sent_at DESC, id DESC LIMIT 1",
            list(mail_message_ids))

    async def secret(self, ticket_id: str) -> str | None:
        """A ticket's reply-address secret, or ``None`` for an unknown ticket."""
        return await self.conn.fetchval("SELECT reply_secret FROM tickets WHERE id = $1", ticket_id)

    async def transcript(self, ticket_id: str) -> list[dict[str, Any]]:
        """The chat transcript kept with a ticket (``[]`` when none)."""
        return await self.conn.fetchval("SELECT transcript FROM tickets WHERE id = $1", ticket_id) or []

    async def last_mail_id(self, ticket_id: str) -> str | None:
        """The ``Message-ID`` of the latest email of a ticket (ours or the patron's),
        or ``None`` — what a new reply answers (``In-Reply-To``)."""
        return await self.conn.fetchval(
            "SELECT mail_message_id FROM ticket_messages WHERE ticket_id = $1 AND mail_message_id IS NOT NULL"
            " ORDER BY sent_at DESC, id DESC LIMIT 1", ticket_id)
