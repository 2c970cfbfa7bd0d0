"""``transfer.offer`` pushes: when a transfer is requested, each gateway process that
has a socket of a target (the target operator, or an operator monitoring the target
department) fetches the chat's transcript preview once and sends the offer to those
sockets. The hub's callbacks stay synchronous: the fetch runs as a task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.aio.client import Client

from refdesk import bus
from refdesk.contracts.chat import History, HistoryRequest
from refdesk.contracts.queue import ChatEvent

from . import frames_transfer
from .registry import Registry
from .transfer_preview import preview

log = structlog.get_logger()

PREVIEW_TIMEOUT_SECONDS = 5.0
"""How long an offer waits for the chat service's history; without it the offer is
sent with an empty preview (the dashboard can ask again with ``transfer.preview``)."""


class TransferOffers:
    """Sends ``transfer.offer`` to this process's target sockets.

    Args:
        nc: the gateway's NATS connection (for the history requests).
        registry: who is connected here.
    """

    def __init__(self, nc: Client, registry: Registry) -> None:
        self._nc = nc
        self._registry = registry
        self._tasks: set[asyncio.Task[None]] = set()

    def event(self, event: ChatEvent) -> None:
        """Handle a chat event: a ``transfer_requested`` with a target connected here
        starts sending its offer; anything else is ignored."""
        transfer = event.chat.transfer
        if event.type != "transfer_requested" or transfer is None:
            return
        if not self._registry.transfer_targets(transfer):
            return
        task = asyncio.get_running_loop().create_task(self._send(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, event: ChatEvent) -> None:
        chat, transfer = event.chat, event.chat.transfer
        assert transfer is not None
        try:
            messages = await preview(self._call, chat.id)
        except Exception as exc:  # noqa: BLE001 - the offer still goes out, without a preview
            log.warning("gateway.transfer_preview_failed", chat_id=chat.id, error=repr(exc))
            messages = []
        frame = frames_transfer.transfer_offer(chat, transfer, messages)
        for peer in self._registry.transfer_targets(transfer):
            peer.send(frame)

    async def _call(self, subject: str, payload: HistoryRequest, reply_type: type[History]) -> History:
        return await bus.request(self._nc, subject, payload, reply_type, timeout=PREVIEW_TIMEOUT_SECONDS)

    async def stop(self) -> None:
        """Cancel offers still fetching their preview."""
        tasks, self._tasks = set(self._tasks), set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
