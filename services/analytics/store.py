"""PostgreSQL access of the analytics service (schema ``analytics``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import asyncpg

from refdesk.contracts.analytics import Dataset, DatasetField, RaRecord
from refdesk.ids import new_id

from .domain import ChatFact

_FACT_COLUMNS = [field.name for field in dataclasses.fields(ChatFact)]
_FACT_SELECT = ", ".join(_FACT_COLUMNS)
#: Columns derived from the others, stored so that SQL reports can filter and average.
_DERIVED = ["wait_seconds", "duration_seconds", "first_response_seconds", "missed"]
_FACT_UPDATE = ", ".join(
    f"{name} = ${index}" for index, name in enumerate(_FACT_COLUMNS[1:] + _DERIVED, start=2)
)
_RECORD_SELECT = 'id, dataset_id, operator_id, chat_id, department_id, "values", created_at'


def _fact(row: asyncpg.Record) -> ChatFact:
    return ChatFact(**{name: row[name] for name in _FACT_COLUMNS})


class AnalyticsStore:
    """Datasets, Reference Analytics records and chat facts over one asyncpg pool
    (whose search path starts with the ``analytics`` schema)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        """Round-trip to the database.

        Raises:
            OSError / asyncpg.PostgresError: the database cannot be reached.
        """
        await self._pool.fetchval("SELECT 1")

    # -- datasets ----------------------------------------------------------------------

    async def get_dataset(self, dataset_id: str) -> Dataset | None:
        """The dataset with its fields in ``position`` order, or None if unknown."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT id, name FROM datasets WHERE id = $1", dataset_id)
            if row is None:
                return None
            fields = await conn.fetch(
                "SELECT key, label, kind, required, options, unit, position FROM dataset_fields"
                " WHERE dataset_id = $1 ORDER BY position, key",
                dataset_id,
            )
        return Dataset(id=row["id"], name=row["name"], fields=[DatasetField(**dict(f)) for f in fields])

    async def ensure_dataset(self, dataset: Dataset) -> None:
        """Insert ``dataset`` and those of its fields that do not exist yet; existing
        rows are left as they are."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO datasets (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", dataset.id, dataset.name
            )
            await conn.executemany(
                "INSERT INTO dataset_fields (dataset_id, key, label, kind, required, options, unit, position)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dataset_id, key) DO NOTHING",
                [
                    (dataset.id, f.key, f.label, f.kind, f.required, f.options, f.unit, f.position)
                    for f in dataset.fields
                ],
            )

    # -- Reference Analytics records ---------------------------------------------------

    async def save_record(
        self,
        *,
        dataset_id: str,
        operator_id: str,
        chat_id: str | None,
        department_id: str | None,
        values: dict[str, Any],
    ) -> RaRecord:
        """Store a record and return it. A chat has at most one record per dataset:
        saving again for the same chat replaces the values and operator (same id and
        ``created_at``); a record without a chat is always new."""
        row = await self._pool.fetchrow(
            'INSERT INTO ra_records (id, dataset_id, operator_id, chat_id, department_id, "values")'
            " VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (dataset_id, chat_id) WHERE chat_id IS NOT NULL DO UPDATE SET"
            " operator_id = EXCLUDED.operator_id,"
            " department_id = COALESCE(EXCLUDED.department_id, ra_records.department_id),"
            ' "values" = EXCLUDED."values", updated_at = now()'
            f" RETURNING {_RECORD_SELECT}",
            new_id(), dataset_id, operator_id, chat_id, department_id, values,
        )
        return RaRecord(**dict(row))

    async def record_for_chat(self, dataset_id: str, chat_id: str) -> RaRecord | None:
        """The chat's record in the dataset, or None when none was saved."""
        row = await self._pool.fetchrow(
            f"SELECT {_RECORD_SELECT} FROM ra_records WHERE dataset_id = $1 AND chat_id = $2", dataset_id, chat_id,
        )
        return RaRecord(**dict(row)) if row else None

    async def list_records(self, *, chat_id: str | None, operator_id: str | None, limit: int) -> list[RaRecord]:
        """Records, newest first, optionally only those of one chat and/or operator."""
        rows = await self._pool.fetch(
            f"SELECT {_RECORD_SELECT} FROM ra_records"
            " WHERE ($1::text IS NULL OR chat_id = $1) AND ($2::text IS NULL OR operator_id = $2)"
            " ORDER BY created_at DESC, id DESC LIMIT $3",
            chat_id, operator_id, limit,
        )
        return [RaRecord(**dict(row)) for row in rows]

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
