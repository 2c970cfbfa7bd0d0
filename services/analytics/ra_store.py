"""PostgreSQL access for Reference Analytics (schema ``analytics``): datasets, their
fields, records and the records' audit trail (tables ``datasets``, ``dataset_fields``,
``ra_records``, ``ra_record_audit``; columns documented in the migrations and
``docs/analytics.md``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import asyncpg

from refdesk.contracts.analytics import (
    DEFAULT_DATASET_ID, AuditEntry, Dataset, DatasetField, DatasetSummary, RaRecord,
)
from refdesk.ids import new_id

from . import ra

RECORD_COLUMNS = ('id, dataset_id, operator_id, chat_id, department_id, "values", answered_at, created_at,'
                  ' created_by, updated_at, updated_by, deleted_at')
"""The ``ra_records`` columns a :class:`RaRecord` is read from."""

_FIELD_COLUMNS = ("key, label, kind, required, options, default_value AS default, unit, min_value, max_value,"
                  " position, archived")


def record_of(row: asyncpg.Record) -> RaRecord:
    """A :class:`RaRecord` from a row selected with :data:`RECORD_COLUMNS`."""
    return RaRecord(**dict(row))


class RaStore:
    """Datasets, records and the audit trail over one asyncpg pool (search path
    starting with ``analytics``)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # -- datasets ----------------------------------------------------------------------

    async def get_dataset(self, dataset_id: str) -> Dataset | None:
        """The dataset with all its fields (archived ones flagged) in ``position``
        order, or None if unknown."""
        async with self._pool.acquire() as conn:
            return await self._dataset(conn, dataset_id)

    @staticmethod
    async def _dataset(conn: asyncpg.Connection, dataset_id: str) -> Dataset | None:
        row = await conn.fetchrow("SELECT id, name, description, archived FROM datasets WHERE id = $1", dataset_id)
        if row is None:
            return None
        fields = await conn.fetch(
            f"SELECT {_FIELD_COLUMNS} FROM dataset_fields WHERE dataset_id = $1 ORDER BY position, key", dataset_id)
        return Dataset(**dict(row), fields=[DatasetField(**dict(f)) for f in fields])

    async def list_datasets(self, *, include_archived: bool) -> list[DatasetSummary]:
        """Datasets, the default first, then by name, with their live field counts."""
        rows = await self._pool.fetch(
            "SELECT d.id, d.name, d.description, d.archived,"
            " count(f.key) FILTER (WHERE NOT f.archived) AS field_count"
            " FROM datasets d LEFT JOIN dataset_fields f ON f.dataset_id = d.id"
            " WHERE $1 OR NOT d.archived GROUP BY d.id ORDER BY d.id <> $2, lower(d.name), d.id",
            include_archived, DEFAULT_DATASET_ID,
        )
        return [DatasetSummary(**dict(row)) for row in rows]

    async def dataset_ids(self) -> set[str]:
        """Every dataset id (for making a new one)."""
        return {row["id"] for row in await self._pool.fetch("SELECT id FROM datasets")}

    async def ensure_dataset(self, dataset: Dataset) -> None:
        """Insert ``dataset`` and those of its fields that do not exist yet; existing
        rows (an admin's edits) are left as they are."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO datasets (id, name, description) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                dataset.id, dataset.name, dataset.description,
            )
            await conn.executemany(
                "INSERT INTO dataset_fields (dataset_id, key, label, kind, required, options, default_value, unit,"
                " min_value, max_value, position, archived) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                " ON CONFLICT (dataset_id, key) DO NOTHING",
                [_field_row(dataset.id, f) for f in dataset.fields],
            )

    async def save_dataset(self, dataset: Dataset) -> Dataset:
        """Store ``dataset`` whole (create or replace its row and every field row given;
        the caller merged it with :func:`ra.merge_dataset`, so no key is dropped) and
        return it as stored."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO datasets (id, name, description, archived) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,"
                " archived = EXCLUDED.archived, updated_at = now()",
                dataset.id, dataset.name, dataset.description, dataset.archived,
            )
            await conn.executemany(
                "INSERT INTO dataset_fields (dataset_id, key, label, kind, required, options, default_value, unit,"
                " min_value, max_value, position, archived) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                " ON CONFLICT (dataset_id, key) DO UPDATE SET label = EXCLUDED.label, required = EXCLUDED.required,"
                " options = EXCLUDED.options, default_value = EXCLUDED.default_value, unit = EXCLUDED.unit,"
                " min_value = EXCLUDED.min_value, max_value = EXCLUDED.max_value, position = EXCLUDED.position,"
                " archived = EXCLUDED.archived",
                [_field_row(dataset.id, f) for f in dataset.fields],
            )
            stored = await self._dataset(conn, dataset.id)
        assert stored is not None
        return stored

    # -- records -----------------------------------------------------------------------

    async def create_record(self, *, dataset_id: str, operator_id: str, actor_id: str, actor_name: str | None,
                            chat_id: str | None, department_id: str | None, answered_at: datetime,
                            values: dict[str, Any]) -> RaRecord:
        """Store a new record and its ``create`` audit entry in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                'INSERT INTO ra_records (id, dataset_id, operator_id, chat_id, department_id, "values", answered_at,'
                " created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                f" RETURNING {RECORD_COLUMNS}",
                new_id(), dataset_id, operator_id, chat_id, department_id, values, answered_at, actor_id,
            )
            record = record_of(row)
            await _audit(conn, record.id, "create", actor_id, actor_name, None, ra.snapshot(record))
        return record

    async def get_record(self, record_id: str, *, lock_in: asyncpg.Connection | None = None) -> RaRecord | None:
        """A record (deleted ones too), or None."""
        conn = lock_in or self._pool
        suffix = " FOR UPDATE" if lock_in is not None else ""
        row = await conn.fetchrow(f"SELECT {RECORD_COLUMNS} FROM ra_records WHERE id = $1{suffix}", record_id)
        return record_of(row) if row else None

    async def change_record(self, record_id: str, actor_id: str, actor_name: str | None,
                            change: Callable[[RaRecord], tuple[str, dict[str, Any], datetime | None]],
                            ) -> RaRecord | None:
        """Lock the record, call ``change(record)`` — which checks and returns
        ``(action, values, answered_at)`` — store the result and its audit entry in one
        transaction, and return the record as stored (None when there is no record).
        ``action`` ``delete`` marks it deleted; ``update`` replaces values and time.
        Whatever ``change`` raises (NotFound, Forbidden) rolls the transaction back."""
        async with self._pool.acquire() as conn, conn.transaction():
            before = await self.get_record(record_id, lock_in=conn)
            if before is None:
                return None
            action, values, answered_at = change(before)
            if action == "delete":
                row = await conn.fetchrow(
                    f"UPDATE ra_records SET deleted_at = now(), deleted_by = $2 WHERE id = $1 RETURNING {RECORD_COLUMNS}",
                    record_id, actor_id)
            else:
                row = await conn.fetchrow(
                    'UPDATE ra_records SET "values" = $2, answered_at = $3, updated_at = now(), updated_by = $4'
                    f" WHERE id = $1 RETURNING {RECORD_COLUMNS}",
                    record_id, values, answered_at, actor_id)
            after = record_of(row)
            await _audit(conn, record_id, action, actor_id, actor_name, ra.snapshot(before), ra.snapshot(after))
        return after

    async def newest_for_chat(self, dataset_id: str, chat_id: str) -> RaRecord | None:
        """The chat's newest live record in the dataset, or None."""
        row = await self._pool.fetchrow(
            f"SELECT {RECORD_COLUMNS} FROM ra_records WHERE dataset_id = $1 AND chat_id = $2 AND deleted_at IS NULL"
            " ORDER BY answered_at DESC, id DESC LIMIT 1", dataset_id, chat_id,
        )
        return record_of(row) if row else None

    async def list_records(self, *, operator_id: str | None, chat_id: str | None, dataset_id: str | None,
                           offset: int, limit: int, departments: Iterable[str] | None = None,
                           viewer_id: str | None = None) -> tuple[list[RaRecord], bool]:
        """Live records, newest ``answered_at`` first, filtered; ``(page, more)``. With
        ``departments`` only records of those departments, plus records without a
        department that ``viewer_id`` wrote (the HTTP API's rule, :mod:`.access`)."""
        rows = await self._pool.fetch(
            f"SELECT {RECORD_COLUMNS} FROM ra_records WHERE deleted_at IS NULL"
            " AND ($1::text IS NULL OR operator_id = $1) AND ($2::text IS NULL OR chat_id = $2)"
            " AND ($3::text IS NULL OR dataset_id = $3)"
            " AND ($6::text[] IS NULL OR department_id = ANY($6) OR (department_id IS NULL AND operator_id = $7))"
            " ORDER BY answered_at DESC, id DESC OFFSET $4 LIMIT $5",
            operator_id, chat_id, dataset_id, offset, limit + 1,
            None if departments is None else list(departments), viewer_id,
        )
        return [record_of(row) for row in rows[:limit]], len(rows) > limit

    async def history(self, record_id: str) -> list[AuditEntry]:
        """The record's audit entries, oldest first."""
        rows = await self._pool.fetch(
            "SELECT id, record_id, action, actor_id, actor_name, at, before, after, changed FROM ra_record_audit"
            " WHERE record_id = $1 ORDER BY id", record_id,
        )
        return [AuditEntry(**dict(row)) for row in rows]


def _field_row(dataset_id: str, f: DatasetField) -> tuple[Any, ...]:
    return (dataset_id, f.key, f.label, f.kind, f.required, f.options, f.default, f.unit, f.min_value, f.max_value,
            f.position, f.archived)


async def _audit(conn: asyncpg.Connection, record_id: str, action: str, actor_id: str, actor_name: str | None,
                 before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    await conn.execute(
        "INSERT INTO ra_record_audit (record_id, action, actor_id, actor_name, before, after, changed)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        record_id, action, actor_id, actor_name, before, after, ra.changed_keys(before, after),
    )
