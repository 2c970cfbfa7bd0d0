"""PostgreSQL access of Internal Chat (schema ``chat``): rooms, their messages with
per-room seqs, and read markers. Same storage rules as patron chat messages
(:mod:`.store`): the seq is handed out under the room's row lock in the transaction
that stores the message, a (room, author, cmid) key makes retries idempotent, and the
``posted`` event is enqueued in the outbox in that same transaction."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from refdesk import outbox
from refdesk.contracts.chat import InternalMessage, InternalMessagePosted, RoomAudience, internal_event_subject
from refdesk.ids import new_id

from . import internal

_COLUMNS = "id, room_id, seq, cmid, author_id, author_name, body, sent_at"

# Rooms as one operator ($1) sees them, with their read marker, unread count (messages
# of others after it) and latest message. {where} narrows the rooms further.
_ROOM_VIEWS = """
SELECT r.id, r.kind, r.department_id, r.member_a, r.member_b, r.last_seq,
       coalesce(rd.last_read_seq, 0) AS last_read_seq,
       (SELECT count(*) FROM internal_messages u
         WHERE u.room_id = r.id AND u.seq > coalesce(rd.last_read_seq, 0) AND u.author_id <> $1) AS unread,
       m.seq AS m_seq, m.author_id AS m_author_id, m.author_name AS m_author_name,
       left(m.body, 200) AS m_body, m.sent_at AS m_sent_at
FROM internal_rooms r
LEFT JOIN internal_reads rd ON rd.room_id = r.id AND rd.operator_id = $1
LEFT JOIN internal_messages m ON m.room_id = r.id AND m.seq = r.last_seq
WHERE {where}
"""

_ROOM_COLUMNS = "id, kind, department_id, member_a, member_b, last_seq"


class InternalStore:
    """Internal rooms, messages and read markers over one asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # --- rooms -----------------------------------------------------------------------

    async def ensure_standing(self, department_ids: Sequence[str]) -> None:
        """Create the All Staff room and the rooms of ``department_ids`` that do not
        exist yet (concurrent creators agree: the unique indexes keep one of each)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO internal_rooms (id, kind) VALUES ($1, 'all_staff') ON CONFLICT DO NOTHING",
                               new_id())
            for department_id in department_ids:
                await conn.execute(
                    "INSERT INTO internal_rooms (id, kind, department_id) VALUES ($1, 'department', $2)"
                    " ON CONFLICT DO NOTHING", new_id(), department_id)

    async def department_room_id(self, department_id: str) -> str:
        """The id of a department's standing room (created if missing)."""
        await self.ensure_standing([department_id])
        return await self._pool.fetchval(
            "SELECT id FROM internal_rooms WHERE kind = 'department' AND department_id = $1", department_id)

    async def direct_room_id(self, pair: tuple[str, str]) -> str:
        """The id of the direct room of two operators (sorted ids), created if missing."""
        await self._pool.execute(
            "INSERT INTO internal_rooms (id, kind, member_a, member_b) VALUES ($1, 'direct', $2, $3)"
            " ON CONFLICT DO NOTHING", new_id(), *pair)
        return await self._pool.fetchval(
            "SELECT id FROM internal_rooms WHERE kind = 'direct' AND member_a = $1 AND member_b = $2", *pair)

    async def audience(self, room_id: str) -> RoomAudience | None:
        """Whose the room is, or None for an unknown room."""
        row = await self._pool.fetchrow(f"SELECT {_ROOM_COLUMNS} FROM internal_rooms WHERE id = $1", room_id)
        return internal.audience(row) if row else None

    async def room_views(self, operator_id: str, department_ids: Sequence[str],
                         room_id: str | None = None) -> list[asyncpg.Record]:
        """View rows (see :func:`.internal.room_view`) of the rooms the operator is in
        (All Staff, their departments', their direct rooms), or of just ``room_id``."""
        where = ("(r.kind = 'all_staff' OR (r.kind = 'department' AND r.department_id = ANY($2::text[]))"
                 " OR (r.kind = 'direct' AND $1 IN (r.member_a, r.member_b)))"
                 " AND ($3::text IS NULL OR r.id = $3)")
        return await self._pool.fetch(_ROOM_VIEWS.format(where=where), operator_id, list(department_ids), room_id)

    # --- messages --------------------------------------------------------------------

    async def add_message(self, room: RoomAudience, *, cmid: str, author_id: str, author_name: str,
                          body: str) -> tuple[InternalMessage, bool]:
        """Store one (already cleaned) message with the room's next seq and enqueue its
        :class:`InternalMessagePosted`, in one transaction.

        Returns:
            (message, duplicate): when the author already stored a message with this
            cmid in the room (before, or in a concurrent send that won) it is returned
            unchanged with ``duplicate`` true and nothing is written.
        """
        key = (room.id, author_id, cmid)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                existing = await self._find(conn, *key)
                if existing is not None:
                    return existing, True
                seq = await conn.fetchval(
                    "UPDATE internal_rooms SET last_seq = last_seq + 1, last_posted_at = clock_timestamp()"
                    " WHERE id = $1 RETURNING last_seq", room.id)
                row = await conn.fetchrow(
                    f"INSERT INTO internal_messages ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp())"
                    f" RETURNING {_COLUMNS}", new_id(), room.id, seq, cmid, author_id, author_name, body)
                message = InternalMessage(**dict(row))
                event = InternalMessagePosted(event_id=new_id(), occurred_at=message.sent_at, message=message,
                                              room=room)
                await outbox.enqueue(conn, internal_event_subject(room.id), event)
                return message, False
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "internal_messages_cmid_unique":
                raise
        async with self._pool.acquire() as conn:  # a concurrent retry committed first
            winner = await self._find(conn, *key)
        if winner is None:  # pragma: no cover - the violating row is committed
            raise RuntimeError(f"internal message {key} vanished after a unique violation")
        return winner, True

    @staticmethod
    async def _find(conn: asyncpg.Connection, room_id: str, author_id: str, cmid: str) -> InternalMessage | None:
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM internal_messages WHERE room_id = $1 AND author_id = $2 AND cmid = $3",
            room_id, author_id, cmid)
        return InternalMessage(**dict(row)) if row else None

    async def history(self, room_id: str, *, after_seq: int, before_seq: int | None,
                      limit: int) -> tuple[list[InternalMessage], int]:
        """At most ``limit`` messages of a room and its latest seq, from one snapshot:
        with ``before_seq``, those just before it, newest first; otherwise those after
        ``after_seq``, oldest first."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            if before_seq is None:
                rows = await conn.fetch(
                    f"SELECT {_COLUMNS} FROM internal_messages WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    room_id, after_seq, limit)
            else:
                rows = await conn.fetch(
                    f"SELECT {_COLUMNS} FROM internal_messages WHERE room_id = $1 AND seq < $2"
                    " ORDER BY seq DESC LIMIT $3", room_id, before_seq, limit)
            top_seq = await conn.fetchval("SELECT last_seq FROM internal_rooms WHERE id = $1", room_id)
        return [InternalMessage(**dict(row)) for row in rows], top_seq or 0

    # --- read markers ----------------------------------------------------------------

    async def mark_read(self, room_id: str, operator_id: str, seq: int) -> None:
        """Move the operator's marker of the room to ``seq`` (capped at the room's
        latest seq); a marker never moves back."""
        await self._pool.execute(
            "INSERT INTO internal_reads AS rd (room_id, operator_id, last_read_seq)"
            " SELECT id, $2, LEAST($3, last_seq) FROM internal_rooms WHERE id = $1"
            " ON CONFLICT (room_id, operator_id) DO UPDATE"
            " SET last_read_seq = GREATEST(rd.last_read_seq, EXCLUDED.last_read_seq)",
            room_id, operator_id, seq)
