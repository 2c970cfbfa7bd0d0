"""Request handlers of the tickets service and its wiring (``wire``).

Each handler takes a validated request model and returns a reply model (see
:mod:`refdesk.contracts.tickets`). A change, its :class:`TicketEvent` and any email it
sends commit in one transaction (event outbox and mail outbox); the relay is woken
after the commit. Authorisation (who may act on which ticket) is the gateway's; the
service checks the workflow rules (:mod:`.domain`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NamedTuple

import asyncpg
import structlog
from pydantic import BaseModel

from refdesk.bus import BusError, Conflict, Handler, NotFound
from refdesk.contracts import tickets as c
from refdesk.contracts.common import Empty, Ok
from refdesk.ids import new_id
from refdesk import mail
from refdesk.outbox import OutboxRelay
from refdesk.service import Context
from refdesk.settings import Settings

from . import domain, emails, inbound
from .seed import apply_demo_seed
from .store import Queries, TicketStore

log = structlog.get_logger()

SYSTEM_AUTHOR = "refdesk"


class Route(NamedTuple):
    """One endpoint: subject, request model and handler."""

    subject: str
    request_type: type[BaseModel]
    handler: Handler


class TicketEndpoints:
    """The handlers of ``rd.tickets.*`` over one :class:`TicketStore`.

    Args:
        store: the service's data.
        relay: woken after each commit that enqueued events.
        mailer: the service's mail relay (sends what the mail outbox holds).
        settings: ``mail_from`` and ``ticket_reply_domain``.
    """

    def __init__(self, store: TicketStore, relay: OutboxRelay, mailer: mail.MailRelay, settings: Settings) -> None:
        self._store = store
        self._relay = relay
        self._mailer = mailer
        self._settings = settings

    def routes(self) -> list[Route]:
        """Every endpoint."""
        return [
            Route(c.HEALTH, Empty, self.health),
            Route(c.CREATE_FROM_CHAT, c.CreateFromChatRequest, self.create_from_chat),
            Route(c.CREATE_OFFLINE, c.CreateOfflineRequest, self.create_offline),
            Route(c.LIST, c.ListRequest, self.list),
            Route(c.GET, c.TicketRef, self.get),
            Route(c.CLAIM, c.ClaimRequest, self.claim),
            Route(c.UNCLAIM, c.UnclaimRequest, self.unclaim),
            Route(c.ASSIGN, c.AssignRequest, self.assign),
            Route(c.REPLY, c.ReplyRequest, self.reply),
            Route(c.NOTE, c.NoteRequest, self.note),
            Route(c.SET_STATUS, c.SetStatusRequest, self.set_status),
        ]

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[Queries]:
        """A transaction whose commit wakes the outbox relay and the mail outbox."""
        async with self._store.transaction() as q:
            yield q
        self._relay.wake()
        self._mailer.wake()

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

    # --- creating -----------------------------------------------------------------

    async def create_from_chat(self, req: c.CreateFromChatRequest) -> c.TicketView:
        """"Create ticket from this chat": a New ticket in ``department_id`` (owned by
        ``owner_operator_id`` when given) with the patron's contact, the question as
        its first message, the transcript kept staff-side, a system line naming who
        created it and, if given, the creator's internal note. Emits ``created``. When
        the chat has a patron email, a short confirmation is emailed (as for the offline
        form; the system line says so and carries the mail for threading)."""
        fields = {
            "department_id": req.department_id, "department_name": req.department_name,
            "subject": domain.subject_of(req.question), "patron_name": req.patron_name,
            "patron_email": req.patron_email, "question": req.question, "chat_id": req.chat_id,
            "owner_operator_id": req.owner_operator_id,
            "owner_operator_name": req.owner_operator_name if req.owner_operator_id else None,
            "reply_secret": domain.new_secret(),
            "transcript": [line.model_dump(mode="json") for line in req.transcript],
        }
        async with self._writing() as q:
            row = await q.add_ticket(new_id(), fields)
            assert row is not None  # no request_id: never a retry
            await q.add_message(new_id(), row["id"], kind="patron", author=req.patron_name, body=req.question)
            whom = f" for {req.owner_operator_name}" if req.owner_operator_id else ""
            created = f"{req.operator_name} created this ticket from a chat{whom}."
            if req.patron_email:
                ticket = domain.ticket_view(row)
                confirmation_id = new_id()
                reply_to, message_id = emails.addresses(ticket.id, row["reply_secret"], confirmation_id,
                                                        self._settings.ticket_reply_domain)
                mail_id = await mail.enqueue_mail(q.conn, emails.confirmation_email(
                    ticket, reply_to=reply_to, message_id=message_id, from_chat=True))
                await self._system(q, ticket.id, f"{created} Confirmation emailed to {ticket.patron_email}.",
                                   message_row_id=confirmation_id, mail_id=mail_id, mail_message_id=message_id)
            else:
                await self._system(q, row["id"], created)
            if req.note and req.note.strip():
                await q.add_message(new_id(), row["id"], kind="internal_note", author=req.operator_name,
                                    author_id=req.operator_id, body=domain.cut(req.note.strip()))
            ticket = await self._announce(q, row["id"], "created")
        log.info("ticket.created", ticket_id=ticket.id, chat_id=req.chat_id, department=ticket.department_id)
        return ticket

    async def create_offline(self, req: c.CreateOfflineRequest) -> c.TicketView:
        """The widget's offline form: a New ticket and a confirmation email (with the
        ticket's reply address). A retry with the same ``request_id`` answers the
        first ticket (no second ticket, no second email). Emits ``created``."""
        fields = {
            "department_id": req.department_id, "department_name": req.department_name,
            "subject": domain.subject_of(req.question), "patron_name": req.patron_name,
            "patron_email": str(req.patron_email), "question": req.question, "page_url": req.page_url,
            "request_id": req.request_id, "reply_secret": domain.new_secret(),
        }
        async with self._writing() as q:
            row = await q.add_ticket(new_id(), fields)
            if row is None:
                return domain.ticket_view(await q.ticket_by_request_id(req.request_id or ""))
            await q.add_message(new_id(), row["id"], kind="patron", author=req.patron_name, body=req.question)
            ticket = domain.ticket_view(row)
            confirmation_id = new_id()
            reply_to, message_id = emails.addresses(ticket.id, row["reply_secret"], confirmation_id,
                                                    self._settings.ticket_reply_domain)
            mail_id = await mail.enqueue_mail(q.conn, emails.confirmation_email(ticket, reply_to=reply_to,
                                                                                message_id=message_id))
            await self._system(q, ticket.id, f"Confirmation emailed to {ticket.patron_email}.",
                               message_row_id=confirmation_id, mail_id=mail_id, mail_message_id=message_id)
            ticket = await self._announce(q, ticket.id, "created")
        log.info("ticket.created_offline", ticket_id=ticket.id, department=ticket.department_id)
        return ticket

    # --- reading ------------------------------------------------------------------

    async def list(self, req: c.ListRequest) -> c.TicketList:
        """A page of the tickets the caller sees, filtered, most recently updated first."""
        async with self._store.reading() as q:
            rows, total, counts = await q.search(req)
        return c.TicketList(tickets=[domain.ticket_view(row) for row in rows], total=total, counts=counts)

    async def get(self, req: c.TicketRef) -> c.TicketDetail:
        """A ticket with its thread and kept transcript. Raises NotFound (404)."""
        async with self._store.reading() as q:
            return await self._detail(q, req.ticket_id)

    # --- owners -------------------------------------------------------------------

    async def claim(self, req: c.ClaimRequest) -> c.TicketView:
        """Claim: the first claimer owns the ticket (status unchanged); another's
        claim is ``409`` "Already claimed by ⟨name⟩."; a repeated claim changes
        nothing. Emits ``updated``."""
        async with self._writing() as q:
            row = await self._ticket(q, req.ticket_id, lock=True)
            if not domain.check_claim(row["owner_operator_id"], row["owner_operator_name"], req.operator_id):
                return domain.ticket_view(row)
            await q.update_ticket(row["id"], owner_operator_id=req.operator_id, owner_operator_name=req.operator_name)
            await self._system(q, row["id"], f"{req.operator_name} claimed this ticket.")
            return await self._announce(q, row["id"], "updated")

    async def unclaim(self, req: c.UnclaimRequest) -> c.TicketView:
        """Unclaim: the ticket goes back to unowned (owner, or ``force`` for admins).
        Emits ``updated``. Raises Conflict (409) when unowned, Forbidden (403)."""
        async with self._writing() as q:
            row = await self._ticket(q, req.ticket_id, lock=True)
            domain.check_unclaim(row["owner_operator_id"], req.operator_id, force=req.force)
            await q.update_ticket(row["id"], owner_operator_id=None, owner_operator_name=None)
            await self._system(q, row["id"], f"{req.operator_name} unclaimed this ticket.")
            return await self._announce(q, row["id"], "updated")

    async def assign(self, req: c.AssignRequest) -> c.TicketView:
        """Assign to an operator (they own it) or transfer to a department (unowned
        there, ``assigned_department`` set); a New ticket becomes Open. Emits ``updated``."""
        async with self._writing() as q:
            row = await self._ticket(q, req.ticket_id, lock=True)
            status = domain.after_staff_action(row["status"])
            if req.to_operator_id is not None:
                await q.update_ticket(row["id"], owner_operator_id=req.to_operator_id,
                                      owner_operator_name=req.to_operator_name, status=status)
                text = f"{req.operator_name} assigned this ticket to {req.to_operator_name}."
            else:
                if req.to_department_id == row["department_id"]:
                    raise Conflict(f"This ticket is already in {row['department_name']}.")
                await q.update_ticket(row["id"], department_id=req.to_department_id,
                                      department_name=req.to_department_name,
                                      assigned_department=req.to_department_name, owner_operator_id=None,
                                      owner_operator_name=None, status=status)
                text = f"{req.operator_name} transferred this ticket to {req.to_department_name}."
            await self._system(q, row["id"], text)
            return await self._announce(q, row["id"], "updated")

    # --- writing ------------------------------------------------------------------

    async def reply(self, req: c.ReplyRequest) -> c.TicketDetail:
        """Email a reply to the patron (``Reply-To`` the ticket's address, threaded
        on the ticket's previous email) and set the status chosen (Pending by
        default). An unowned ticket becomes the replier's. Emits ``updated``.

        Raises:
            Conflict (409): the patron left no email address.
        """
        async with self._writing() as q:
            row = await self._ticket(q, req.ticket_id, lock=True)
            if not row["patron_email"]:
                raise Conflict("This patron left no email address, so a reply cannot be sent. "
                               "Add an internal note instead.")
            status = domain.after_reply(req.status_after)
            owner = {} if row["owner_operator_id"] else {
                "owner_operator_id": req.operator_id, "owner_operator_name": req.operator_name}
            ticket = domain.ticket_view(await q.update_ticket(row["id"], status=status, last_message_from="staff",
                                                              **owner))
            reply_id = new_id()
            reply_to, message_id = emails.addresses(ticket.id, row["reply_secret"], reply_id,
                                                    self._settings.ticket_reply_domain)
            previous = await q.last_mail_id(ticket.id)
            mail_id = await mail.enqueue_mail(q.conn, emails.reply_email(
                ticket, req.body, reply_to=reply_to, message_id=message_id, in_reply_to=previous,
                requested_by=req.operator_id))
            await q.add_message(reply_id, ticket.id, kind="reply", author=req.operator_name,
                                author_id=req.operator_id, body=req.body, mail_id=mail_id,
                                mail_message_id=message_id)
            await self._announce(q, ticket.id, "updated")
            return await self._detail(q, ticket.id)

    async def note(self, req: c.NoteRequest) -> c.TicketDetail:
        """Add an internal note (never emailed); a New ticket becomes Open. Emits ``updated``."""
        async with self._writing() as q:
            row = await self._ticket(q, req.ticket_id, lock=True)
            await q.add_message(new_id(), row["id"], kind="internal_note", author=req.operator_name,
                                author_id=req.operator_id, body=req.body)
            await q.update_ticket(row["id"], status=domain.after_staff_action(row["status"]))
            await self._announce(q, row["id"], "updated")
            return await self._detail(q, row["id"])

    async def set_status(self, req: c.SetStatusRequest) -> c.TicketView:
        """Set the status by hand (not back to New: 422). Emits ``updated`` when it changed."""
        async with self._writing() as q:
            row = await self._ticket(q, req.ticket_id, lock=True)
            status = domain.set_status(row["status"], req.status)
            if status == row["status"]:
                return domain.ticket_view(row)
            await q.update_ticket(row["id"], status=status)
            await self._system(q, row["id"], f"{req.operator_name} set the status to {status}.")
            return await self._announce(q, row["id"], "updated")

    async def patron_email(self, ticket_id: str, *, author: str, body: str, mail_message_id: str | None) -> bool:
        """Store a patron's emailed answer in its ticket and reopen it
        (:func:`domain.after_patron_message`). An email already stored (same
        ``Message-ID``) changes nothing. Emits ``updated``.

        Returns:
            False when the ticket does not exist.
        """
        async with self._writing() as q:
            row = await q.ticket(ticket_id, lock=True)
            if row is None:
                return False
            added = await q.add_message(new_id(), ticket_id, kind="patron", author=author, body=body,
                                        mail_message_id=mail_message_id)
            if added is None:
                return True
            await q.update_ticket(ticket_id, status=domain.after_patron_message(row["status"]),
                                  last_message_from="patron")
            await self._announce(q, ticket_id, "updated")
        log.info("ticket.patron_replied", ticket_id=ticket_id)
        return True

    # --- shared steps -------------------------------------------------------------

    async def _system(self, q: Queries, ticket_id: str, text: str, *, message_row_id: str | None = None,
                      mail_id: str | None = None, mail_message_id: str | None = None) -> None:
        await q.add_message(message_row_id or new_id(), ticket_id, kind="system", author=SYSTEM_AUTHOR, body=text,
                            mail_id=mail_id, mail_message_id=mail_message_id)

    async def _announce(self, q: Queries, ticket_id: str, event: c.TicketEventType) -> c.TicketView:
        """Enqueue the :class:`TicketEvent` for the ticket as this transaction sees it."""
        ticket = domain.ticket_view(await q.ticket(ticket_id))
        await q.enqueue(c.ticket_event_subject(ticket.id, event),
                        c.TicketEvent(event_id=new_id(), type=event, ticket=ticket))
        return ticket

    async def _detail(self, q: Queries, ticket_id: str) -> c.TicketDetail:
        row = await self._ticket(q, ticket_id)
        return c.TicketDetail(ticket=domain.ticket_view(row),
                              messages=[domain.message_view(m) for m in await q.messages(ticket_id)],
                              transcript=[c.TranscriptLine.model_validate(line) for line in row["transcript"]])

    @staticmethod
    async def _ticket(q: Queries, ticket_id: str, *, lock: bool = False) -> asyncpg.Record:
        row = await q.ticket(ticket_id, lock=lock)
        if row is None:
            raise NotFound("There is no such ticket.")
        return row


async def wire(ctx: Context) -> None:
    """Register the endpoints, start the mail outbox and the inbound SMTP server
    (stopped with the service); apply the demo tickets when ``settings.demo_seed``."""
    store = TicketStore(ctx.pool)
    mailer = mail.start_mail_relay(ctx, c.SERVICE)
    handlers = TicketEndpoints(store, ctx.relay, mailer, ctx.settings)
    if ctx.settings.demo_seed:
        await apply_demo_seed(store)
    for route in handlers.routes():
        ctx.endpoints.add(route.subject, route.request_type, route.handler)
    await inbound.start(ctx, store, handlers.patron_email)
