"""PostgreSQL access of the tickets service (schema ``tickets``)."""

from __future__ import annotations

import asyncpg


class TicketStore:
    """Tickets over one asyncpg pool (only the health check for now)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        """Run a trivial query on the ``tickets`` table.

        Raises:
            asyncpg.PostgresError / OSError: the database does not answer.
        """
        await self._pool.fetchval("SELECT count(*) FROM (SELECT 1 FROM tickets LIMIT 1) AS one")
