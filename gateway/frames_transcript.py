"""Client frames for transcripts emailed by an operator or asked for by the patron
(``docs/protocol.md``, "Transcripts and mail"), and this area's server frame.

Server frame: ``mail.status`` {mail: MailView} — to the operator who asked for the
mail (or, for a patron's own transcript, to the patron's sockets) each time it is
sent, retried or has failed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from refdesk.contracts.mail import MailView

from .frame_base import ClientFrame, EntityId, encode


class TranscriptEmail(ClientFrame):
    """Email a chat's transcript.

    Operators: ``kind`` ``patron`` (nicknames, no internal notes or system messages)
    or ``librarian`` (full names, system messages, internal notes), ``to`` any address
    (required). Patrons: only after the chat ended, only their own chat, only the
    patron kind (``kind`` may be left out); ``to`` defaults to the email they gave."""

    type: Literal["transcript.email"]
    chat_id: EntityId
    kind: Literal["patron", "librarian"] | None = None
    to: str | None = Field(default=None, max_length=320)


class TranscriptMails(ClientFrame):
    """The chat's transcript mails with their status (a patron sees the ones they
    asked for)."""

    type: Literal["transcript.mails"]
    chat_id: EntityId


class TranscriptRetry(ClientFrame):
    """Retry a failed transcript mail of the chat now (operators)."""

    type: Literal["transcript.retry"]
    chat_id: EntityId
    mail_id: EntityId


FRAMES: tuple[type[ClientFrame], ...] = (TranscriptEmail, TranscriptMails, TranscriptRetry)
"""This area's client frame models, gathered by :mod:`gateway.frames`."""


def mail_status(mail: MailView) -> str:
    """``mail.status``: a mail's new status (``queued``, ``retrying``, ``sent``, ``failed``)."""
    return encode("mail.status", mail=mail)
