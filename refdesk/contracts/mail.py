"""Contracts of outgoing mail, shared by every service that sends email (the chat
service's transcripts, the tickets service's replies and confirmations) and by the
gateway, which tells the requesting operator how their mail is doing.

Mails go through each service's persisted mail outbox (:mod:`refdesk.mail`). Every
status change is an event on the sending service's own stream:

``rd.ev.<service>.mail.<mail_id>.<queued|retrying|sent|failed>`` carrying
:class:`MailStatusEvent` (``queued`` only when an operator asked to retry a failed
mail; a new mail is ``queued`` without an event).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import EventEnvelope, Reply, Request

MailStatus = Literal["queued", "retrying", "sent", "failed"]
"""``queued``: not tried yet (or "retry now" was asked); ``retrying``: an attempt
failed, another is due at ``next_attempt_at``; ``sent``: the SMTP server accepted it;
``failed``: the last attempt failed (or the server refused it permanently) — it stays
visible with ``last_error`` until someone retries it."""


def mail_event_subject(service: str, mail_id: str, status: MailStatus) -> str:
    """``rd.ev.<service>.mail.<mail_id>.<status>``."""
    return f"rd.ev.{service}.mail.{mail_id}.{status}"


MAIL_EVENTS = "rd.ev.*.mail.>"
"""Subject filter matching every service's mail status events (the gateway's hub)."""


class MailView(Reply):
    """One outgoing mail as operators see it (no body).

    Attributes:
        id: the mail id (``enqueue_mail``'s return value).
        kind: what it is, e.g. ``transcript.patron``, ``transcript.librarian``,
            ``ticket.reply``.
        subject_ref: what it is about, ``<type>:<id>`` (``chat:<chat id>``,
            ``ticket:<ticket id>``).
        requested_by: the operator id who asked for it, or None (the patron, the system).
        to: recipient addresses.
        subject: the mail's Subject line.
        status: see :data:`MailStatus`.
        attempts: SMTP attempts made so far.
        next_attempt_at: when the next attempt is due (UTC), None once sent or failed.
        last_error: the last attempt's error, a sentence (None before any failure).
        created_at / sent_at: UTC.
    """

    id: str
    kind: str
    subject_ref: str
    requested_by: str | None = None
    to: list[str]
    subject: str
    status: MailStatus
    attempts: int = 0
    max_attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None

    def for_patron(self) -> MailView:
        """This mail as a patron may see it: without ``last_error`` (it can name the
        mail server) and ``requested_by``."""
        return self.model_copy(update={"last_error": None, "requested_by": None})


class MailList(Reply):
    """Mails about one thing, newest first."""

    mails: list[MailView]


class MailRetryRequest(Request):
    """Retry a failed mail now (a fresh schedule of attempts)."""

    mail_id: str = Field(min_length=1, max_length=64)
    requested_by: str | None = None


class MailStatusEvent(EventEnvelope):
    """Event ``rd.ev.<service>.mail.<mail_id>.<status>``: a mail's status changed."""

    type: MailStatus
    mail: MailView
