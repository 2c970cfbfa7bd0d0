"""The tickets workflow against real NATS + PostgreSQL + SMTP (aiosmtpd on both
sides): the offline form's ticket and confirmation email, tickets created from a chat,
claim / assign / notes / replies with their statuses, emails that never carry internal
notes, and patrons' emailed answers threading back through the inbound SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from email.message import EmailMessage

import aiosmtplib
import asyncpg
import pytest
import pytest_asyncio
from aiosmtpd.smtp import SMTP

from refdesk import bus
from refdesk.bus import BusError
from refdesk.contracts import tickets as t
from refdesk.embedded import free_port
from services.tickets.inbound import MAX_MESSAGE_BYTES
from tests.support import Stack, eventually, running

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

NOTE_TEXT = "Staff only: the patron owes fines, do not mention."


class Outbox:
    """A real SMTP server (aiosmtpd) that keeps every message it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self._server: asyncio.AbstractServer | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook name
        self.received.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 OK"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, loop=loop), "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if address in str(m["To"])]

    async def __aenter__(self) -> Outbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def outbox() -> AsyncIterator[Outbox]:
    async with Outbox() as box:
        yield box


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(servers, outbox: Outbox) -> AsyncIterator[Stack]:
    async with running(servers, "tickets", smtp_port=outbox.port, mail_retry_seconds=[0.5, 0.5]) as s:
        yield s


async def collect(stack: Stack, subject: str) -> tuple[list[t.TicketEvent], object]:
    """Ticket events on ``subject`` as they are published, and the subscription."""
    events: list[t.TicketEvent] = []

    async def keep(msg) -> None:
        events.append(t.TicketEvent.model_validate_json(msg.data))

    return events, await stack.nc.subscribe(subject, cb=keep)


async def call(stack: Stack, subject: str, payload, reply_type):
    return await bus.request(stack.nc, subject, payload, reply_type)


async def offline(stack: Stack, email_address: str, question: str = "Do you have the 1910 census?") -> t.TicketView:
    return await call(stack, t.CREATE_OFFLINE, t.CreateOfflineRequest(
        department_id="reference", department_name="Reference", patron_name="Maya Chen",
        patron_email=email_address, question=question), t.TicketView)


async def detail(stack: Stack, ticket_id: str) -> t.TicketDetail:
    return await call(stack, t.GET, t.TicketRef(ticket_id=ticket_id), t.TicketDetail)


def subject(message: EmailMessage) -> str:
    """The Subject as a reader sees it (a folded header may start with a space)."""
    return str(message["Subject"]).strip()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


async def test_offline_form_creates_a_new_ticket_and_emails_a_confirmation(stack: Stack, outbox: Outbox) -> None:
    created, sub = await collect(stack, "rd.ev.tickets.ticket.*.created")
    request = t.CreateOfflineRequest(department_id="reference", department_name="Reference", patron_name="Maya Chen",
                                     patron_email="maya.offline@example.org", question="Do you have the 1910 census?",
                                     request_id="offline-form-retry-0001")
    ticket = await call(stack, t.CREATE_OFFLINE, request, t.TicketView)
    again = await call(stack, t.CREATE_OFFLINE, request, t.TicketView)  # a retry: same ticket, no second email
    assert again.id == ticket.id
    assert (ticket.status, ticket.department_name, ticket.patron_email, ticket.chat_id) == (
        "New", "Reference", "maya.offline@example.org", None)
    assert ticket.subject == "Do you have the 1910 census?"

    mails = await eventually(lambda: asyncio.sleep(0, outbox.to("maya.offline@example.org")), what="confirmation")
    confirmation = mails[0]
    assert subject(confirmation).startswith("We've received your question")
    reply_to = str(confirmation["Reply-To"])
    assert reply_to.startswith(f"ticket+{ticket.id}.") and reply_to.endswith(f"@{stack.settings.ticket_reply_domain}")
    assert str(confirmation["Message-ID"]).startswith(f"<ticket.{ticket.id}.")
    assert "Do you have the 1910 census?" in body_of(confirmation)
    await eventually(lambda: asyncio.sleep(0, [e for e in created if e.ticket.id == ticket.id]), what="created event")
    await asyncio.sleep(0.3)
    assert len(outbox.to("maya.offline@example.org")) == 1
    await sub.unsubscribe()

    async def confirmed() -> t.TicketDetail | None:
        shown = await detail(stack, ticket.id)
        return shown if shown.messages[-1].mail_status == "sent" else None

    shown = await eventually(confirmed, what="the confirmation shown as sent")
    assert [m.kind for m in shown.messages] == ["patron", "system"]


async def test_create_from_chat_carries_contact_question_and_transcript(stack: Stack) -> None:
    events, sub = await collect(stack, "rd.ev.tickets.ticket.>")
    now = datetime.now(timezone.utc)
    transcript = [
        t.TranscriptLine(author_kind="patron", author_name="Sam", body="Where are the 1970s maps?", sent_at=now),
        t.TranscriptLine(author_kind="operator", author_name="Ana", body="Let me check the catalogue.", sent_at=now),
        t.TranscriptLine(author_kind="operator", author_name="Ana", body="staff aside", sent_at=now, internal=True),
    ]
    ticket = await call(stack, t.CREATE_FROM_CHAT, t.CreateFromChatRequest(
        operator_id="op-ana", operator_name="Ana", chat_id="chat-123", department_id="archives",
        department_name="Archives", owner_operator_id="op-ben", owner_operator_name="Ben", patron_name="Sam",
        patron_email="sam@example.org", question="Where are the 1970s maps?", note="Ben knows the map cases.",
        transcript=transcript), t.TicketView)
    assert (ticket.chat_id, ticket.department_id, ticket.owner_operator_name, ticket.status) == (
        "chat-123", "archives", "Ben", "New")
    assert (ticket.patron_name, ticket.patron_email, ticket.question) == ("Sam", "sam@example.org",
                                                                         "Where are the 1970s maps?")
    shown = await detail(stack, ticket.id)
    assert [(line.body, line.internal) for line in shown.transcript] == [
        ("Where are the 1970s maps?", False), ("Let me check the catalogue.", False), ("staff aside", True)]
    assert [m.kind for m in shown.messages] == ["patron", "system", "internal_note"]
    event = await eventually(lambda: asyncio.sleep(0, [e for e in events if e.ticket.id == ticket.id]),
                             what="the created event")
    assert event[0].type == "created" and event[0].ticket.chat_id == "chat-123"
    await sub.unsubscribe()


async def test_a_chat_ticket_emails_the_patron_a_confirmation(stack: Stack, outbox: Outbox) -> None:
    """Like the offline form: a short "We've received your question" with the ticket's
    reply address; the system line says so; no note or transcript line is emailed.
    A chat without a patron email sends nothing."""
    now = datetime.now(timezone.utc)
    ticket = await call(stack, t.CREATE_FROM_CHAT, t.CreateFromChatRequest(
        operator_id="op-ana", operator_name="Ana", chat_id="chat-confirm", department_id="archives",
        department_name="Archives", patron_name="Rosa", patron_email="rosa.chat@example.org",
        question="Do you have the 1930s river survey?", note="STAFF-ONLY survey remark",
        transcript=[t.TranscriptLine(author_kind="operator", author_name="Ana", body="CHAT-LINE-X", sent_at=now)]),
        t.TicketView)
    mail = (await eventually(lambda: asyncio.sleep(0, outbox.to("rosa.chat@example.org")), what="confirmation"))[0]
    assert subject(mail).startswith("We've received your question")
    assert str(mail["Reply-To"]).startswith(f"ticket+{ticket.id}.")
    text = body_of(mail)
    assert "Hello Rosa" in text and "follow up your chat question by email" in text
    assert "1930s river survey" in text and "STAFF-ONLY" not in text and "CHAT-LINE-X" not in text
    shown = await detail(stack, ticket.id)
    assert [m.kind for m in shown.messages] == ["patron", "system", "internal_note"]
    assert shown.messages[1].body == "Ana created this ticket from a chat. Confirmation emailed to rosa.chat@example.org."

    quiet = await call(stack, t.CREATE_FROM_CHAT, t.CreateFromChatRequest(
        operator_id="op-ana", operator_name="Ana", chat_id="chat-no-email", department_id="archives",
        department_name="Archives", patron_name="Lee", question="Anything on the old mill?"), t.TicketView)
    assert (await detail(stack, quiet.id)).messages[1].body == "Ana created this ticket from a chat."
    # a later mail (the outbox sends in order) arrives, and none was sent for Lee's ticket
    await offline(stack, "after.lee@example.org")
    await eventually(lambda: asyncio.sleep(0, outbox.to("after.lee@example.org")), what="the later mail")
    assert not [m for m in outbox.received if "old mill" in m.as_string()]


async def test_claim_assign_and_status_rules(stack: Stack) -> None:
    ticket = await offline(stack, "claims@example.org")
    ana = {"operator_id": "op-ana", "operator_name": "Ana"}
    ben = {"operator_id": "op-ben", "operator_name": "Ben"}
    claimed = await call(stack, t.CLAIM, t.ClaimRequest(ticket_id=ticket.id, **ana), t.TicketView)
    assert (claimed.owner_operator_name, claimed.status) == ("Ana", "New")
    with pytest.raises(BusError) as lost:
        await call(stack, t.CLAIM, t.ClaimRequest(ticket_id=ticket.id, **ben), t.TicketView)
    assert (lost.value.code, lost.value.message) == ("409", "Already claimed by Ana.")
    with pytest.raises(BusError) as not_owner:
        await call(stack, t.UNCLAIM, t.UnclaimRequest(ticket_id=ticket.id, **ben), t.TicketView)
    assert not_owner.value.code == "403"
    unclaimed = await call(stack, t.UNCLAIM, t.UnclaimRequest(ticket_id=ticket.id, **ana), t.TicketView)
    assert unclaimed.owner_operator_id is None

    moved = await call(stack, t.ASSIGN, t.AssignRequest(ticket_id=ticket.id, to_department_id="circulation",
                                                        to_department_name="Circulation", **ana), t.TicketView)
    assert (moved.department_id, moved.assigned_department, moved.status) == ("circulation", "Circulation", "Open")
    given = await call(stack, t.ASSIGN, t.AssignRequest(ticket_id=ticket.id, to_operator_id="op-ben",
                                                        to_operator_name="Ben", **ana), t.TicketView)
    assert (given.owner_operator_id, given.department_id) == ("op-ben", "circulation")

    with pytest.raises(BusError) as back_to_new:
        await call(stack, t.SET_STATUS, t.SetStatusRequest(ticket_id=ticket.id, status="New", **ben), t.TicketView)
    assert back_to_new.value.code == "422"
    closed = await call(stack, t.SET_STATUS, t.SetStatusRequest(ticket_id=ticket.id, status="Closed", **ben),
                        t.TicketView)
    assert closed.status == "Closed"
    with pytest.raises(BusError) as missing:
        await call(stack, t.GET, t.TicketRef(ticket_id="nope"), t.TicketDetail)
    assert missing.value.code == "404"


async def test_reply_is_emailed_with_reply_to_and_notes_never_are(stack: Stack, outbox: Outbox) -> None:
    ticket = await offline(stack, "reply.patron@example.org", "Can I borrow a laptop overnight?")
    actor = {"operator_id": "op-ana", "operator_name": "Ana"}
    noted = await call(stack, t.NOTE, t.NoteRequest(ticket_id=ticket.id, body=NOTE_TEXT, **actor), t.TicketDetail)
    assert noted.ticket.status == "Open"  # someone acted on it
    replied = await call(stack, t.REPLY, t.ReplyRequest(ticket_id=ticket.id, body="Yes, laptops go out for 3 days.",
                                                        **actor), t.TicketDetail)
    assert (replied.ticket.status, replied.ticket.last_message_from, replied.ticket.owner_operator_name) == (
        "Pending", "staff", "Ana")
    mails = await eventually(lambda: asyncio.sleep(0, [m for m in outbox.to("reply.patron@example.org")
                                                       if subject(m).startswith("Re:")]), what="the reply email")
    reply = mails[0]
    assert str(reply["Reply-To"]).startswith(f"ticket+{ticket.id}.")
    assert str(reply["Message-ID"]).startswith(f"<ticket.{ticket.id}.")
    assert reply["In-Reply-To"]  # threads on the confirmation
    text = body_of(reply)
    assert "Yes, laptops go out for 3 days." in text and "Can I borrow a laptop overnight?" in text
    await asyncio.sleep(0.5)  # give a (wrong) note email time to arrive
    for message in outbox.received:
        assert NOTE_TEXT not in message.as_string()
    closing = await call(stack, t.REPLY, t.ReplyRequest(ticket_id=ticket.id, body="Anything else?",
                                                        status_after="Closed", **actor), t.TicketDetail)
    assert closing.ticket.status == "Closed"
    assert [m.kind for m in closing.messages].count("reply") == 2


async def test_reply_without_an_email_address_is_refused(stack: Stack) -> None:
    ticket = await call(stack, t.CREATE_FROM_CHAT, t.CreateFromChatRequest(
        operator_id="op-ana", operator_name="Ana", chat_id="chat-no-mail", department_id="reference",
        department_name="Reference", patron_name="Anon", question="Is the library open on Sunday?"), t.TicketView)
    with pytest.raises(BusError) as refused:
        await call(stack, t.REPLY, t.ReplyRequest(ticket_id=ticket.id, body="Yes.", operator_id="op-ana",
                                                  operator_name="Ana"), t.TicketDetail)
    assert refused.value.code == "409" and "no email address" in refused.value.message


def patron_answer(to: str, text: str, *, message_id: str, in_reply_to: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Maya Chen <maya.answers@example.org>"
    message["To"] = to
    message["Subject"] = "Re: your question"
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(text)
    return message


async def test_an_emailed_answer_threads_back_and_reopens_the_ticket(stack: Stack, outbox: Outbox) -> None:
    ticket = await offline(stack, "maya.answers@example.org", "Which databases cover 19th-century newspapers?")
    await call(stack, t.REPLY, t.ReplyRequest(ticket_id=ticket.id, body="Try Chronicling America.", status_after="Closed",
                                              operator_id="op-ana", operator_name="Ana"), t.TicketDetail)
    reply = (await eventually(lambda: asyncio.sleep(0, [m for m in outbox.to("maya.answers@example.org")
                                                        if subject(m).startswith("Re:")]), what="reply"))[0]
    reply_to = str(reply["Reply-To"])
    port = stack.settings.inbound_smtp_port
    answer = patron_answer(reply_to, "Thank you! Does it include the Tribune?\n\nOn Tue, Ana wrote:\n> Try Chronicling "
                           "America.\n", message_id="<answer-1@example.org>")
    await aiosmtplib.send(answer, hostname="127.0.0.1", port=port)
    await aiosmtplib.send(answer, hostname="127.0.0.1", port=port)  # delivered twice: stored once

    shown = await detail(stack, ticket.id)
    patron = [m for m in shown.messages if m.kind == "patron"]
    assert [m.body for m in patron] == ["Which databases cover 19th-century newspapers?",
                                        "Thank you! Does it include the Tribune?"]
    assert patron[1].author == "Maya Chen"
    assert (shown.ticket.status, shown.ticket.last_message_from) == ("Open", "patron")

    # threaded by header alone: another address at the reply domain, In-Reply-To our Message-ID
    by_header = patron_answer(f"help@{stack.settings.ticket_reply_domain}", "One more thing.",
                              message_id="<answer-2@example.org>", in_reply_to=str(reply["Message-ID"]))
    await aiosmtplib.send(by_header, hostname="127.0.0.1", port=port)
    assert (await detail(stack, ticket.id)).messages[-1].body == "One more thing."


async def test_an_emailed_answer_without_a_display_name_shows_the_patron_name(stack: Stack, outbox: Outbox) -> None:
    """From: a bare address: the ticket's patron name when it is the ticket's email
    (any case), else the address itself."""
    ticket = await offline(stack, "Pat.Bare@example.org", "Do you keep parish registers?")
    port = stack.settings.inbound_smtp_port
    address = f"ticket+{ticket.id}.{await secret_of(stack, ticket.id)}@{stack.settings.ticket_reply_domain}"
    for sender, message_id, text in (("pat.bare@EXAMPLE.org", "<bare-1@example.org>", "First answer."),
                                     ("someone.else@example.org", "<bare-2@example.org>", "Second answer.")):
        answer = patron_answer(address, text, message_id=message_id)
        answer.replace_header("From", sender)
        await aiosmtplib.send(answer, hostname="127.0.0.1", port=port)
    authors = {m.body: m.author for m in (await detail(stack, ticket.id)).messages if m.kind == "patron"}
    assert authors["First answer."] == "Maya Chen"
    assert authors["Second answer."] == "someone.else@example.org"


async def test_unknown_addresses_are_refused_with_550(stack: Stack) -> None:
    port = stack.settings.inbound_smtp_port
    domain = stack.settings.ticket_reply_domain
    ticket = await offline(stack, "refused@example.org")
    for address in (f"ticket+{ticket.id}.0000000000000000@{domain}", f"ticket+ffff.0123456789abcdef@{domain}",
                    "someone@elsewhere.example"):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await aiosmtplib.send(patron_answer(address, "hello", message_id="<x@example.org>"),
                                  hostname="127.0.0.1", port=port)
        assert refused.value.recipients[0].code == 550
    with pytest.raises(aiosmtplib.SMTPResponseException) as no_ticket:
        await aiosmtplib.send(patron_answer(f"help@{domain}", "hello", message_id="<y@example.org>"),
                              hostname="127.0.0.1", port=port)
    assert no_ticket.value.code == 550
    assert [m.kind for m in (await detail(stack, ticket.id)).messages] == ["patron", "system"]


async def test_list_filters_and_counts(stack: Stack) -> None:
    mine = await offline(stack, "list@example.org", "Zebra finches in the rare books?")
    await call(stack, t.CLAIM, t.ClaimRequest(ticket_id=mine.id, operator_id="op-lister", operator_name="Lee"),
               t.TicketView)
    found = await call(stack, t.LIST, t.ListRequest(text="zebra finches"), t.TicketList)
    assert [x.id for x in found.tickets] == [mine.id] and found.total == 1
    own = await call(stack, t.LIST, t.ListRequest(owner="mine", viewer_id="op-lister"), t.TicketList)
    assert [x.id for x in own.tickets] == [mine.id]
    # an owner sees their ticket outside their departments; others do not
    scoped = await call(stack, t.LIST, t.ListRequest(scope_department_ids=["archives"], viewer_id="op-lister",
                                                     text="zebra"), t.TicketList)
    assert [x.id for x in scoped.tickets] == [mine.id]
    other = await call(stack, t.LIST, t.ListRequest(scope_department_ids=["archives"], viewer_id="op-x",
                                                    text="zebra"), t.TicketList)
    assert other.tickets == []
    new = await call(stack, t.LIST, t.ListRequest(statuses=["New"], owner="unclaimed"), t.TicketList)
    assert mine.id not in [x.id for x in new.tickets] and all(x.status == "New" for x in new.tickets)
    assert found.counts.get("New", 0) >= 1
    assert json.loads(found.model_dump_json())["tickets"][0]["question"] == "Zebra finches in the rare books?"


async def test_an_oversized_email_is_refused_and_the_ticket_unchanged(stack: Stack) -> None:
    ticket = await offline(stack, "big@example.org")
    reply_to = f"ticket+{ticket.id}.{await secret_of(stack, ticket.id)}@{stack.settings.ticket_reply_domain}"
    huge = patron_answer(reply_to, "x" * (MAX_MESSAGE_BYTES + 1024), message_id="<huge@example.org>")
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await aiosmtplib.send(huge, hostname="127.0.0.1", port=stack.settings.inbound_smtp_port, timeout=60)
    assert refused.value.code == 552
    assert [m.kind for m in (await detail(stack, ticket.id)).messages] == ["patron", "system"]


async def secret_of(stack: Stack, ticket_id: str) -> str:
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        return await conn.fetchval("SELECT reply_secret FROM tickets.tickets WHERE id = $1", ticket_id)
    finally:
        await conn.close()
