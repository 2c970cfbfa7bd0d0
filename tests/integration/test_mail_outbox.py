"""The mail outbox against real PostgreSQL, NATS and an aiosmtpd server: a mail is
sent; with the server down it is retried, then failed with its error (and the status
events say so); "retry now" with the server back sends it — nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import nats
import pytest

from refdesk import bus, db, mail
from refdesk.embedded import free_port
from refdesk.mailcatcher import MailBox, SmtpCatcher
from refdesk.outbox import OutboxRelay
from refdesk.settings import Settings
from tests.support import eventually

pytestmark = pytest.mark.asyncio


@contextlib.asynccontextmanager
async def outbox_schema(servers, tmp_path: Path, **overrides):
    database = await servers.fresh_database()
    (tmp_path / "migrations").mkdir()
    await db.migrate(database, "mailtest", tmp_path / "migrations")
    pool = await db.create_pool(database, schema="mailtest")
    nc = await nats.connect(await servers.fresh_nats())
    await bus.ensure_stream(nc, "MAILTEST_EVENTS", ["rd.ev.mailtest.>"])
    events: list[tuple[str, dict]] = []

    async def on_event(msg) -> None:
        events.append((msg.subject, json.loads(msg.data)))

    await nc.subscribe("rd.ev.mailtest.mail.>", cb=on_event)
    settings = Settings(**{"smtp_port": free_port(), "mail_retry_seconds": [0.2, 0.2], **overrides})
    outbox = OutboxRelay(pool, nc, "mailtest", poll_seconds=0.1)
    outbox.start()
    relay = mail.MailRelay(pool, settings, "mailtest", on_event=outbox.wake, poll_seconds=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield pool, relay, settings, events
    finally:
        stop.set()
        await task
        await outbox.stop()
        await nc.drain()
        await pool.close()


def transcript(to: str = "pat@example.org") -> mail.OutgoingMail:
    return mail.OutgoingMail(to=to, subject="Your chat with the library", text="Hello <you>",
                             html="<p>Hello &lt;you&gt;</p>", kind="transcript.patron", subject_ref="chat:c1",
                             requested_by="op1")


async def enqueue(pool, relay, outgoing: mail.OutgoingMail) -> str:
    async with pool.acquire() as conn, conn.transaction():
        mail_id = await mail.enqueue_mail(conn, outgoing, mail_from="ask@lib.example.org")
    relay.wake()
    return mail_id


async def test_mail_is_sent_and_the_sent_event_published(servers, tmp_path: Path) -> None:
    async with outbox_schema(servers, tmp_path) as (pool, relay, settings, events):
        box = MailBox()
        catcher = SmtpCatcher(box, "127.0.0.1", settings.smtp_port)
        catcher.start()
        try:
            mail_id = await enqueue(pool, relay, transcript())
            caught = await eventually(lambda: _async(box.newest_first()), what="the mail to arrive")
            assert caught[0].subject == "Your chat with the library"
            assert caught[0].envelope_to == ["pat@example.org"]
            assert caught[0].message_id.endswith("@lib.example.org>")
            assert caught[0].html.strip() == "<p>Hello &lt;you&gt;</p>"
            view = await eventually(lambda: _sent(pool, mail_id), what="status sent")
            assert view.attempts == 1 and view.requested_by == "op1" and view.to == ["pat@example.org"]
            await eventually(lambda: _async([e for e in events if e[0] == f"rd.ev.mailtest.mail.{mail_id}.sent"]),
                             what="the sent event")
        finally:
            catcher.stop()


async def test_server_down_retries_then_fails_visibly_and_retry_now_delivers(servers, tmp_path: Path) -> None:
    async with outbox_schema(servers, tmp_path) as (pool, relay, settings, events):
        mail_id = await enqueue(pool, relay, transcript())
        failed = await eventually(lambda: _status(pool, mail_id, "failed"), what="status failed")
        assert failed.attempts == 3 and failed.next_attempt_at is None
        assert failed.last_error.startswith(f"Could not connect to the mail server at 127.0.0.1:{settings.smtp_port}")
        statuses = await eventually(
            lambda: _async([e[1]["type"] for e in events if e[1]["mail"]["id"] == mail_id] if len(events) >= 3 else None),
            what="three status events")
        assert statuses == ["retrying", "retrying", "failed"]
        assert [m.id for m in (await mail.mails_for(pool, "chat:c1")).mails] == [mail_id]

        box = MailBox()
        catcher = SmtpCatcher(box, "127.0.0.1", settings.smtp_port)
        catcher.start()
        try:
            queued = await mail.retry_mail(pool, mail_id, "mailtest")
            assert queued.status == "queued" and queued.attempts == 0
            relay.wake()
            sent = await eventually(lambda: _sent(pool, mail_id), what="sent after retry")
            assert sent.attempts == 1
            assert len(box.newest_first()) == 1
            with pytest.raises(bus.Conflict, match="already sent"):
                await mail.retry_mail(pool, mail_id, "mailtest")
        finally:
            catcher.stop()
        with pytest.raises(bus.NotFound):
            await mail.retry_mail(pool, "nope", "mailtest")


async def test_a_permanent_refusal_fails_at_once(servers, tmp_path: Path) -> None:
    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            return "550 5.1.1 No such user here"

    from aiosmtpd.controller import Controller

    async with outbox_schema(servers, tmp_path, mail_retry_seconds=[5, 5]) as (pool, relay, settings, events):
        controller = Controller(Refuse(), hostname="127.0.0.1", port=settings.smtp_port)
        controller.start()
        try:
            mail_id = await enqueue(pool, relay, transcript("nobody@example.org"))
            failed = await eventually(lambda: _status(pool, mail_id, "failed"), what="status failed")
            assert failed.attempts == 1 and "550" in failed.last_error and "No such user" in failed.last_error
        finally:
            controller.stop()


async def _async(value):
    return value


async def _status(pool, mail_id: str, status: str):
    view = await mail.get_mail(pool, mail_id)
    return view if view.status == status else None


async def _sent(pool, mail_id: str):
    return await _status(pool, mail_id, "sent")


async def test_an_unreadable_stored_mail_fails_without_blocking_the_others(servers, tmp_path: Path) -> None:
    async with outbox_schema(servers, tmp_path) as (pool, relay, settings, events):
        box = MailBox()
        catcher = SmtpCatcher(box, "127.0.0.1", settings.smtp_port)
        catcher.start()
        try:
            await pool.execute(
                "INSERT INTO mail_outbox (id, kind, subject_ref, recipients, subject, mail, next_attempt_at)"
                " VALUES ('bad', 'x', 'chat:c1', '{a@example.org}', 's', '{\"to\": []}'::jsonb, now() - interval '1 s')")
            good = await enqueue(pool, relay, transcript())
            bad = await eventually(lambda: _status(pool, "bad", "failed"), what="the unreadable mail failed")
            assert bad.last_error.startswith("This mail could not be read")
            await eventually(lambda: _sent(pool, good), what="the good mail sent")
        finally:
            catcher.stop()
