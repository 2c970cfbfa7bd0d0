"""Transcripts by email end to end: every service + the gateway over real NATS and
PostgreSQL, mail captured by a real aiosmtpd server (the mail catcher's SMTP side).

What each person sees: the patron transcript has no internal note and no system
message; the librarian transcript has both and the operators' full names; user text is
HTML-escaped; the requesting operator gets ``mail.status`` sent / retrying / failed; a
failed mail is retried and nothing is lost; the patron can email their own transcript
once the chat ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from refdesk.embedded import free_port
from refdesk.mailcatcher import CaughtMail, MailBox, SmtpCatcher
from tests.gateway_client import Client, Gateway, gateway_stack, login, new_chat, online_operator
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

NOTE = "NOTE-SECRET: patron asked the same last week"
GREETING = "Hello <b>Pat</b> & welcome"


@dataclass
class MailGateway(Gateway):
    box: MailBox
    catcher: SmtpCatcher


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[MailGateway]:
    box = MailBox()
    port = free_port()
    catcher = SmtpCatcher(box, "127.0.0.1", port)
    catcher.start()
    try:
        async with gateway_stack(servers, smtp_port=port, mail_retry_seconds=[0.3, 0.3],
                                 time_zone="Europe/Berlin") as gateway:
            yield MailGateway(gateway.stack, gateway.http, gateway.ws_url, box, catcher)
    finally:
        catcher.stop()


@dataclass
class EndedChat:
    ana: Client
    patron: Client
    chat_id: str


@pytest_asyncio.fixture(loop_scope="module")
async def ended(gw: MailGateway) -> AsyncIterator[EndedChat]:
    """Ana claimed a Circulation chat, greeted the patron, wrote an internal note, the
    patron answered, Ana ended it; both sides are still connected."""
    ana = await online_operator(gw, "ana", ["circulation"])
    created = await new_chat(gw, "circulation", "Where are the <i>atlases</i>?")
    patron, _ = await Client.open(gw, created["token"])
    chat_id = created["chat_id"]
    await patron.ok({"type": "chat.subscribe", "chat_id": chat_id})
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await ana.ok({"type": "chat.subscribe", "chat_id": chat_id})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "a1", "body": GREETING})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "a2", "body": NOTE, "internal": True})
    await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "p1", "body": "Thanks!"})
    early = await patron.request({"type": "transcript.email", "chat_id": chat_id})
    assert early["type"] == "error" and early["code"] == "409"
    assert early["message"] == "You can ask for the transcript once the chat has ended."
    await ana.ok({"type": "chat.end", "chat_id": chat_id})
    yield EndedChat(ana, patron, chat_id)
    await ana.close()
    await patron.close()


def caught(gw: MailGateway, to: str, subject_starts: str):
    async def probe() -> CaughtMail | None:
        return next((m for m in gw.box.newest_first() if m.envelope_to == [to] and m.subject.startswith(subject_starts)),
                    None)
    return probe


def status(mail_id: str, value: str):
    return lambda f: f["mail"]["id"] == mail_id and f["mail"]["status"] == value


async def test_patron_transcript_leaves_out_notes_and_system_messages(gw: MailGateway, ended: EndedChat) -> None:
    queued = await ended.ana.ok({"type": "transcript.email", "chat_id": ended.chat_id, "kind": "patron",
                                 "to": "patron-copy@example.org"})
    assert queued["status"] == "queued" and queued["kind"] == "transcript.patron"
    assert queued["to"] == ["patron-copy@example.org"] and queued["subject_ref"] == f"chat:{ended.chat_id}"
    sent = await ended.ana.expect("mail.status", status(queued["id"], "sent"))
    assert sent["mail"]["attempts"] == 1 and sent["mail"]["sent_at"]
    mail = await eventually(caught(gw, "patron-copy@example.org", "Your chat with"), what="the patron transcript")
    for part in (mail.text, mail.html):
        assert "NOTE-SECRET" not in part and "Internal note" not in part
        assert "joined the chat" not in part and "ended the chat" not in part
        assert "Ana Alvarez" not in part
    assert f"Ana: {GREETING}" in mail.text and "Pat Reader: Thanks!" in mail.text
    assert "Hello &lt;b&gt;Pat&lt;/b&gt; &amp; welcome" in mail.html and "<b>Pat</b>" not in mail.html
    assert "Where are the &lt;i&gt;atlases&lt;/i&gt;?" in mail.html
    assert "CET]" in mail.text or "CEST]" in mail.text  # the library's zone, with its abbreviation
    listed = await ended.ana.ok({"type": "transcript.mails", "chat_id": ended.chat_id})
    assert [(m["id"], m["status"]) for m in listed["mails"]] == [(queued["id"], "sent")]


async def test_librarian_transcript_has_notes_system_messages_and_full_names(gw: MailGateway, ended: EndedChat) -> None:
    queued = await ended.ana.ok({"type": "transcript.email", "chat_id": ended.chat_id, "kind": "librarian",
                                 "to": "desk@example.org"})
    await ended.ana.expect("mail.status", status(queued["id"], "sent"))
    mail = await eventually(caught(gw, "desk@example.org", "Librarian transcript"), what="the librarian transcript")
    assert f"[Internal note] Ana Alvarez: {NOTE}" in mail.text
    assert "* Ana joined the chat." in mail.text and "ended the chat." in mail.text
    assert "Answered by: Ana Alvarez (Ana)" in mail.text and "Patron email: pat@example.org" in mail.text
    assert "Internal note — Ana Alvarez:" in mail.html and "NOTE-SECRET" in mail.html
    assert "<b>Pat</b>" not in mail.html


async def test_patron_emails_their_own_transcript_after_the_end(gw: MailGateway, ended: EndedChat) -> None:
    refused = await ended.patron.request({"type": "transcript.email", "chat_id": ended.chat_id, "kind": "librarian"})
    assert refused["type"] == "error" and refused["code"] == "403"
    queued = await ended.patron.ok({"type": "transcript.email", "chat_id": ended.chat_id})
    assert queued["to"] == ["pat@example.org"] and queued["requested_by"] is None
    await ended.patron.expect("mail.status", status(queued["id"], "sent"))
    mail = await eventually(caught(gw, "pat@example.org", "Your chat with"), what="the patron's own transcript")
    assert "NOTE-SECRET" not in mail.text and "NOTE-SECRET" not in (mail.html or "")
    # Only to the address Pat gave when the chat started (tests/integration/test_transcript_patron_address.py).
    other = await ended.patron.request({"type": "transcript.email", "chat_id": ended.chat_id, "to": "pat2@example.org"})
    assert other["type"] == "error" and other["code"] == "403" and "(pat@example.org)" in other["message"]
    mine = await ended.patron.ok({"type": "transcript.mails", "chat_id": ended.chat_id})
    assert [m["id"] for m in mine["mails"]] == [queued["id"]]
    for typed in ("Pat@Example.org", None):
        again = await ended.patron.ok({"type": "transcript.email", "chat_id": ended.chat_id, "to": typed})
        assert again["to"] == ["pat@example.org"]
    limit = await ended.patron.request({"type": "transcript.email", "chat_id": ended.chat_id})
    assert limit["type"] == "error" and limit["code"] == "409"


async def test_only_the_chats_operators_or_an_admin_may_email_it(gw: MailGateway, ended: EndedChat) -> None:
    ben = await online_operator(gw, "ben", ["reference"])
    cleo_client, _ = await Client.open(gw, await login(gw, "cleo"))
    try:
        other = await new_chat(gw, "reference")
        forbidden = await ben.request({"type": "transcript.email", "chat_id": ended.chat_id, "kind": "patron",
                                       "to": "x@example.org"})
        assert forbidden["type"] == "error" and forbidden["code"] == "403"  # not in Circulation
        unclaimed = await ben.request({"type": "transcript.email", "chat_id": other["chat_id"], "kind": "patron",
                                       "to": "x@example.org"})
        assert unclaimed["code"] == "403"
        assert unclaimed["message"] == "Only the operators of this chat or an admin can email its transcript."
        admin = await cleo_client.ok({"type": "transcript.email", "chat_id": ended.chat_id, "kind": "librarian",
                                      "to": "admin@example.org"})
        assert admin["status"] == "queued" and admin["kind"] == "transcript.librarian"
        missing = await ended.ana.request({"type": "transcript.email", "chat_id": ended.chat_id, "kind": "patron"})
        assert missing["code"] == "422" and missing["message"] == "Enter the email address to send the transcript to."
    finally:
        await ben.close()
        await cleo_client.close()


async def test_a_failure_is_visible_then_retried_and_nothing_is_lost(gw: MailGateway, ended: EndedChat) -> None:
    gw.catcher.stop()
    try:
        queued = await ended.ana.ok({"type": "transcript.email", "chat_id": ended.chat_id, "kind": "patron",
                                     "to": "later@example.org"})
        retrying = await ended.ana.expect("mail.status", status(queued["id"], "retrying"))
        assert retrying["mail"]["attempts"] == 1 and retrying["mail"]["next_attempt_at"]
        assert retrying["mail"]["last_error"].startswith("Could not connect to the mail server")
        failed = await ended.ana.expect("mail.status", status(queued["id"], "failed"), timeout=10)
        assert failed["mail"]["attempts"] == 3 and failed["mail"]["last_error"]
        listed = await ended.ana.ok({"type": "transcript.mails", "chat_id": ended.chat_id})
        assert [m["status"] for m in listed["mails"] if m["id"] == queued["id"]] == ["failed"]
    finally:
        gw.catcher.start()
    again = await ended.ana.ok({"type": "transcript.retry", "chat_id": ended.chat_id, "mail_id": queued["id"]})
    assert again["status"] == "queued"
    await ended.ana.expect("mail.status", status(queued["id"], "sent"), timeout=10)
    mail = await eventually(caught(gw, "later@example.org", "Your chat with"), what="the retried mail")
    assert "NOTE-SECRET" not in mail.text
    twice = await ended.ana.request({"type": "transcript.retry", "chat_id": ended.chat_id, "mail_id": queued["id"]})
    assert twice["type"] == "error" and twice["code"] == "409"
