"""The emails the tickets service sends, composed without I/O as
:class:`refdesk.mail.OutgoingMail`: a staff reply and the offline form's
confirmation (also sent when a chat with a patron email becomes a ticket). Each
carries the ticket's reply address as ``Reply-To`` and a ``Message-ID`` of its own
(``<ticket.<ticket id>.<message id>@<ticket_reply_domain>>``), so a patron's answer
threads back by address or by ``In-Reply-To``/``References``.

Internal notes are never part of any email: these functions only ever see the reply
body and the patron's own question.
"""

from __future__ import annotations

from email.utils import format_datetime

from refdesk.contracts.tickets import TicketView
from refdesk.mail import OutgoingMail

from . import domain

SUBJECT_REF = "ticket:{ticket_id}"
"""The mail outbox's ``subject_ref`` of a ticket's emails."""


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _headers(message_id: str, in_reply_to: str | None) -> dict[str, str]:
    headers = {"Message-ID": message_id}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = in_reply_to
    return headers


def reply_email(ticket: TicketView, body: str, *, reply_to: str, message_id: str, in_reply_to: str | None,
                requested_by: str) -> OutgoingMail:
    """A staff reply to the patron: the reply, then the patron's question quoted.

    Args:
        ticket: the ticket (its ``patron_email`` is set).
        body: the reply text as stored (never an internal note).
        reply_to: :func:`domain.reply_address` of the ticket.
        message_id: :func:`domain.message_id` of this reply.
        in_reply_to: the Message-ID of the ticket's previous email, if any.
        requested_by: the replying operator's id (they get ``mail.status`` frames).
    """
    asked = format_datetime(ticket.created_at)
    text = (f"{body}\n\n"
            "To answer, just reply to this email.\n\n"
            f"On {asked} you asked:\n{_quoted(ticket.question)}\n")
    return OutgoingMail(to=[ticket.patron_email or ""], subject=f"Re: {ticket.subject}", text=text,
                        reply_to=reply_to, headers=_headers(message_id, in_reply_to), kind="ticket.reply",
                        requested_by=requested_by, subject_ref=SUBJECT_REF.format(ticket_id=ticket.id))


def confirmation_email(ticket: TicketView, *, reply_to: str, message_id: str, from_chat: bool = False) -> OutgoingMail:
    """"We've received your question": sent when the offline form creates a ticket, or
    (``from_chat``) when a librarian files a patron's chat as a ticket to follow up by
    email (``Auto-Submitted: auto-generated``, RFC 3834)."""
    why = ("A librarian will follow up your chat question" if from_chat
           else "Nobody was available to chat just now, so a librarian will answer you")
    text = (f"Hello {ticket.patron_name},\n\n"
            f"Thank you for your question to {ticket.department_name}. {why} by email as soon as they can.\n\n"
            "If you think of anything to add, just reply to this email.\n\n"
            f"Your question:\n{_quoted(ticket.question)}\n")
    headers = {**_headers(message_id, None), "Auto-Submitted": "auto-generated"}
    return OutgoingMail(to=[ticket.patron_email or ""], subject=f"We've received your question: {ticket.subject}",
                        text=text, reply_to=reply_to, headers=headers, kind="ticket.confirmation",
                        subject_ref=SUBJECT_REF.format(ticket_id=ticket.id))


def addresses(ticket_id: str, secret: str, message_row_id: str, domain_name: str) -> tuple[str, str]:
    """``(reply_to, message_id)`` of an email about a ticket."""
    return (domain.reply_address(ticket_id, secret, domain_name),
            domain.message_id(ticket_id, message_row_id, domain_name))
