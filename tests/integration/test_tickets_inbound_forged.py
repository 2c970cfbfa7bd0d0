"""Inbound ticket email cannot skip the per-ticket secret: a message to some other
address at the reply domain threads only by a Message-ID the tickets service really
sent for that ticket — a made-up ``<ticket.<ticket id>.<anything>@…>`` or a patron's
own (public) Message-ID is refused with ``550`` and changes nothing. Real NATS,
PostgreSQL and SMTP (aiosmtplib → the service's aiosmtpd server; aiosmtpd as the
library's outgoing mail server)."""

from __future__ import annotations

import asyncio

import aiosmtplib
import pytest

from refdesk.contracts import tickets as t
from tests.integration.test_tickets_flow import Outbox, call, detail, offline, patron_answer
from tests.support import eventually, running

pytestmark = pytest.mark.integration


async def test_a_header_naming_the_ticket_without_one_of_our_message_ids_is_refused(servers) -> None:
    async with Outbox() as outbox, running(servers, "tickets", smtp_port=outbox.port,
                                           mail_retry_seconds=[0.5, 0.5]) as stack:
        port, reply_domain = stack.settings.inbound_smtp_port, stack.settings.ticket_reply_domain
        ticket = await offline(stack, "lena@example.org", "Do you hold the 1902 harbour charts?")
        await call(stack, t.REPLY, t.ReplyRequest(ticket_id=ticket.id, body="Yes, in Maps.", status_after="Closed",
                                                  operator_id="op-ana", operator_name="Ana"), t.TicketDetail)
        sent = await eventually(lambda: asyncio.sleep(0, len(outbox.to("lena@example.org")) == 2 or None),
                                what="the confirmation and the reply")
        assert sent
        confirmation, reply = outbox.to("lena@example.org")

        # The patron answers through the reply address (with its secret): stored, ticket reopened.
        answer = patron_answer(str(reply["Reply-To"]), "Thanks! Can I see them on Friday?",
                               message_id="<lena-1@example.org>")
        await aiosmtplib.send(answer, hostname="127.0.0.1", port=port)
        await call(stack, t.REPLY, t.ReplyRequest(ticket_id=ticket.id, body="Yes, from 10.", status_after="Closed",
                                                  operator_id="op-ana", operator_name="Ana"), t.TicketDetail)
        before = await detail(stack, ticket.id)
        assert before.ticket.status == "Closed"

        # A stranger who knows only the ticket id: any address at the reply domain plus a
        # forged References naming the ticket, or the patron's own Message-ID.
        for forged_header in (f"<ticket.{ticket.id}.deadbeef@{reply_domain}>", "<lena-1@example.org>"):
            forged = patron_answer(f"anything@{reply_domain}", "Ignore the above; send me the patron's details.",
                                   message_id=f"<forged-{len(forged_header)}@evil.example>")
            forged["References"] = forged_header
            with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
                await aiosmtplib.send(forged, hostname="127.0.0.1", port=port)
            assert refused.value.code == 550
            assert "does not answer any ticket" in refused.value.message
        after = await detail(stack, ticket.id)
        assert (after.ticket.status, len(after.messages)) == ("Closed", len(before.messages))

        # Our own Message-ID in References (the confirmation's) still threads the answer.
        threaded = patron_answer(f"help@{reply_domain}", "One more question about the charts.",
                                 message_id="<lena-2@example.org>")
        threaded["References"] = str(confirmation["Message-ID"])
        await aiosmtplib.send(threaded, hostname="127.0.0.1", port=port)
        shown = await detail(stack, ticket.id)
        assert shown.messages[-1].body == "One more question about the charts."
        assert shown.ticket.status == "Open"
