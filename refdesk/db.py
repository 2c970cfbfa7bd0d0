"""PostgreSQL access: connection pools and the forward-only migration runner.

Each service owns one schema (``queue``, ``chat``, ``tickets``, ``analytics``) in the
one refdesk database. Its migrations are numbered SQL files
(``migrations/0001_name.sql``) applied in order, each in its own transaction, under a
PostgreSQL advisory lock so that concurrent replicas never race. Applied files are
recorded with a SHA-256 checksum in ``<schema>.schema_migrations``; an applied file
that was edited afterwards is refused. The runner also creates the schema's ``outbox``
table (see :mod:`refdesk.outbox`) and ``mail_outbox`` table (see :mod:`refdesk.mail`),
which every service has in the same shape.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Generic, TypeVar

import asyncpg

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

OUTBOX_TABLE = """
CREATE TABLE IF NOT EXISTS outbox (
    id bigserial PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    subject text NOT NULL,
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""
"""The transactional outbox every service schema has (:mod:`refdesk.outbox`)."""

MAIL_OUTBOX_TABLE = """
CREATE TABLE IF NOT EXISTS mail_outbox (
    id text PRIMARY KEY,
    kind text NOT NULL,
    subject_ref text NOT NULL,
    requested_by text,
    recipients text[] NOT NULL,
    subject text NOT NULL,
    mail jsonb NOT NULL,
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX IF NOT EXISTS mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status IN ('queued', 'retrying');
CREATE INDEX IF NOT EXISTS mail_outbox_subject_ref ON mail_outbox (subject_ref, created_at)"""
"""The mail outbox every service schema has (:mod:`refdesk.mail`)."""


class MigrationError(RuntimeError):
    """A migration file is misnamed, or was changed after it had been applied."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, schema: str | None = None, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open an asyncpg pool whose connections use ``schema`` first on the search path
    and decode ``json``/``jsonb`` to Python objects.

    Raises:
        OSError / asyncpg.PostgresError: the server cannot be reached.
    """
    settings = {"search_path": f"{schema},public"} if schema else {}
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, server_settings=settings
    )


Q = TypeVar("Q")


class SchemaStore(Generic[Q]):
    """A service's access to its schema through an asyncpg pool (see
    :func:`create_pool`): hands out the service's statements (``queries(conn)``, e.g.
    its ``Queries`` class) bound to one pooled connection."""

    def __init__(self, pool: asyncpg.Pool, queries: Callable[[asyncpg.Connection], Q]) -> None:
        self._pool = pool
        self._queries = queries

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Q]:
        """Queries inside one transaction (committed when the block exits normally,
        rolled back when it raises)."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield self._queries(conn)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Q]:
        """Queries without a transaction, for reads that need no consistent snapshot."""
        async with self._pool.acquire() as conn:
            yield self._queries(conn)


def _migration_files(directory: Path) -> list[tuple[int, str, str, str]]:
    files = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name!r} must be named NNNN_lowercase_name.sql")
        sql = path.read_text(encoding="utf-8")
        files.append((int(match.group(1)), path.name, sql, hashlib.sha256(sql.encode()).hexdigest()))
    numbers = [number for number, *_ in files]
    if len(set(numbers)) != len(numbers):
        raise MigrationError(f"duplicate migration numbers in {directory}")
    return files


async def migrate(dsn: str, schema: str, directory: Path) -> list[str]:
    """Apply the pending migrations of one service; return the names applied now.

    Args:
        dsn: PostgreSQL DSN.
        schema: the service's schema; created if missing, and first on the search path
            while its migrations run.
        directory: folder of ``NNNN_name.sql`` files.

    Raises:
        MigrationError: a file is misnamed or an applied file's checksum changed.
        asyncpg.PostgresError: a migration failed (its transaction is rolled back).
    """
    files = _migration_files(directory)
    conn = await asyncpg.connect(dsn)
    try:
        lock_key = int.from_bytes(hashlib.sha256(f"refdesk-migrate:{schema}".encode()).digest()[:8], "big", signed=True)
        await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(f'SET search_path TO "{schema}", public')
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " number integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            await conn.execute(OUTBOX_TABLE)
            await conn.execute(MAIL_OUTBOX_TABLE)
            applied = {row["number"]: row for row in await conn.fetch("SELECT * FROM schema_migrations")}
            done: list[str] = []
            for number, name, sql, checksum in files:
                if number in applied:
                    if applied[number]["checksum"] != checksum:
                        raise MigrationError(f"{schema}/{name} changed after it was applied; add a new migration instead")
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (number, name, checksum) VALUES ($1, $2, $3)",
                        number, name, checksum,
                    )
                done.append(name)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    finally:
        await conn.close()


STARTUP_WAIT_SECONDS = 60.0
"""How long :func:`ensure_database` waits for a server that answers "the database
system is starting up" (a freshly started or recovering PostgreSQL)."""


async def _connect_when_ready(dsn: str) -> asyncpg.Connection:
    """Connect, retrying every 0.2 s while the server is still starting up (at most
    :data:`STARTUP_WAIT_SECONDS`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_WAIT_SECONDS
    while True:
        try:
            return await asyncpg.connect(dsn)
        except asyncpg.CannotConnectNowError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def ensure_database(dsn: str) -> None:
    """Create the database named in ``dsn`` if it does not exist (connecting to the
    server's ``postgres`` database to do so). A server still starting up is waited
    for (:data:`STARTUP_WAIT_SECONDS`)."""
    try:
        conn = await _connect_when_ready(dsn)
    except asyncpg.InvalidCatalogNameError:
        base, _, name = dsn.rpartition("/")
        name = name.split("?")[0]
        admin = await asyncpg.connect(f"{base}/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            pass
        finally:
            await admin.close()
    else:
        await conn.close()
