"""PostgreSQL side of the chat-facts read model (tables ``chat_facts``,
``fact_events`` and ``operator_status_log`` of schema ``analytics``).

Each event is applied in one transaction that first records its key in
``fact_events`` (:func:`services.analytics.facts.event_key`): a redelivered or
replayed event changes nothing. :meth:`FactsStore.replace_all` swaps in a rebuilt
model atomically (see :mod:`services.analytics.rebuild`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .facts import ChatFacts

_COLUMNS = [f.name for f in dataclasses.fields(ChatFacts)]
_TUPLES = {"operators", "ticket_ids"}
#: Columns derived from the others, stored so that SQL can filter on them.
_DERIVED = ["wait_seconds", "duration_seconds", "first_response_seconds", "missed", "outcome"]
_ALL = _COLUMNS + _DERIVED
_SELECT = ", ".join(_COLUMNS)
_INSERT = (
    f"INSERT INTO chat_facts ({', '.join(_ALL)}, updated_at) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_ALL) + 1))}, now()) "
    f"ON CONFLICT (chat_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _ALL[1:])
    + ", updated_at = now()"
)

#: Tables a rebuild replaces; live writers are held off while it runs.
_MODEL_TABLES = ("chat_facts", "fact_events", "operator_status_log")


@dataclass(frozen=True)
class StatusChange:
    """One operator status change: ``status`` online/offline, ``monitored`` department
    ids, ``occurred_at`` UTC."""

    event_id: str
    operator_id: str
    occurred_at: datetime
    status: str
    monitored: tuple[str, ...]


def _row(fact: ChatFacts) -> list:
    values = [list(v) if k in _TUPLES else v for k, v in ((k, getattr(fact, k)) for k in _COLUMNS)]
    return values + [getattr(fact, name) for name in _DERIVED]


def _fact(row: asyncpg.Record) -> ChatFacts:
    return ChatFacts(**{k: tuple(row[k]) if k in _TUPLES else row[k] for k in _COLUMNS})


class FactsStore:
    """Chat facts and operator status changes over one asyncpg pool (search path
    starting with schema ``analytics``)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def apply(self, key: str, chat_id: str, change: Callable[[ChatFacts], ChatFacts]) -> bool:
        """Apply ``change`` to the chat's fact (an empty one if none yet) unless ``key``
        was applied before; returns whether it was applied. Concurrent consumers
        serialise on the fact row."""
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(
                "INSERT INTO fact_events (key) VALUES ($1) ON CONFLICT DO NOTHING RETURNING key", key
            ) is None:
                return False
            # The row must exist before it is locked: two first events of one chat would
            # otherwise both fold into an empty fact and the second write lose the first.
            await conn.execute("INSERT INTO chat_facts (chat_id) VALUES ($1) ON CONFLICT DO NOTHING", chat_id)
            row = await conn.fetchrow(f"SELECT {_SELECT} FROM chat_facts WHERE chat_id = $1 FOR UPDATE", chat_id)
            before = _fact(row)
            await conn.execute(_INSERT, *_row(change(before)))
            return True

    async def record_status(self, change: StatusChange) -> bool:
        """Store an operator status change once (by event id); returns whether it was new."""
        status = await self._pool.execute(
            "INSERT INTO operator_status_log (event_id, operator_id, occurred_at, status, monitored)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            change.event_id, change.operator_id, change.occurred_at, change.status, list(change.monitored),
        )
        return status.endswith(" 1")

    async def get(self, chat_id: str) -> ChatFacts | None:
        """The chat's fact, or None when no event about it has been applied."""
        row = await self._pool.fetchrow(f"SELECT {_SELECT} FROM chat_facts WHERE chat_id = $1", chat_id)
        return _fact(row) if row else None

    async def listing(
        self, *, chat_id: str | None, departments: Iterable[str] | None, operator_id: str | None, limit: int
    ) -> list[ChatFacts]:
        """Facts newest queued first (never queued last), filtered by chat, departments
        (None: all; a chat of no known department only then) and operator (the chat's
        last owner)."""
        rows = await self._pool.fetch(
            f"SELECT {_SELECT} FROM chat_facts"
            " WHERE ($1::text IS NULL OR chat_id = $1) AND ($2::text[] IS NULL OR department_id = ANY($2))"
            " AND ($3::text IS NULL OR operator_id = $3)"
            " ORDER BY queued_at DESC NULLS LAST, chat_id DESC LIMIT $4",
            chat_id, None if departments is None else list(departments), operator_id, limit,
        )
        return [_fact(row) for row in rows]

    async def queued_between(self, start: datetime, end: datetime, departments: Iterable[str] | None) -> list[ChatFacts]:
        """Facts of chats queued in ``[start, end)`` (UTC), in ``departments`` (None:
        all), oldest first."""
        rows = await self._pool.fetch(
            f"SELECT {_SELECT} FROM chat_facts WHERE queued_at >= $1 AND queued_at < $2"
            " AND ($3::text[] IS NULL OR department_id = ANY($3)) ORDER BY queued_at, chat_id",
            start, end, None if departments is None else list(departments),
        )
        return [_fact(row) for row in rows]

    async def all_facts(self) -> list[ChatFacts]:
        """Every fact, by chat id (the replay test compares these)."""
        rows = await self._pool.fetch(f"SELECT {_SELECT} FROM chat_facts ORDER BY chat_id")
        return [_fact(row) for row in rows]

    async def status_changes(self, until: datetime) -> list[StatusChange]:
        """Every status change up to ``until``, by operator then time."""
        rows = await self._pool.fetch(
            "SELECT event_id, operator_id, occurred_at, status, monitored FROM operator_status_log"
            " WHERE occurred_at < $1 ORDER BY operator_id, occurred_at, event_id", until,
        )
        return [StatusChange(**{**dict(row), "monitored": tuple(row["monitored"])}) for row in rows]

    async def replace_all(
        self, build: Callable[[], object], facts: Callable[[], Iterable[ChatFacts]],
        keys: Callable[[], Iterable[str]], changes: Callable[[], Iterable[StatusChange]],
    ) -> None:
        """Swap in a rebuilt model in one transaction: lock the model's tables against
        writers (readers keep seeing the old model), ``await build()`` (which reads
        the streams up to their current end — live consumers wait meanwhile, so every
        event they hold is in what ``build`` reads), then replace every row with
        ``facts()``, ``keys()`` and ``changes()``. Events consumed after the commit
        are applied on top; those ``build`` already folded are skipped by their keys."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(f"LOCK TABLE {', '.join(_MODEL_TABLES)} IN EXCLUSIVE MODE")
            await build()
            for table in _MODEL_TABLES:
                await conn.execute(f"DELETE FROM {table}")
            await conn.executemany(_INSERT, [_row(fact) for fact in facts()])
            await conn.copy_records_to_table("fact_events", records=[(key,) for key in keys()], columns=["key"])
            await conn.executemany(
                "INSERT INTO operator_status_log (event_id, operator_id, occurred_at, status, monitored)"
                " VALUES ($1, $2, $3, $4, $5)",
                [(c.event_id, c.operator_id, c.occurred_at, c.status, list(c.monitored)) for c in changes()],
            )


async def record_field_values(
    pool: asyncpg.Pool, *, dataset_id: str, field: str, start: datetime, end: datetime,
    departments: Iterable[str] | None, operator_id: str | None, viewer_id: str,
) -> list[object]:
    """The value of ``field`` (decoded JSON; None when blank) of every Reference
    Analytics record of ``dataset_id`` answered in ``[start, end)`` (UTC), not deleted,
    in ``departments`` (None: all) — a record without a department (a hand entry)
    counts when there is no department restriction or ``viewer_id`` wrote it — and
    by ``operator_id`` if given."""
    rows = await pool.fetch(
        'SELECT "values" -> $2 AS value FROM ra_records WHERE dataset_id = $1 AND deleted_at IS NULL'
        " AND answered_at >= $3 AND answered_at < $4"
        " AND ($5::text[] IS NULL OR department_id = ANY($5) OR (department_id IS NULL AND operator_id = $7))"
        " AND ($6::text IS NULL OR operator_id = $6)",
        dataset_id, field, start, end, None if departments is None else list(departments), operator_id, viewer_id,
    )
    return [row["value"] for row in rows]
