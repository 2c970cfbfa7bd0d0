"""Handlers for transcripts emailed by an operator or asked for by the patron
(``docs/protocol.md``, "Transcripts and mail").

Each handler authorises its frame, asks the owning service and returns the ``reply``
data (see :mod:`gateway.handlers`). The chat service renders the transcript and puts it
in its mail outbox; the status changes come back as ``mail.status`` (:mod:`gateway.hub`).
"""

from __future__ import annotations

from pydantic import EmailStr, TypeAdapter, ValidationError

from refdesk.bus import Forbidden, Invalid
from refdesk.contracts.chat import (
    TRANSCRIPT_EMAIL, TRANSCRIPT_MAILS, TRANSCRIPT_RETRY, TranscriptEmailRequest, TranscriptMailsRequest,
    TranscriptRetryRequest,
)
from refdesk.contracts.mail import MailList, MailView

from . import policy
from .frames_transcript import TranscriptEmail, TranscriptMails, TranscriptRetry
from .policy import PatronIdentity
from .session import Handler, Session

_EMAIL = TypeAdapter(EmailStr)


def _address(value: str | None) -> str:
    """A valid email address, or ``422`` with a sentence."""
    if value is None or not value.strip():
        raise Invalid("Enter the email address to send the transcript to.")
    try:
        return _EMAIL.validate_python(value.strip())
    except ValidationError:
        raise Invalid(f"“{value.strip()[:80]}” is not an email address.") from None


async def transcript_email(session: Session, frame: TranscriptEmail) -> MailView:
    """``transcript.email``: queue a transcript mail; answers the mail (``queued``).

    Operators (owner, participant or admin; ``kind`` and ``to`` required) — the reply's
    mail then reaches them as ``mail.status`` when it is sent or fails. Patrons: their
    own chat, once ended, the patron kind only, at most
    :data:`~gateway.policy.PATRON_TRANSCRIPT_MAILS` per chat, only to the email they
    gave when the chat started — or, when they gave none, to a typed address if a
    librarian claimed the chat (:func:`~gateway.policy.patron_transcript_address`).

    Errors: ``403`` not allowed (a patron asking for the librarian kind, or for another
    address than theirs / any address for an unanswered chat without one), ``409`` the
    chat has not ended (patron) or the limit is reached, ``422`` no or a bad address.
    """
    chat = await session.chat(frame.chat_id)
    if isinstance(session.identity, PatronIdentity):
        if frame.kind == "librarian":
            raise Forbidden("Only library staff can send the librarian transcript.")
        mine = await session.call(TRANSCRIPT_MAILS, TranscriptMailsRequest(chat_id=chat.id), MailList)
        policy.check_patron_transcript(chat, sum(1 for mail in mine.mails if mail.requested_by is None))
        to = _address(policy.patron_transcript_address(chat, frame.to))
        request = TranscriptEmailRequest(chat=chat, kind="patron", to=to, requested_by=None)
        return (await session.call(TRANSCRIPT_EMAIL, request, MailView)).for_patron()
    policy.check_transcript_sender(session.profile, chat)
    if frame.kind is None:
        raise Invalid("Choose the patron or the librarian transcript.")
    request = TranscriptEmailRequest(chat=chat, kind=frame.kind, to=_address(frame.to),
                                     requested_by=session.operator.operator_id)
    return await session.call(TRANSCRIPT_EMAIL, request, MailView)


async def transcript_mails(session: Session, frame: TranscriptMails) -> MailList:
    """``transcript.mails``: the chat's transcript mails, newest first, with status.
    Operators reaching the chat see all of them; a patron sees those they asked for."""
    chat = await session.chat(frame.chat_id)
    mails = await session.call(TRANSCRIPT_MAILS, TranscriptMailsRequest(chat_id=chat.id), MailList)
    if isinstance(session.identity, PatronIdentity):
        return MailList(mails=[mail.for_patron() for mail in mails.mails if mail.requested_by is None])
    return mails


async def transcript_retry(session: Session, frame: TranscriptRetry) -> MailView:
    """``transcript.retry``: send a failed transcript mail again now (a fresh schedule
    of attempts). Operators who may email the chat's transcript; ``404`` not a mail of
    this chat, ``409`` the mail is not failed."""
    chat = await session.chat(frame.chat_id)
    policy.check_transcript_sender(session.profile, chat)
    return await session.call(TRANSCRIPT_RETRY, TranscriptRetryRequest(chat_id=chat.id, mail_id=frame.mail_id),
                              MailView)


HANDLERS: dict[type, Handler] = {
    TranscriptEmail: transcript_email,
    TranscriptMails: transcript_mails,
    TranscriptRetry: transcript_retry,
}
"""Frame model → handler for this area, gathered by :mod:`gateway.handlers`."""
