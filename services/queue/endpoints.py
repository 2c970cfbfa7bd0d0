"""Request handlers of the queue service and their wiring.

Each handler takes a validated request model and returns a reply model (see
:mod:`refdesk.contracts.queue` for subjects and shapes). Changes and the events that
describe them commit in one transaction (through the outbox); the relay is woken
after the commit.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import asyncpg
from pydantic import BaseModel

from refdesk.auth import hash_password, verify_password
from refdesk.bus import Conflict, Handler, NotFound
from refdesk.contracts import queue as c
from refdesk.contracts.common import Empty
from refdesk.ids import new_id
from refdesk.outbox import OutboxRelay
from refdesk.service import Context

from . import domain, presence
from .config import AUTHENTICATE_MAX_IN_FLIGHT, BOARD_MAX_CHATS
from .seed import apply_demo_seed
from .store import Queries, QueueStore
from .transfer_endpoints import TransferEndpoints


class Route(NamedTuple):
    """One endpoint: subject, request model, handler and, when it needs a tighter
    bound than the service's default, how many of its requests may run at once."""

    subject: str
    request_type: type[BaseModel]
    handler: Handler
    max_in_flight: int | None = None


class QueueEndpoints:
    """The queue service's handlers over one :class:`QueueStore`.

    Args:
        store: the service's data.
        relay: woken after each commit that enqueued events.
        log: structlog logger bound to the service.
    """

    def __init__(self, store: QueueStore, relay: OutboxRelay, log: Any) -> None:
        self._store = store
        self._relay = relay
        self._log = log
        self._decoy_hash: str | None = None
        self._transfers = TransferEndpoints(self)

    def routes(self) -> list[Route]:
        """Every endpoint. Password checks are CPU-heavy, so at most
        :data:`~.config.AUTHENTICATE_MAX_IN_FLIGHT` run at once (a sign-in flood waits
        on its own endpoint; every other endpoint keeps answering)."""
        return [
            Route(c.AUTHENTICATE, c.AuthenticateRequest, self.authenticate, AUTHENTICATE_MAX_IN_FLIGHT),
            Route(c.OPERATOR_GET, c.OperatorRef, self.get_operator),
            Route(c.OPERATOR_CREATE, c.CreateOperatorRequest, self.create_operator, AUTHENTICATE_MAX_IN_FLIGHT),
            Route(c.OPERATOR_STATUS, c.SetStatusRequest, self.set_status),
            Route(c.DEPARTMENTS, Empty, self.departments),
            Route(c.CHAT_CREATE, c.CreateChatRequest, self.create_chat),
            Route(c.CHAT_GET, c.ChatRef, self.get_chat),
            Route(c.CHAT_POSITION, c.ChatRef, self.chat_position),
            Route(c.CHAT_CLAIM, c.ClaimRequest, self.claim_chat),
            Route(c.CHAT_END, c.EndRequest, self.end_chat),
            Route(c.CHAT_CLOSE, c.CloseRequest, self.close_chat),
            Route(c.CHAT_RATE, c.RateRequest, self.rate_chat),
            Route(c.CHAT_DISMISS, c.DismissRequest, self.dismiss_chat),
            Route(c.BOARD, c.BoardRequest, self.board),
            *self._transfers.routes(),
            Route(c.OPERATORS_LIST, c.OperatorsListRequest, self.operators_list),
        ]

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[Queries]:
        """A transaction whose commit wakes the outbox relay."""
        async with self._store.transaction() as q:
            yield q
        self._relay.wake()

    # --- operators -----------------------------------------------------------------

    async def authenticate(self, req: c.AuthenticateRequest) -> c.OperatorProfile:
        """Check a username and password (Argon2id, verified off the event loop).

        Raises:
            BusError 401: "Wrong username or password." for an unknown username or a
                wrong password alike (an unknown username costs the same hashing time).
        """
        async with self._store.reading() as q:
            row = await q.operator_by_username(domain.normalize_username(req.username))
        if row is None:
            await asyncio.to_thread(verify_password, req.password, await self._decoy())
            raise domain.wrong_credentials()
        if not await asyncio.to_thread(verify_password, req.password, row["password_hash"]):
            raise domain.wrong_credentials()
        async with self._store.reading() as q:
            return await self._profile(q, row)

    async def _decoy(self) -> str:
        """A hash of a random password, for equal-time refusal of unknown usernames."""
        if self._decoy_hash is None:
            self._decoy_hash = await asyncio.to_thread(hash_password, secrets.token_urlsafe(16))
        return self._decoy_hash

    async def get_operator(self, req: c.OperatorRef) -> c.OperatorProfile:
        """An operator's profile. Raises NotFound (404) for an unknown id."""
        async with self._store.reading() as q:
            return await self._profile(q, await self._operator(q, req.operator_id))

    async def create_operator(self, req: c.CreateOperatorRequest) -> c.OperatorProfile:
        """Add an offline operator with memberships of ``department_ids``.

        Raises:
            NotFound (404): a department id is unknown.
            Conflict (409): the username is taken.
        """
        password_hash = await asyncio.to_thread(hash_password, req.password)
        username = domain.normalize_username(req.username)
        async with self._store.transaction() as q:
            for department_id in req.department_ids:
                await self._department(q, department_id)
            row = await q.add_operator(
                new_id(), username=username, full_name=req.full_name, nickname=req.nickname,
                password_hash=password_hash, is_admin=req.is_admin,
            )
            if row is None:
                raise Conflict(f"The username {username} is already taken.")
            await q.add_memberships(row["id"], req.department_ids)
            return await self._profile(q, row)

    async def set_status(self, req: c.SetStatusRequest) -> c.OperatorProfile:
        """Set Online/Offline and the monitored departments; emits
        :class:`OperatorStatusEvent`. ``monitored=None`` keeps the previous set (all
        the operator's departments when going online with none).

        Raises:
            NotFound (404): unknown operator.
            Forbidden (403): ``monitored`` names a department the operator is not in.
        """
        async with self._writing() as q:
            await self._operator(q, req.operator_id, lock=True)
            return await self._change_status(q, req)

    async def _change_status(self, q: Queries, req: c.SetStatusRequest) -> c.OperatorProfile:
        member_of = [row["id"] for row in await q.memberships(req.operator_id)]
        monitored = domain.resolve_monitored(req.monitored, await q.monitored(req.operator_id), member_of, req.status)
        row = await q.set_status(req.operator_id, req.status, monitored)
        profile = await self._profile(q, row)
        await q.enqueue(c.operator_event_subject(profile.id), c.OperatorStatusEvent(event_id=new_id(), operator=profile))
        return profile

    # --- presence ------------------------------------------------------------------

    async def record_presence(self, heartbeat: c.PresenceHeartbeat) -> None:
        """A gateway listed the operators with a dashboard connected to it."""
        async with self._store.reading() as q:
            await q.mark_seen(heartbeat.operator_ids)

    async def expire_absent(self, timeout_seconds: float) -> list[str]:
        """Set Offline every Online operator no gateway has listed for more than
        ``timeout_seconds`` (keeping their monitored departments for next time);
        emits the status events; returns their ids."""
        expired = []
        async with self._store.reading() as q:
            candidates = await q.absent_online(timeout_seconds)
        for operator_id in candidates:
            async with self._writing() as q:
                if await q.still_absent(operator_id, timeout_seconds):
                    await self._change_status(q, c.SetStatusRequest(operator_id=operator_id, status="offline"))
                    expired.append(operator_id)
        if expired:
            self._log.info("presence.went_offline", operator_ids=expired)
        return expired

    async def departments(self, _: Empty) -> c.DepartmentList:
        """Every department with its ``online`` flag, by name."""
        async with self._store.reading() as q:
            online = domain.online_department_ids(await q.monitor_statuses())
            return c.DepartmentList(departments=domain.department_list(await q.departments(), online))

    # --- chats ---------------------------------------------------------------------

    async def create_chat(self, req: c.CreateChatRequest) -> c.ChatView:
        """Queue a patron's chat in a department; emits ``queued``. A retry carrying
        the ``request_id`` of a chat already created answers that chat (no second
        chat, no second event).

        Raises:
            NotFound (404): unknown department.
            Conflict (409): the ``request_id`` was used for a different chat.
        """
        async with self._writing() as q:
            await self._department(q, req.department_id)
            row = await q.add_chat(new_id(), req)
            if row is None:  # only with a request_id: this request was seen before
                return domain.check_retry(domain.chat_view(await q.chat_by_request_id(req.request_id)), req)
            chat = domain.chat_view(row)
            queue, waiting = await self._announce(q, "queued", chat)
        self._log.info("chat.queued", chat_id=chat.id, department=chat.department_id,
                       position=domain.queue_position(queue, chat.id), waiting=waiting)
        return chat

    async def get_chat(self, req: c.ChatRef) -> c.ChatView:
        """One chat. Raises NotFound (404)."""
        async with self._store.reading() as q:
            return await self._chat(q, req.chat_id)

    async def chat_position(self, req: c.ChatRef) -> c.QueuePosition:
        """A chat's place in its department's queue (what a waiting patron is told).
        Raises NotFound (404)."""
        async with self._store.reading() as q:
            chat = await self._chat(q, req.chat_id)
            ahead, waiting = await q.place_in_queue(chat.id)
        return domain.queue_place(chat, ahead, waiting)

    async def claim_chat(self, req: c.ClaimRequest) -> c.ChatView:
        """Claim a queued chat for an operator; emits ``claimed``. The claim itself is
        one conditional UPDATE, so exactly one of concurrent claimers wins. An active
        chat with an open transfer is claimed by the transfer's target instead
        (:meth:`.transfer_endpoints.TransferEndpoints.claim`).

        Raises:
            NotFound (404): unknown chat or operator.
            Forbidden (403): the operator is not in the chat's department.
            Conflict (409): the operator is offline, another operator claimed the chat
                first ("Already claimed by ⟨nickname⟩."), or it ended.
        """
        async with self._writing() as q:
            chat = await self._chat(q, req.chat_id)
            if chat.state == "active" and chat.claimed_by == req.operator_id:
                return chat  # a retry by the owner (also of a chat a transfer brought them)
            if chat.transfer is not None and chat.state == "active":  # completing a transfer
                return await self._transfers.claim(q, chat, req.operator_id)
            operator = await self._operator(q, req.operator_id)
            member_of = [row["id"] for row in await q.memberships(req.operator_id)]
            domain.check_can_claim(chat, operator["status"], member_of)
            row = await q.claim(req.chat_id, req.operator_id)
            if row is None:
                return domain.settle_lost_claim(await self._chat(q, req.chat_id), req.operator_id)
            claimed = domain.chat_view(row)
            await self._announce(q, "claimed", claimed)
        return claimed

    async def end_chat(self, req: c.EndRequest) -> c.ChatView:
        """End a chat, by the patron or by the operator who owns it; emits ``ended``.
        The owner cannot end it while a transfer is open (409); the patron's end also
        ends the open transfer.

        Raises:
            NotFound (404): unknown chat.
            Forbidden (403): an operator who does not own the chat.
            Conflict (409): "This chat has ended."
        """
        async with self._writing() as q:
            chat = await self._chat(q, req.chat_id, lock=True)
            domain.check_end(chat, req.ended_by, req.operator_id)
            cut_short = await self._transfers.end_open(q, chat, req.ended_by)
            ended = domain.chat_view(await q.end(req.chat_id, req.ended_by))
            await self._announce(q, "ended", ended, transfer=cut_short)
        return ended

    async def rate_chat(self, req: c.RateRequest) -> c.ChatView:
        """The patron rates their ended chat (1–5, optional comment); rating again
        replaces the earlier rating. Emits ``rated``.

        Raises:
            NotFound (404): unknown chat.
            Conflict (409): "You can rate this chat once it has ended."
        """
        async with self._writing() as q:
            chat = await self._chat(q, req.chat_id, lock=True)
            domain.check_rate(chat)
            rated = domain.chat_view(await q.rate(req.chat_id, req.rating, req.comment))
            await self._announce(q, "rated", rated)
        return rated

    async def close_chat(self, req: c.CloseRequest) -> c.ChatView:
        """Close an ended chat (after the Reference Analytics form); owner only; emits
        ``closed``.

        Raises:
            NotFound (404): unknown chat.
            Forbidden (403): not the owner.
            Conflict (409): the chat has not ended, or is already closed.
        """
        async with self._writing() as q:
            chat = await self._chat(q, req.chat_id, lock=True)
            domain.check_close(chat, req.operator_id)
            closed = domain.chat_view(await q.close(req.chat_id))
            await self._announce(q, "closed", closed)
        return closed

    async def dismiss_chat(self, req: c.DismissRequest) -> c.ChatView:
        """Dismiss a queued or active chat (LibChat's Dismiss): it is closed with the
        dismissing operator, their nickname and the note (default "Dismissed by
        ⟨nickname⟩") and leaves every dashboard; emits ``dismissed``.

        Raises:
            NotFound (404): unknown chat or operator.
            Forbidden (403): not a member of the chat's department; an active chat
                owned by someone else.
            Conflict (409): "This chat has ended."
        """
        async with self._writing() as q:
            chat = await self._chat(q, req.chat_id, lock=True)
            operator = await self._operator(q, req.operator_id)
            member_of = [row["id"] for row in await q.memberships(req.operator_id)]
            domain.check_dismiss(chat, req.operator_id, member_of)
            await self._transfers.end_open(q, chat, "operator")  # 409 while a transfer is open: cancel it first
            note = domain.dismiss_note(req.note, operator["nickname"])
            dismissed = domain.chat_view(await q.dismiss(req.chat_id, req.operator_id, operator["nickname"], note))
            await self._announce(q, "dismissed", dismissed)
        self._log.info("chat.dismissed", chat_id=dismissed.id, operator_id=req.operator_id, was=chat.state)
        return dismissed

    async def board(self, req: c.BoardRequest) -> c.Board:
        """Queued and active chats of ``department_ids`` (and the operator's ended,
        unclosed ones), oldest first; cut to fit :data:`~refdesk.contracts.queue.BOARD_MAX_BYTES`
        and ``BOARD_MAX_CHATS`` (the operator's own chats kept first), ``more`` set then."""
        async with self._store.reading() as q:
            rows = await q.open_chats(req.department_ids, req.operator_id)
        return domain.fit_board([domain.chat_view(row) for row in rows], max_bytes=c.BOARD_MAX_BYTES,
                                max_chats=BOARD_MAX_CHATS)

    async def operators_list(self, req: c.OperatorsListRequest) -> c.OperatorList:
        """The staff list: every operator (or those of ``req.operator_ids``) with
        status, departments, monitored ids and active chat count, by nickname
        (:func:`.domain.staff_list`)."""
        async with self._store.reading() as q:
            return c.OperatorList(operators=domain.staff_list(*await q.staff(req.operator_ids)))

    # --- shared steps --------------------------------------------------------------

    async def _announce(self, q: Queries, event: c.ChatEventType, chat: c.ChatView,
                        transfer: c.TransferView | None = None) -> tuple[list[str], int]:
        """Enqueue the ChatEvent for ``chat`` (naming ``transfer``, the transfer it
        concerns, if any) with its department queue as this transaction sees it;
        return that queue (the first ``DEPARTMENT_QUEUE_IDS`` ids, oldest first) and
        how many chats wait in all."""
        queue, waiting = await q.department_queue(chat.department_id, c.DEPARTMENT_QUEUE_IDS)
        await q.enqueue(
            c.chat_event_subject(chat.id, event),
            c.ChatEvent(event_id=new_id(), type=event, chat=chat, department_queue=queue, waiting=waiting,
                        transfer=transfer),
        )
        return queue, waiting

    async def _profile(self, q: Queries, row: asyncpg.Record) -> c.OperatorProfile:
        """The operator's profile with their departments' current ``online`` flags."""
        online = domain.online_department_ids(await q.monitor_statuses())
        departments = domain.department_list(await q.memberships(row["id"]), online)
        return domain.operator_profile(row, departments, await q.monitored(row["id"]))

    @staticmethod
    async def _operator(q: Queries, operator_id: str, *, lock: bool = False) -> asyncpg.Record:
        row = await q.operator(operator_id, lock=lock)
        if row is None:
            raise NotFound("There is no such operator.")
        return row

    @staticmethod
    async def _department(q: Queries, department_id: str) -> asyncpg.Record:
        row = await q.department(department_id)
        if row is None:
            raise NotFound(f"There is no department called {department_id!r}.")
        return row

    @staticmethod
    async def _chat(q: Queries, chat_id: str, *, lock: bool = False) -> c.ChatView:
        row = await q.chat(chat_id, lock=lock)
        if row is None:
            raise NotFound("There is no such chat.")
        return domain.chat_view(row)


async def wire(ctx: Context) -> None:
    """Register the queue endpoints, the presence listener and its sweep; apply the
    demo seed first when ``settings.demo_seed`` is set."""
    store = QueueStore(ctx.pool)
    handlers = QueueEndpoints(store, ctx.relay, ctx.log)
    if ctx.settings.demo_seed:
        await apply_demo_seed(store, handlers.create_operator)
    for route in handlers.routes():
        ctx.endpoints.add(route.subject, route.request_type, route.handler, max_in_flight=route.max_in_flight)
    await presence.listen(ctx.nc, handlers.record_presence, ctx.log)
    ctx.background(presence.sweep(handlers.expire_absent, ctx.settings.presence_timeout_seconds, ctx.stop, ctx.log),
                   name="presence-sweep")
