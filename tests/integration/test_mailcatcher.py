"""The mail catcher over real sockets: mail sent to its SMTP port is listed on its page,
its HTML is served sandboxed, and "Reply as the patron" sends a threaded reply to the
inbound SMTP port (here another aiosmtpd catcher standing in for the tickets service)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from refdesk import mailcatcher
from refdesk.embedded import free_port
from refdesk.mailcatcher import MailBox, SmtpCatcher
from refdesk.settings import Settings
from tests.support import eventually, wait_for_http

pytestmark = pytest.mark.asyncio


async def test_catcher_lists_shows_and_replies(tmp_path) -> None:
    settings = Settings(smtp_port=free_port(), mailcatcher_port=free_port(), inbound_smtp_port=free_port(),
                        state_dir=tmp_path)
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

            down = await http.post(f"/mail/{mail_id}/reply", data={"body": "Thanks!"}, follow_redirects=True)
            assert "Could not send the reply" in down.text

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


async def _mails(http: httpx.AsyncClient) -> list[dict]:
    return (await http.get("/api/mails")).json()["mails"]
