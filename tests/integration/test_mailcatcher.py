"""The mail catcher over real sockets: mail sent to its SMTP port is listed on its page,
its HTML is served sandboxed, and "Reply as the patron" sends a threaded reply to the
inbound SMTP port (here another aiosmtpd catcher standing in for the tickets service)."""

from __future__ import annotations

import asyncio
import contextlib
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest
from aiosmtpd.controller import Controller

from refdesk import mailcatcher
from refdesk.embedded import free_port
from refdesk.mailcatcher import MailBox, SmtpCatcher
from refdesk.settings import Settings
from tests.support import eventually, wait_for_http

pytestmark = pytest.mark.asyncio


async def test_catcher_lists_shows_and_replies(tmp_path) -> None:
    settings = Settings(smtp_port=free_port(), mailcatcher_port=free_port(), inbound_smtp_port=free_port(),
                        state_dir=tmp_path, ticket_reply_domain="tickets.example.org")
    stop = asyncio.Event()
    task = asyncio.create_task(mailcatcher.serve(settings, stop))
    base = f"http://127.0.0.1:{settings.mailcatcher_port}"
    try:
        await wait_for_http(f"{base}/healthz", task)
        message = EmailMessage()
        message["From"] = "Ask <ask@lib.example.org>"
        message["To"] = "pat@example.org"
        message["Subject"] = "Re: <maps>"
        message["Reply-To"] = "ticket+t1.s3cret@tickets.example.org"
        message["Message-ID"] = "<m1@lib.example.org>"
        message.set_content("Plain <text>")
        message.add_alternative("<p onclick='x()'>Hi <script>alert(1)</script></p>", subtype="html")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=settings.smtp_port)

        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            listed = await eventually(lambda: _mails(http), what="the mail on the list")
            mail_id = listed[0]["id"]
            page = await http.get("/")
            assert "Re: &lt;maps&gt;" in page.text and "<maps>" not in page.text
            assert "'unsafe-inline'" not in page.headers["content-security-policy"]
            detail = await http.get(f"/mail/{mail_id}")
            assert "Plain &lt;text&gt;" in detail.text and 'sandbox title="The mail as HTML"' in detail.text
            html = await http.get(f"/mail/{mail_id}/html")
            csp = html.headers["content-security-policy"]
            assert "sandbox" in csp and "default-src 'none'" in csp and "script-src" not in csp
            assert (tmp_path / "mail" / f"{mail_id}.json").exists()  # survives a restart

            assert 'data-testid="reply-card"' in detail.text
            down = await http.post(f"/mail/{mail_id}/reply", data={"body": "Thanks!"}, follow_redirects=True)
            assert (f"Could not send the reply: nothing listens for patron replies on 127.0.0.1:"
                    f"{settings.inbound_smtp_port}.") in down.text
            assert "Errno" not in down.text and "SMTPConnect" not in down.text  # a sentence, not a repr

            inbound = MailBox()
            tickets = SmtpCatcher(inbound, "127.0.0.1", settings.inbound_smtp_port)
            tickets.start()
            try:
                sent = await http.post(f"/mail/{mail_id}/reply", data={"body": "Thanks!"}, follow_redirects=True)
                assert "Reply sent to ticket+t1.s3cret@tickets.example.org" in sent.text
                reply = inbound.newest_first()[0]
                assert reply.envelope_to == ["ticket+t1.s3cret@tickets.example.org"]
                assert reply.subject == "Re: <maps>" and reply.text.strip() == "Thanks!"
                assert reply.message_id != "<m1@lib.example.org>"
                assert dict(reply.headers)["In-Reply-To"] == "<m1@lib.example.org>"
                assert reply.references == "<m1@lib.example.org>"
            finally:
                tickets.stop()
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


class _RefusingTickets:
    """Stands in for the tickets service's inbound port: refuses every recipient with 550."""

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802 (aiosmtpd's name)
        return "550 5.1.1 No open ticket has that reply address"


async def test_reply_only_to_ticket_mail_and_refusals_read_as_sentences(tmp_path) -> None:
    """A transcript from the no-reply sender offers no reply form; a ticket mail does, and
    the server's 550 is shown as "The library did not accept this reply: …" (no repr).
    Received times are shown in the library's time zone."""
    settings = Settings(smtp_port=free_port(), mailcatcher_port=free_port(), inbound_smtp_port=free_port(),
                        state_dir=tmp_path, ticket_reply_domain="tickets.example.org",
                        time_zone="America/New_York")
    stop = asyncio.Event()
    task = asyncio.create_task(mailcatcher.serve(settings, stop))
    base = f"http://127.0.0.1:{settings.mailcatcher_port}"
    refusing = Controller(_RefusingTickets(), hostname="127.0.0.1", port=settings.inbound_smtp_port)
    try:
        await wait_for_http(f"{base}/healthz", task)
        for subject_line, reply_to in (("Your chat transcript", "no-reply@lib.example.org"),
                                       ("Re: your question", "ticket+t9.s3cret@Tickets.Example.org")):
            message = EmailMessage()
            message["From"] = "Ask a Librarian <no-reply@lib.example.org>"
            message["To"] = "pat@example.org"
            message["Subject"] = subject_line
            message["Reply-To"] = reply_to
            message.set_content("Hello")
            await aiosmtplib.send(message, hostname="127.0.0.1", port=settings.smtp_port)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            mails = await eventually(lambda: _mails_at_least(http, 2), what="both mails on the list")
            by_subject = {m["subject"]: m["id"] for m in mails}
            listing = await http.get("/")
            assert "EST</time>" in listing.text and "UTC</time>" not in listing.text

            transcript_id = by_subject["Your chat transcript"]
            transcript = await http.get(f"/mail/{transcript_id}")
            assert "Reply as the patron" not in transcript.text and 'data-testid="reply-body"' not in transcript.text
            assert "EST</time>" in transcript.text
            refused = await http.post(f"/mail/{transcript_id}/reply", data={"body": "Hi"}, follow_redirects=True)
            assert "This mail has no ticket reply address: replies to it are not read." in refused.text

            ticket_id = by_subject["Re: your question"]
            ticket = await http.get(f"/mail/{ticket_id}")
            assert "Sends a reply to ticket+t9.s3cret@Tickets.Example.org" in ticket.text
            refusing.start()
            answer = await http.post(f"/mail/{ticket_id}/reply", data={"body": "Thanks"}, follow_redirects=True)
            assert ("The library did not accept this reply: 5.1.1 No open ticket has that reply address"
                    in answer.text), answer.text
            assert "nothing listens" not in answer.text and "SMTPRecipient" not in answer.text
    finally:
        with contextlib.suppress(Exception):
            refusing.stop()
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def _mails_at_least(http: httpx.AsyncClient, count: int) -> list[dict] | None:
    mails = await _mails(http)
    return mails if len(mails) >= count else None


async def _mails(http: httpx.AsyncClient) -> list[dict]:
    return (await http.get("/api/mails")).json()["mails"]
