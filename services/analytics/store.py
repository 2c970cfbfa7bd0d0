"""PostgreSQL access of the analytics service (schema ``analytics``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import asyncpg

from refdesk.contracts.analytics import RaRecord

from .domain import ChatFact
from .ra_store import RECORD_COLUMNS, record_of

_FACT_COLUMNS = [field.name for field in dataclasses.fields(ChatFact)]
_FACT_SELECT = ", ".join(_FACT_COLUMNS)
#: Columns derived from the others, stored so that SQL reports can filter and average.
_DERIVED = ["wait_seconds", "duration_seconds", "first_response_seconds", "missed"]
_FACT_UPDATE = ", ".join(
    f"{name} = ${index}" for index, name in enumerate(_FACT_COLUMNS[1:] + _DERIVED, start=2)
)


def _fact(row: asyncpg.Record) -> ChatFact:
    return ChatFact(**{name: row[name] for name in _FACT_COLUMNS})


class AnalyticsStore:
    """Reference Analytics record lists and chat facts over one asyncpg pool
    (whose search path starts with the ``analytics`` schema)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        """Round-trip to the database.

        Raises:
            OSError / asyncpg.PostgresError: the database cannot be reached.
        """
        await self._pool.fetchval("SELECT 1")

    # -- Reference Analytics records (the rest is in :mod:`.ra_store`) -------------------

    async def list_records(self, *, chat_id: str | None, operator_id: str | None, limit: int) -> list[RaRecord]:
        """Live (not deleted) records, newest answered first, optionally only those of
        one chat and/or operator."""
        rows = await self._pool.fetch(
            f"SELECT {RECORD_COLUMNS} FROM ra_records WHERE deleted_at IS NULL"
            " AND ($1::text IS NULL OR chat_id = $1) AND ($2::text IS NULL OR operator_id = $2)"
            " ORDER BY answered_at DESC, id DESC LIMIT $3",
            chat_id, operator_id, limit,
        )
        return [record_of(row) for row in rows]

    # -- chat facts --------------------------------------------------------------------

    async def update_fact(self, chat_id: str, change: Callable[[ChatFact], ChatFact]) -> ChatFact:
        """Apply ``change`` to the chat's fact (an empty fact if there is none yet)
        under a row lock, store the result with its derived columns if it differs,
        and return it. Concurrent consumers serialise on the row."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO chat_facts (chat_id) VALUES ($1) ON CONFLICT (chat_id) DO NOTHING", chat_id)
            row = await conn.fetchrow(f"SELECT {_FACT_SELECT} FROM chat_facts WHERE chat_id = $1 FOR UPDATE", chat_id)
            before = _fact(row)
            after = change(before)
            if after != before:
                values = [getattr(after, name) for name in _FACT_COLUMNS[1:] + _DERIVED]
                await conn.execute(
                    f"UPDATE chat_facts SET {_FACT_UPDATE}, updated_at = now() WHERE chat_id = $1", chat_id, *values
                )
            return after

    async def get_fact(self, chat_id: str) -> ChatFact | None:
        """The chat's fact, or None when no event about it has been consumed."""
        row = await self._pool.fetchrow(f"SELECT {_FACT_SELECT} FROM chat_facts WHERE chat_id = $1", chat_id)
        return _fact(row) if row else None

    async def list_facts(
        self, *, chat_id: str | None, department_id: str | None, operator_id: str | None, limit: int
    ) -> list[ChatFact]:
        """Chat facts, newest queued first (chats not yet seen queued last), filtered
        by any of chat, department and operator."""
        rows = await self._pool.fetch(
            f"SELECT {_FACT_SELECT} FROM chat_facts"
            " WHERE ($1::text IS NULL OR chat_id = $1) AND ($2::text IS NULL OR department_id = $2)"
            " AND ($3::text IS NULL OR operator_id = $3)"
            " ORDER BY queued_at DESC NULLS LAST, chat_id DESC LIMIT $4",
            chat_id, department_id, operator_id, limit,
        )
        return [_fact(row) for row in rows]

    async def chat_department(self, chat_id: str) -> str | None:
        """The department a chat was queued in, if analytics has seen it."""
        return await self._pool.fetchval("SELECT department_id FROM chat_facts WHERE chat_id = $1", chat_id)
