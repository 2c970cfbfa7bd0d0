"""PostgreSQL access of the analytics service (schema ``analytics``)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from refdesk.contracts.analytics import RaRecord

from .ra_store import RaStore


class AnalyticsStore:
    """Reference Analytics record lists and a chat's department over one asyncpg pool
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

    async def list_records(self, *, chat_id: str | None, operator_id: str | None, limit: int,
                           departments: Iterable[str] | None, viewer_id: str) -> list[RaRecord]:
        """Live (not deleted) records, newest answered first, optionally only those of
        one chat and/or operator, as ``viewer_id`` may see them: of ``departments``
        (None: all) or without a department and written by the viewer
        (:meth:`RaStore.list_records`, first page)."""
        records, _ = await RaStore(self._pool).list_records(
            operator_id=operator_id, chat_id=chat_id, dataset_id=None, offset=0, limit=limit,
            departments=departments, viewer_id=viewer_id)
        return records

    # -- chat facts (the rest is in :mod:`.facts_store`) -------------------------------

    async def chat_department(self, chat_id: str) -> str | None:
        """The department a chat was queued in, if analytics has seen it."""
        return await self._pool.fetchval("SELECT department_id FROM chat_facts WHERE chat_id = $1", chat_id)
