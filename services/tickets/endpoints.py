"""Request handlers of the tickets service and its wiring (``wire``)."""

from __future__ import annotations

import structlog

from refdesk.bus import BusError
from refdesk.contracts.common import Empty, Ok
from refdesk.contracts.tickets import HEALTH
from refdesk.service import Context

from .store import TicketStore

log = structlog.get_logger()


class TicketEndpoints:
    """The handlers of ``rd.tickets.*``."""

    def __init__(self, store: TicketStore) -> None:
        self._store = store

    async def health(self, _: Empty) -> Ok:
        """``rd.tickets.health``: :class:`Ok` when the service reaches its tables.

        Raises:
            BusError: (503) the database does not answer.
        """
        try:
            await self._store.ping()
        except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
            log.warning("health.database_failed", error=repr(exc))
            raise BusError("503", "The tickets service cannot reach its database.") from None
        return Ok()


async def wire(ctx: Context) -> None:
    """Register the endpoints (the tickets service has no demo data or consumers yet)."""
    handlers = TicketEndpoints(TicketStore(ctx.pool))
    ctx.endpoints.add(HEALTH, Empty, handlers.health)
