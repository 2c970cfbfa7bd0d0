"""Who is online (Internal Chat's staff list): the gateway's copy of the queue
service's staff list, and the ``staff.update`` pushes when an entry changes.

Every operator's dashboard asks ``staff.list`` once and then follows ``staff.update``
pushes. The hub pokes :class:`StaffRoster` whenever something that can change an
entry happens (an operator's status event; a chat claimed, ended, closed, dismissed
or transferred — the owner's count of active chats). A poke asks the queue service
for the whole list again (``rd.queue.operators.list``: a library has tens of
operators, not thousands), compares it with the last copy and pushes one
``staff.update`` per operator whose entry differs to every connected operator.
Pokes arriving while a refresh runs are folded into one more refresh, and refreshes
never overlap, so a later answer is never overwritten by an earlier one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import structlog
from nats.aio.client import Client

from refdesk import bus
from refdesk.contracts.queue import OPERATORS_LIST, OperatorList, OperatorsListRequest, OperatorSummary

from .frame_base import encode
from .registry import Registry

log = structlog.get_logger()

REFRESH_TIMEOUT_SECONDS = 5.0
"""How long a poked refresh waits for the queue service before giving up (logged;
the next poke or ``staff.list`` tries again)."""

Fetch = Callable[[], Awaitable[OperatorList]]


def staff_update(operator: OperatorSummary) -> str:
    """``staff.update``: one operator's new staff-list entry."""
    return encode("staff.update", operator=operator)


def changed(before: dict[str, OperatorSummary] | None, after: Iterable[OperatorSummary]) -> list[OperatorSummary]:
    """The entries of ``after`` that are new or differ from ``before`` (all of them
    when there is no earlier copy), in ``after``'s order."""
    if before is None:
        return list(after)
    return [entry for entry in after if before.get(entry.id) != entry]


class StaffRoster:
    """The last staff list this gateway saw, refreshed on pokes.

    Args:
        nc: NATS connection (for poked refreshes).
        registry: whose operator peers receive ``staff.update``.
    """

    def __init__(self, nc: Client, registry: Registry) -> None:
        self._nc = nc
        self._registry = registry
        self._known: dict[str, OperatorSummary] | None = None
        self._lock = asyncio.Lock()
        self._dirty = False
        self._worker: asyncio.Task[None] | None = None

    async def listing(self, fetch: Fetch) -> list[OperatorSummary]:
        """The staff list, fetched now with ``fetch`` (the caller's service call, so
        its errors read as the caller wants); changes against the last copy are
        pushed as ``staff.update`` first.

        Raises:
            whatever ``fetch`` raises (a :class:`~refdesk.bus.BusError`).
        """
        async with self._lock:
            reply = await fetch()
            self._absorb(reply.operators)
        return reply.operators

    def poke(self) -> None:
        """Something may have changed an entry: refresh soon (never blocks; needs a
        running event loop)."""
        self._dirty = True
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._refresh_while_dirty())

    async def stop(self) -> None:
        """Cancel a refresh in progress (idempotent)."""
        worker, self._worker = self._worker, None
        if worker is not None and not worker.done():
            worker.cancel()
            try:
                await worker
            except asyncio.CancelledError:
                pass

    async def _refresh_while_dirty(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self.listing(self._fetch)
            except Exception as exc:  # noqa: BLE001 - logged; the next poke or staff.list retries
                log.warning("gateway.staff_refresh_failed", error=repr(exc))
                return

    async def _fetch(self) -> OperatorList:
        return await bus.request(self._nc, OPERATORS_LIST, OperatorsListRequest(), OperatorList,
                                 timeout=REFRESH_TIMEOUT_SECONDS)

    def _absorb(self, operators: list[OperatorSummary]) -> None:
        """Take ``operators`` as the current list and push what changed."""
        updates = changed(self._known, operators)
        self._known = {entry.id: entry for entry in operators}
        if not updates:
            return
        peers = self._registry.operator_peers()
        for entry in updates:
            frame = staff_update(entry)
            for peer in peers:
                peer.send(frame)
