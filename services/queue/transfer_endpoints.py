"""Transfer handlers of the queue service (``rd.queue.chat.transfer.*``) and the
transfer steps of a claim and of an end. Rules: :mod:`.transfers`; each change and
its event commit in one transaction (outbox), as everywhere in the service.

The chat row is locked (``FOR UPDATE``) for every transfer step, so a request, an
answer, a claim and an end of one chat never interleave; the claim additionally
finishes the transfer with one conditional UPDATE (``accepted`` → ``completed``), so
of concurrent claimers exactly one wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from refdesk.bus import Conflict
from refdesk.contracts import queue as c
from refdesk.ids import new_id

from . import domain, transfers
from .store import Queries

if TYPE_CHECKING:
    from .endpoints import QueueEndpoints, Route


class TransferEndpoints:
    """The transfer endpoints, sharing the service's store and steps.

    Args:
        service: the :class:`~.endpoints.QueueEndpoints` (its transaction, lookups and
            event announcement).
    """

    def __init__(self, service: QueueEndpoints) -> None:
        self._service = service

    def routes(self) -> list[Route]:
        """The four ``rd.queue.chat.transfer.*`` endpoints."""
        from .endpoints import Route

        return [
            Route(c.TRANSFER_REQUEST, c.TransferRequest, self.request),
            Route(c.TRANSFER_ACCEPT, c.TransferAnswer, self.accept),
            Route(c.TRANSFER_DECLINE, c.TransferAnswer, self.decline),
            Route(c.TRANSFER_CANCEL, c.TransferAnswer, self.cancel),
        ]

    async def request(self, req: c.TransferRequest) -> c.ChatView:
        """The owner asks to transfer an active chat; emits ``transfer_requested``.

        Raises:
            NotFound (404): unknown chat, sender, target operator or department.
            Forbidden (403): the sender does not own the chat.
            Conflict (409): not active; a transfer already under way; the target is
                the sender; the target operator is Offline or nobody Online monitors
                the target department ("… is offline — create a ticket instead.").
        """
        service = self._service
        async with service._writing() as q:
            chat = await service._chat(q, req.chat_id, lock=True)
            await service._operator(q, req.operator_id)
            transfers.check_request(chat, req)
            if req.to_operator_id is not None:
                target = await service._operator(q, req.to_operator_id)
                transfers.check_target_online(target["nickname"], target["status"] == "online")
            else:
                department = await service._department(q, req.to_department_id)
                online = domain.online_department_ids(await q.monitor_statuses())
                transfers.check_target_online(department["name"], department["id"] in online)
            added = await q.add_transfer(new_id(), chat.id, req.operator_id, to_operator_id=req.to_operator_id,
                                         to_department_id=req.to_department_id, note=req.note, stay=req.stay)
            if not added:
                raise Conflict("A transfer of this chat is already under way.")
            changed = await service._chat(q, chat.id)
            await service._announce(q, "transfer_requested", changed, transfer=changed.transfer)
        service._log.info("chat.transfer_requested", chat_id=chat.id, to_operator=req.to_operator_id,
                          to_department=req.to_department_id)
        return changed

    async def accept(self, req: c.TransferAnswer) -> c.ChatView:
        """The target (operator, or a member of the department) accepts; emits
        ``transfer_accepted``. The chat now waits for the target to claim it.

        Raises:
            NotFound (404): unknown chat or operator.
            Forbidden (403): not the target.
            Conflict (409): no such open transfer; already accepted.
        """
        return await self._answer(req, accept=True)

    async def decline(self, req: c.TransferAnswer) -> c.ChatView:
        """The target declines a pending transfer; emits ``transfer_declined``. The
        chat stays with the sender, whose reply box unlocks. Errors as :meth:`accept`."""
        return await self._answer(req, accept=False)

    async def cancel(self, req: c.TransferAnswer) -> c.ChatView:
        """The sender cancels a transfer that is pending, or accepted and not yet
        claimed; emits ``transfer_cancelled``.

        Raises:
            NotFound (404): unknown chat.
            Forbidden (403): not the sender.
            Conflict (409): no such open transfer (it was claimed or declined meanwhile).
        """
        service = self._service
        async with service._writing() as q:
            chat = await service._chat(q, req.chat_id, lock=True)
            transfer = transfers.open_transfer(chat, req.transfer_id)
            transfers.check_cancel(transfer, req.operator_id)
            await self._finish(q, transfer, "cancelled", req.operator_id)
            changed = await service._chat(q, chat.id)
            await service._announce(q, "transfer_cancelled", changed, transfer=transfer)
        return changed

    async def _answer(self, req: c.TransferAnswer, *, accept: bool) -> c.ChatView:
        service = self._service
        async with service._writing() as q:
            chat = await service._chat(q, req.chat_id, lock=True)
            await service._operator(q, req.operator_id)
            transfer = transfers.open_transfer(chat, req.transfer_id)
            member_of = [row["id"] for row in await q.memberships(req.operator_id)]
            transfers.check_answer(transfer, req.operator_id, member_of, accept=accept)
            if accept:
                if not await q.accept_transfer(transfer.id, req.operator_id):
                    raise Conflict(transfers.NO_OPEN_TRANSFER)
            else:
                await self._finish(q, transfer, "declined", req.operator_id, from_states=("pending",))
            changed = await service._chat(q, chat.id)
            event: c.ChatEventType = "transfer_accepted" if accept else "transfer_declined"
            await service._announce(q, event, changed, transfer=changed.transfer if accept else transfer)
        return changed

    @staticmethod
    async def _finish(q: Queries, transfer: c.TransferView, state: str, operator_id: str | None,
                      from_states: tuple[str, ...] = ("pending", "accepted")) -> None:
        if not await q.finish_transfer(transfer.id, state, operator_id, from_states=from_states):
            raise Conflict(transfers.NO_OPEN_TRANSFER)

    # --- steps of a claim and an end ------------------------------------------------

    async def claim(self, q: Queries, chat: c.ChatView, operator_id: str) -> c.ChatView:
        """Claim a chat whose transfer is open, inside the claim's transaction; emits
        ``claimed`` (with the finished transfer). The new owner takes the chat, the
        transfer is completed, ``transfer_count`` goes up, a department transfer moves
        the chat to that department, and the previous owner becomes a participant if
        they chose to stay. A retry by the winner answers the chat unchanged.

        Raises:
            Conflict (409): not the target ("This chat is being transferred to …"),
                offline, not yet accepted, or another target claimed first
                ("Already claimed by ⟨nickname⟩.").
        """
        transfer = chat.transfer
        assert transfer is not None
        operator = await self._service._operator(q, operator_id)
        member_of = [row["id"] for row in await q.memberships(operator_id)]
        transfers.check_transfer_claim(transfer, operator_id, operator["status"], member_of)
        if not await q.finish_transfer(transfer.id, "completed", operator_id, from_states=("accepted",)):
            return domain.settle_lost_claim(await self._service._chat(q, chat.id), operator_id)
        await q.hand_over(chat.id, operator_id, transfer.to_department_id)
        if transfer.stay:
            await q.add_participant(chat.id, transfer.from_operator_id)
        claimed = await self._service._chat(q, chat.id)
        await self._service._announce(q, "claimed", claimed, transfer=transfer)
        return claimed

    async def end_open(self, q: Queries, chat: c.ChatView, ended_by: str) -> c.TransferView | None:
        """Before a chat ends: the owner may not end (or dismiss) it while a transfer is open (409);
        when the patron ends it, the open transfer ends with it. Returns the transfer
        that ended, if any (the ``ended`` event names it so its target hears of it)."""
        if chat.transfer is None:
            return None
        if ended_by == "operator":
            transfers.check_operator_end(chat)
        await self._finish(q, chat.transfer, "ended", None)
        return chat.transfer
