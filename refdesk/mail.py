"""Outgoing email through a persisted outbox with retries (shared by the chat
service's transcripts and the tickets service's replies and confirmations).

A mail is never sent from a request handler: the handler *enqueues* it in its own
transaction and a :class:`MailRelay` task of the same service sends it over SMTP
(aiosmtplib, ``settings.smtp_*``). A failure is retried on a schedule, then kept as
``failed`` with its last error — visible to operators and never silently lost — until
someone asks to retry it.

Usage (inside a service)::

    from refdesk import mail

    # in wire(ctx):
    relay = mail.start_mail_relay(ctx, "tickets")      # one per service process

    # in a handler:
    message_id = mail.make_message_id(ctx.settings.mail_from)
    async with pool.acquire() as conn, conn.transaction():
        ...                                              # the caller's own writes
        mail_id = await mail.enqueue_mail(conn, mail.OutgoingMail(
            to=["patron@example.org"], subject="Re: Your question",
            text="plain text", html="<p>escaped html</p>",
            reply_to="ticket+abc.secret@tickets.refdesk.localhost",
            headers={"Message-ID": message_id, "In-Reply-To": "<earlier@id>",
                     "References": "<first@id> <earlier@id>"},
            kind="ticket.reply", requested_by=operator_id, subject_ref="ticket:abc"))
    relay.wake()                                         # after the commit

    views = await mail.mails_for(pool, "ticket:abc")     # newest first, with status
    view = await mail.retry_mail(pool, mail_id, "tickets")  # a failed mail, now
    ctx.relay.wake()                                     # publishes the 'queued' event

Table: ``mail_outbox`` in every service schema, created by the migration runner
(:data:`refdesk.db.MAIL_OUTBOX_TABLE`); nothing to add to a service's migrations.

Statuses (:data:`refdesk.contracts.mail.MailStatus`): ``queued`` → ``sent``, or
``queued`` → ``retrying`` (n times) → ``sent`` | ``failed``; ``failed`` →
``queued`` by :func:`retry_mail`.

Retry schedule: ``settings.mail_retry_seconds`` (default ``[10, 60, 300, 900, 3600]``)
are the waits after each failed attempt, so by default attempts are made at 0 s,
10 s, 1 min 10 s, 6 min 10 s, 21 min 10 s and 1 h 21 min 10 s after the mail was
queued — 6 attempts — then it is ``failed``. A permanent refusal (an SMTP ``5xx``
reply, e.g. "550 no such user") fails the mail at once; connection errors,
timeouts and ``4xx`` replies are retried.

Events: each change made by the relay or by :func:`retry_mail` publishes
``rd.ev.<service>.mail.<mail_id>.<queued|retrying|sent|failed>`` with a
:class:`~refdesk.contracts.mail.MailStatusEvent` through the service's transactional
event outbox (same transaction as the status change). The gateway forwards them to
``requested_by`` as the ``mail.status`` frame.

Delivery is at least once: if a process dies after the SMTP server accepted a mail but
before ``sent`` was committed, the mail is sent again (with the same ``Message-ID``).
Several replicas may run relays on one schema: each mail is locked
(``FOR UPDATE SKIP LOCKED``) while it is being sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from typing import TYPE_CHECKING, Annotated, Any

import aiosmtplib
import asyncpg
import structlog
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from . import outbox
from .bus import Conflict, NotFound
from .contracts.common import utcnow
from .contracts.mail import MailList, MailStatusEvent, MailView, mail_event_subject
from .ids import new_id
from .settings import Settings

if TYPE_CHECKING:
    from .service import Context

log = structlog.get_logger()

__all__ = [
    "OutgoingMail", "MailView", "MailList", "MailStatusEvent", "MailRelay", "enqueue_mail", "mails_for",
    "get_mail", "retry_mail", "start_mail_relay", "make_message_id", "build_message", "retry_delay",
    "DEFAULT_RETRY_SECONDS", "SendFailure",
]

DEFAULT_RETRY_SECONDS: tuple[float, ...] = (10.0, 60.0, 300.0, 900.0, 3600.0)
"""The default waits, in seconds, after each failed attempt (``settings.mail_retry_seconds``)."""

MAX_ERROR_CHARS = 500
"""Longest ``last_error`` kept, in characters."""

_HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
_RESERVED_HEADERS = {"from", "to", "cc", "bcc", "subject", "reply-to", "date", "content-type",
                     "content-transfer-encoding", "mime-version"}


def _address(value: str) -> str:
    """One address, ``user@host`` or ``Name <user@host>``; no line breaks."""
    value = value.strip()
    if not value or any(c in value for c in "\r\n\0") or len(value) > 320:
        raise ValueError("an email address must be one line of at most 320 characters")
    name, addr = parseaddr(value)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or " " in addr or "." not in domain.strip(".") and domain != "localhost":
        raise ValueError(f"{value!r} is not an email address")
    return value


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _no_line_breaks(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError("must be on one line")
    return value


Address = Annotated[str, AfterValidator(_address)]
"""An email address: ``user@host`` or ``Name <user@host>`` (one line)."""


class OutgoingMail(BaseModel):
    """One email to send (what :func:`enqueue_mail` stores).

    Attributes:
        to: one address or a list (1–50); ``user@host`` or ``Name <user@host>``.
        cc: further recipients (0–50).
        subject: the Subject line, one line, 1–300 characters.
        text: the plain-text body (always sent).
        html: the HTML alternative, or None. The caller escapes every user text in it
            (:func:`html.escape`); refdesk never puts unescaped input in HTML.
        reply_to: the Reply-To address, or None (replies then go to ``mail_from``).
        headers: extra headers, e.g. ``Message-ID``, ``In-Reply-To``, ``References``
            (names ``A-Za-z0-9-``; values one line). From/To/Cc/Subject/Reply-To/Date
            and MIME headers are set by refdesk and refused here. Without a
            ``Message-ID`` one is made at enqueue time (:func:`make_message_id`), so
            every retry carries the same one.
        kind: what it is, 1–64 characters: ``transcript.patron``,
            ``transcript.librarian``, ``ticket.reply``, ``ticket.confirmation`` …
        requested_by: the operator id who asked for it (gets ``mail.status`` frames),
            or None (the patron, the system).
        subject_ref: what it is about, ``<type>:<id>`` — ``chat:<chat id>``,
            ``ticket:<ticket id>`` — for :func:`mails_for`.

    Raises:
        pydantic.ValidationError: a field is missing or malformed (bad address,
            line break in the subject or a header, reserved header name).
    """

    model_config = ConfigDict(extra="forbid")

    to: Annotated[list[Address], BeforeValidator(_one_or_many), Field(min_length=1, max_length=50)]
    cc: Annotated[list[Address], BeforeValidator(_one_or_many), Field(max_length=50)] = []
    subject: Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_no_line_breaks)]
    text: str = Field(max_length=2_000_000)
    html: str | None = Field(default=None, max_length=4_000_000)
    reply_to: Address | None = None
    headers: dict[str, str] = {}
    kind: str = Field(min_length=1, max_length=64)
    requested_by: str | None = Field(default=None, max_length=64)
    subject_ref: str = Field(min_length=1, max_length=200)

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a header name")
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"the {name} header is set by refdesk")
            _no_line_breaks(value)
            if len(value) > 4000:
                raise ValueError(f"the {name} header is too long")
        return headers

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


class SendFailure(Exception):
    """An SMTP attempt failed.

    Attributes:
        reason: a sentence for operators ("Could not connect to the mail server …").
        permanent: true for a ``5xx`` refusal (retrying would not help).
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:MAX_ERROR_CHARS]
        self.permanent = permanent


def make_message_id(mail_from: str) -> str:
    """A new globally unique ``Message-ID`` (``<…@domain>``), the domain taken from the
    ``mail_from`` address (``settings.mail_from``)."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "refdesk.localhost"
    return make_msgid(idstring=new_id()[:12], domain=domain)


def retry_delay(attempts: int, delays: tuple[float, ...] | list[float] = DEFAULT_RETRY_SECONDS) -> float | None:
    """Seconds to wait after the ``attempts``-th failed attempt (1 = the first), or
    None when no attempt is left (the mail is then ``failed``).

    >>> retry_delay(1), retry_delay(5), retry_delay(6)
    (10.0, 3600.0, None)
    """
    if attempts < 1:
        raise ValueError("attempts counts the failed attempts so far, from 1")
    return float(delays[attempts - 1]) if attempts <= len(delays) else None


def build_message(mail: OutgoingMail, mail_from: str, *, date: datetime | None = None) -> EmailMessage:
    """The MIME message of ``mail``: ``text/plain``, plus a ``text/html`` alternative
    when ``mail.html`` is set; From = ``mail_from``; Date = ``date`` (default now, UTC).
    Non-ASCII subjects and names are encoded (RFC 2047) by the email package."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = ", ".join(mail.to)
    if mail.cc:
        message["Cc"] = ", ".join(mail.cc)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(date or utcnow())
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def classify_error(exc: BaseException, host: str, port: int) -> SendFailure:
    """Turn an aiosmtplib / socket error into a :class:`SendFailure` with a sentence:
    ``5xx`` replies are permanent; everything else is worth retrying."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        return SendFailure(f"The mail server refused the recipients ({text}).", permanent=all(c >= 500 for c in codes))
    if isinstance(exc, aiosmtplib.SMTPResponseException) and not isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return SendFailure(f"The mail server answered {exc.code} {exc.message}.", permanent=exc.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | asyncio.TimeoutError):
        return SendFailure(f"The mail server at {host}:{port} did not answer in time.")
    if isinstance(exc, aiosmtplib.SMTPConnectError | OSError | socket.gaierror):
        return SendFailure(f"Could not connect to the mail server at {host}:{port} ({_os_reason(exc)}).")
    return SendFailure(f"Sending failed: {exc}.")


def _os_reason(exc: BaseException) -> str:
    """The operating system's words for a connection failure ("Connection refused"),
    looking through the exception's causes; the exception's text otherwise."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno) if seen.errno > 0 else str(seen.strerror or seen)
        seen = seen.__cause__ or seen.__context__
    return str(exc)


async def smtp_send(message: EmailMessage, mail: OutgoingMail, settings: Settings) -> None:
    """Send ``message`` once to ``settings.smtp_host:smtp_port`` (STARTTLS and login
    when configured), envelope sender = ``mail_from``'s address, recipients = to + cc.

    Raises:
        SendFailure: the attempt failed (see :func:`classify_error`).
    """
    recipients = [addr for _, addr in getaddresses([*mail.to, *mail.cc])]
    try:
        await aiosmtplib.send(
            message, sender=parseaddr(settings.mail_from)[1], recipients=recipients,
            hostname=settings.smtp_host, port=settings.smtp_port,
            username=settings.smtp_username, password=settings.smtp_password,
            start_tls=settings.smtp_starttls, timeout=settings.smtp_timeout_seconds,
        )
    except Exception as exc:  # every failure becomes a sentence; the relay decides retry vs failed
        raise classify_error(exc, settings.smtp_host, settings.smtp_port) from exc


# --- storage -------------------------------------------------------------------------

_VIEW_COLUMNS = ("id, kind, subject_ref, requested_by, recipients, subject, status, attempts, next_attempt_at,"
                 " last_error, created_at, sent_at")


def _view(row: asyncpg.Record) -> MailView:
    data = dict(row)
    data["to"] = list(data.pop("recipients"))
    return MailView(**data)


async def enqueue_mail(conn: asyncpg.Connection, mail: OutgoingMail, *, mail_from: str | None = None) -> str:
    """Store ``mail`` as ``queued`` (due now) inside the caller's transaction; return
    its id (32 hex characters). Call the relay's :meth:`MailRelay.wake` after the
    commit. A ``Message-ID`` is added when ``mail.headers`` has none (domain from
    ``mail_from``, default ``settings.mail_from``)."""
    if mail.header("Message-ID") is None:
        from .settings import get_settings

        mail = mail.model_copy(update={"headers": {**mail.headers,
                                                   "Message-ID": make_message_id(mail_from or get_settings().mail_from)}})
    mail_id = new_id()
    await conn.execute(
        "INSERT INTO mail_outbox (id, kind, subject_ref, requested_by, recipients, subject, mail, next_attempt_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
        mail_id, mail.kind, mail.subject_ref, mail.requested_by, [*mail.to, *mail.cc], mail.subject,
        mail.model_dump(mode="json"),
    )
    return mail_id


async def mails_for(pool: asyncpg.Pool | asyncpg.Connection, subject_ref: str) -> MailList:
    """The mails about ``subject_ref`` (``chat:<id>``, ``ticket:<id>``), newest first
    (at most 200)."""
    rows = await pool.fetch(
        f"SELECT {_VIEW_COLUMNS} FROM mail_outbox WHERE subject_ref = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
        subject_ref,
    )
    return MailList(mails=[_view(row) for row in rows])


async def get_mail(pool: asyncpg.Pool | asyncpg.Connection, mail_id: str) -> MailView:
    """One mail by id.

    Raises:
        NotFound: (404) no such mail.
    """
    row = await pool.fetchrow(f"SELECT {_VIEW_COLUMNS} FROM mail_outbox WHERE id = $1", mail_id)
    if row is None:
        raise NotFound("No such mail.")
    return _view(row)


async def retry_mail(pool: asyncpg.Pool, mail_id: str, service: str) -> MailView:
    """Retry a ``failed`` mail now, with a fresh schedule of attempts: it becomes
    ``queued`` (attempts 0, ``last_error`` kept until the next attempt) and the
    ``queued`` status event is enqueued. Wake the service's event relay
    (``ctx.relay.wake()``) and mail relay afterwards.

    Raises:
        NotFound: (404) no such mail.
        Conflict: (409) the mail is not failed ("This mail is already sent." / "…
            still being tried.").
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = now()"
            f" WHERE id = $1 AND status = 'failed' RETURNING {_VIEW_COLUMNS}", mail_id,
        )
        if row is None:
            current = await get_mail(conn, mail_id)
            raise Conflict("This mail is already sent." if current.status == "sent"
                           else "This mail is still being tried; it is not failed.")
        view = _view(row)
        await _publish(conn, service, view)
        return view


async def _publish(conn: asyncpg.Connection, service: str, view: MailView) -> None:
    event = MailStatusEvent(event_id=new_id(), type=view.status, mail=view)
    await outbox.enqueue(conn, mail_event_subject(service, view.id, view.status), event)


# --- relay ---------------------------------------------------------------------------


class MailRelay:
    """Sends the due mails of one service schema, one at a time, and records the
    outcome (see the module docstring for the schedule and the events).

    Args:
        pool: asyncpg pool on the service's schema.
        settings: ``smtp_*``, ``mail_from``, ``mail_retry_seconds``,
            ``smtp_timeout_seconds``.
        service: the service name, for event subjects ``rd.ev.<service>.mail.…``.
        on_event: called after a status event was enqueued (wake the event outbox).
        poll_seconds: how often to look for due mails without being woken.
    """

    def __init__(self, pool: asyncpg.Pool, settings: Settings, service: str, *,
                 on_event: Any = None, poll_seconds: float = 1.0) -> None:
        self._pool = pool
        self._settings = settings
        self._service = service
        self._on_event = on_event or (lambda: None)
        self._poll = poll_seconds
        self._wakeup = asyncio.Event()
        self._delays = tuple(settings.mail_retry_seconds)

    def wake(self) -> None:
        """Look for due mails now (call after committing an :func:`enqueue_mail`)."""
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send due mails until ``stop`` is set; never raises (errors are logged and
        the loop goes on after ``poll_seconds``)."""
        while not stop.is_set():
            try:
                while await self.send_one() and not stop.is_set():
                    pass
            except Exception:
                log.exception("mail.relay_failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(_first(self._wakeup, stop), self._poll)
            self._wakeup.clear()

    async def send_one(self) -> bool:
        """Send the oldest due mail, if any; return whether one was tried."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT id, mail, attempts FROM mail_outbox WHERE status IN ('queued', 'retrying')"
                " AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            )
            if row is None:
                return False
            attempts = row["attempts"] + 1
            try:
                try:
                    mail = OutgoingMail.model_validate(row["mail"])
                except ValidationError as exc:  # a stored mail this version cannot read: never retried
                    raise SendFailure(f"This mail could not be read: {exc.error_count()} invalid field(s).",
                                      permanent=True) from exc
                await smtp_send(build_message(mail, self._settings.mail_from), mail, self._settings)
            except SendFailure as failure:
                delay = None if failure.permanent else retry_delay(attempts, self._delays)
                if delay is None:
                    updated = await conn.fetchrow(
                        f"UPDATE mail_outbox SET status = 'failed', attempts = $2, next_attempt_at = NULL,"
                        f" last_error = $3 WHERE id = $1 RETURNING {_VIEW_COLUMNS}", row["id"], attempts, failure.reason)
                else:
                    updated = await conn.fetchrow(
                        f"UPDATE mail_outbox SET status = 'retrying', attempts = $2,"
                        f" next_attempt_at = now() + make_interval(secs => $4), last_error = $3"
                        f" WHERE id = $1 RETURNING {_VIEW_COLUMNS}", row["id"], attempts, failure.reason, delay)
                log.warning("mail.attempt_failed", mail_id=row["id"], attempts=attempts, error=failure.reason,
                            status=updated["status"])
            else:
                updated = await conn.fetchrow(
                    f"UPDATE mail_outbox SET status = 'sent', attempts = $2, next_attempt_at = NULL,"
                    f" sent_at = now() WHERE id = $1 RETURNING {_VIEW_COLUMNS}", row["id"], attempts)
                log.info("mail.sent", mail_id=row["id"], kind=updated["kind"], attempts=attempts)
            await _publish(conn, self._service, _view(updated))
        self._on_event()
        return True


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def start_mail_relay(ctx: Context, service: str) -> MailRelay:
    """Create the service's :class:`MailRelay`, run it for the life of the process
    (``ctx.background``; it stops with ``ctx.stop``) and return it (keep it to
    :meth:`~MailRelay.wake` it after enqueueing). Its status events go through
    ``ctx.relay`` (the event outbox), which it wakes."""
    relay = MailRelay(ctx.pool, ctx.settings, service, on_event=ctx.relay.wake)
    ctx.background(relay.run(ctx.stop), f"{service}-mail-relay")
    return relay
