"""PostgreSQL access of the chat service (schema ``chat``)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from refdesk import outbox
from refdesk.bus import Conflict
from refdesk.contracts.chat import (
    CannedMessage, Message, MessagePosted, Screenshare, ScreenshareEvent, SendRequest, message_event_subject,
    screenshare_event_subject,
)
from refdesk.ids import new_id

_MESSAGE_COLUMNS = "id, chat_id, seq, cmid, author_kind, author_id, author_name, body, sent_at, internal"

_SCREENSHARE_COLUMNS = (
    "id, chat_id, state, operator_id, operator_name, requested_at, answered_at, join_url, host_url, provider"
)

# Takes the chat's counter row lock for the rest of the transaction: sends to one chat
# queue here, so the ``ended`` read below is never stale. RETURNING gives the new row;
# ``was_ended`` tells whether the end had been recorded before this message.
_BUMP_COUNTER = """
INSERT INTO chat_counters AS c (chat_id, last_seq, ended) VALUES ($1, 1, $2)
ON CONFLICT (chat_id) DO UPDATE SET last_seq = c.last_seq + 1, ended = c.ended OR $2
RETURNING last_seq, ended AND NOT $2 AS was_ended
"""


class ChatStore:
    """Messages, per-chat counters and canned messages over one asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_message(
        self, request: SendRequest, *, after_end: bool = False, ends: bool = False,
    ) -> tuple[Message, bool]:
        """Store one (already normalised) message and enqueue its ``MessagePosted``
        event, in one transaction.

        Args:
            after_end: store it even when the chat's end is recorded (lifecycle
                messages: a late question or join is still part of the transcript).
            ends: this message records the chat's end; the chat's ``ended`` flag is
                set in the same transaction.

        Returns:
            (message, duplicate): when a message with the same (chat, author kind,
            cmid) exists — stored before, or by a concurrent send that won — it is
            returned unchanged with ``duplicate`` true and nothing is written.

        Raises:
            Conflict: (409) "This chat has ended." — the end is recorded (checked under
                the chat's counter row lock) and ``after_end`` is false; nothing is
                written.
        """
        key = (request.chat_id, request.author_kind, request.cmid)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                existing = await self._find(conn, *key)
                if existing is not None:
                    return existing, True
                seq, was_ended = await conn.fetchrow(_BUMP_COUNTER, request.chat_id, ends)
                if was_ended and not after_end:
                    raise Conflict("This chat has ended.")  # rolls the bump back
                row = await conn.fetchrow(
                    f"INSERT INTO messages ({_MESSAGE_COLUMNS})"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp(), $9)"
                    f" RETURNING {_MESSAGE_COLUMNS}",
                    new_id(), request.chat_id, seq, request.cmid, request.author_kind,
                    request.author_id, request.author_name, request.body, request.internal,
                )
                message = Message(**dict(row))
                event = MessagePosted(event_id=new_id(), occurred_at=message.sent_at, message=message)
                await outbox.enqueue(conn, message_event_subject(message.chat_id), event)
                return message, False
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "messages_cmid_unique":
                raise
        # A concurrent send with the same cmid committed first; this transaction (and
        # its counter bump) was rolled back, so answer with the winner's message.
        async with self._pool.acquire() as conn:
            winner = await self._find(conn, *key)
        if winner is None:  # pragma: no cover - the violating row is committed
            raise RuntimeError(f"message {key} vanished after a unique violation")
        return winner, True

    async def stored_keys(self, chat_id: str, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of the ``(author_kind, cmid)`` keys that a stored message of the chat has."""
        wanted = set(keys)
        rows = await self._pool.fetch(
            "SELECT author_kind, cmid FROM messages WHERE chat_id = $1 AND cmid = ANY($2::text[])",
            chat_id, sorted({cmid for _, cmid in wanted}),
        )
        return {(row["author_kind"], row["cmid"]) for row in rows} & wanted

    @staticmethod
    async def _find(conn: asyncpg.Connection, chat_id: str, author_kind: str, cmid: str) -> Message | None:
        row = await conn.fetchrow(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = $1 AND author_kind = $2 AND cmid = $3",
            chat_id, author_kind, cmid,
        )
        return Message(**dict(row)) if row else None

    async def history(
        self, chat_id: str, after_seq: int, limit: int, *, include_internal: bool = False,
    ) -> tuple[list[Message], int]:
        """Messages of a chat with ``seq > after_seq``, ascending, at most ``limit``, and
        the chat's latest seq (0 when it has none; internal notes count), read from one
        snapshot. Internal notes are left out in the query unless ``include_internal``."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await conn.fetch(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = $1 AND seq > $2"
                " AND (NOT internal OR $4::boolean) ORDER BY seq LIMIT $3",
                chat_id, after_seq, limit, include_internal,
            )
            top_seq = await conn.fetchval("SELECT last_seq FROM chat_counters WHERE chat_id = $1", chat_id)
        return [Message(**dict(row)) for row in rows], top_seq or 0

    # --- screenshare requests ----------------------------------------------------

    async def add_screenshare(self, chat_id: str, operator_id: str, operator_name: str) -> tuple[Screenshare, bool]:
        """A pending screenshare request of the chat: a new one (its ``pending`` event
        enqueued in the same transaction), or the one already pending.

        Returns:
            (request, created).
        """
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"INSERT INTO screenshare_requests (id, chat_id, operator_id, operator_name) VALUES ($1, $2, $3, $4)"
                f" ON CONFLICT (chat_id) WHERE state = 'pending' DO NOTHING RETURNING {_SCREENSHARE_COLUMNS}",
                new_id(), chat_id, operator_id, operator_name,
            )
            if row is None:
                pending = await conn.fetchrow(
                    f"SELECT {_SCREENSHARE_COLUMNS} FROM screenshare_requests WHERE chat_id = $1 AND state = 'pending'",
                    chat_id,
                )
                return Screenshare(**dict(pending)), False
            request = Screenshare(**dict(row))
            await self._enqueue_screenshare(conn, request)
            return request, True

    async def screenshare(self, request_id: str) -> Screenshare | None:
        """One screenshare request, or None."""
        row = await self._pool.fetchrow(
            f"SELECT {_SCREENSHARE_COLUMNS} FROM screenshare_requests WHERE id = $1", request_id)
        return Screenshare(**dict(row)) if row else None

    async def latest_screenshare(self, chat_id: str) -> Screenshare | None:
        """The chat's most recent screenshare request, or None."""
        row = await self._pool.fetchrow(
            f"SELECT {_SCREENSHARE_COLUMNS} FROM screenshare_requests WHERE chat_id = $1"
            " ORDER BY requested_at DESC, id DESC LIMIT 1", chat_id)
        return Screenshare(**dict(row)) if row else None

    async def answer_screenshare(
        self, request_id: str, *, accepted: bool, join_url: str | None = None, host_url: str | None = None,
        provider: str | None = None,
    ) -> Screenshare | None:
        """Record the patron's decision on a pending request (one conditional UPDATE:
        of concurrent answers exactly one wins) and enqueue its event; None when the
        request was no longer pending."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE screenshare_requests SET state = $2, answered_at = clock_timestamp(),"
                " join_url = $3, host_url = $4, provider = $5"
                f" WHERE id = $1 AND state = 'pending' RETURNING {_SCREENSHARE_COLUMNS}",
                request_id, "accepted" if accepted else "declined", join_url, host_url, provider,
            )
            if row is None:
                return None
            request = Screenshare(**dict(row))
            await self._enqueue_screenshare(conn, request)
            return request

    @staticmethod
    async def _enqueue_screenshare(conn: asyncpg.Connection, request: Screenshare) -> None:
        event = ScreenshareEvent(event_id=new_id(), type=request.state, request=request,
                                 occurred_at=request.answered_at or request.requested_at)
        await outbox.enqueue(conn, screenshare_event_subject(request.chat_id, request.state), event)

    async def canned(self, department_id: str) -> list[tuple[int, CannedMessage]]:
        """The canned messages of a department as (position, message) pairs, unordered."""
        rows = await self._pool.fetch(
            "SELECT id, department_id, title, body, is_welcome, position FROM canned_messages WHERE department_id = $1",
            department_id,
        )
        return [(row["position"], CannedMessage(**dict(row))) for row in rows]

    async def add_canned_if_missing(self, entries: Iterable[tuple[int, CannedMessage]]) -> int:
        """Insert canned messages whose id is not stored yet (existing ones, possibly
        edited by an admin, are kept); return how many were inserted."""
        inserted = 0
        async with self._pool.acquire() as conn, conn.transaction():
            for position, message in entries:
                status = await conn.execute(
                    "INSERT INTO canned_messages (id, department_id, title, body, is_welcome, position)"
                    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    message.id, message.department_id, message.title, message.body, message.is_welcome, position,
                )
                inserted += status == "INSERT 0 1"
        return inserted
