"""Pure rules of the tickets service: status transitions (LibAnswers: New → Open →
Pending → Closed), claiming, per-ticket reply addresses and views of rows.

No I/O here; every refusal is a :class:`~refdesk.bus.BusError` subclass whose message
is the sentence the dashboard shows.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any

from refdesk.bus import Conflict, Forbidden, Invalid
from refdesk.contracts.tickets import (
    MAX_BODY_CHARS, TicketMessage, TicketStatus, TicketView, TranscriptLine,
)

SUBJECT_CHARS = 80
"""A ticket's subject is the first line of its question, cut to this many characters."""

SECRET_BYTES = 8
"""Random bytes (hex in the address) of a ticket's reply-address secret."""

_ADDRESS = re.compile(r"^ticket\+([0-9a-f]{1,64})\.([0-9a-f]{8,64})$")


# --- statuses -----------------------------------------------------------------------


def after_reply(chosen: TicketStatus) -> TicketStatus:
    """The status after a reply was sent: the one the operator chose ("Submit as
    Pending" — the default —, "Closed" or "Open")."""
    if chosen == "New":
        raise Invalid("A reply cannot leave a ticket New.")
    return chosen


def after_staff_action(current: TicketStatus) -> TicketStatus:
    """An internal note or an assignment: a New ticket becomes Open (someone acted on
    it); Open, Pending and Closed stay as they are."""
    return "Open" if current == "New" else current


def after_patron_message(current: TicketStatus) -> TicketStatus:
    """The patron wrote again (an emailed answer): the ticket needs attention — Open,
    unless nobody has replied yet (it stays New)."""
    return "New" if current == "New" else "Open"


def set_status(current: TicketStatus, target: TicketStatus) -> TicketStatus:
    """A status chosen by hand: Open, Pending or Closed.

    Raises:
        Invalid (422): back to New ("New" means nobody has acted yet).
    """
    if target == "New" and current != "New":
        raise Invalid("A ticket cannot be set back to New once someone has acted on it.")
    return target


# --- owners -------------------------------------------------------------------------


def check_claim(owner_id: str | None, owner_name: str | None, operator_id: str) -> bool:
    """May ``operator_id`` claim a ticket owned by ``owner_id``?

    Returns:
        True when the claim changes the owner, False when they already own it.

    Raises:
        Conflict (409): someone else owns it ("Already claimed by Ben.").
    """
    if owner_id == operator_id:
        return False
    if owner_id is not None:
        raise Conflict(f"Already claimed by {owner_name or 'another operator'}.")
    return True


def check_unclaim(owner_id: str | None, operator_id: str, *, force: bool) -> None:
    """Only the owner unclaims (or anyone with ``force``, i.e. an admin).

    Raises:
        Conflict (409): nobody owns the ticket.
        Forbidden (403): someone else owns it.
    """
    if owner_id is None:
        raise Conflict("Nobody has claimed this ticket.")
    if owner_id != operator_id and not force:
        raise Forbidden("Only the ticket's owner can unclaim it.")


# --- text ---------------------------------------------------------------------------


def subject_of(question: str) -> str:
    """The subject of a ticket: the question's first non-blank line, at most
    :data:`SUBJECT_CHARS` characters (an ellipsis marks a cut)."""
    line = next((ln.strip() for ln in question.splitlines() if ln.strip()), question.strip())
    return line if len(line) <= SUBJECT_CHARS else line[: SUBJECT_CHARS - 1].rstrip() + "…"


def cut(text: str, limit: int = MAX_BODY_CHARS) -> str:
    """``text`` cut to ``limit`` characters (a note says so)."""
    if len(text) <= limit:
        return text
    return text[: limit - 40].rstrip() + "\n\n[… the rest was cut: too long]"


def emailable(transcript: list[TranscriptLine]) -> list[TranscriptLine]:
    """The lines of a chat transcript the patron may see (internal ones left out)."""
    return [line for line in transcript if not line.internal]


# --- reply addresses ------------------------------------------------------------------


def new_secret() -> str:
    """A fresh reply-address secret (hex)."""
    return secrets.token_hex(SECRET_BYTES)


def reply_address(ticket_id: str, secret: str, domain: str) -> str:
    """``ticket+<ticket id>.<secret>@<domain>``: where a patron's answer goes."""
    return f"ticket+{ticket_id}.{secret}@{domain}"


def parse_reply_address(address: str, domain: str) -> tuple[str, str] | None:
    """``(ticket_id, secret)`` from a reply address at ``domain`` (case-insensitive),
    or ``None`` when it is not one."""
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not at or host.lower() != domain.lower():
        return None
    match = _ADDRESS.match(local.lower())
    return (match.group(1), match.group(2)) if match else None


def secret_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of reply-address secrets."""
    return hmac.compare_digest(expected.encode(), given.encode())


def message_id(ticket_id: str, message_id_: str, domain: str) -> str:
    """The ``Message-ID`` of an email about a ticket: ``<ticket.<ticket id>.<message id>@<domain>>``."""
    return f"<ticket.{ticket_id}.{message_id_}@{domain}>"


# --- views ----------------------------------------------------------------------------


def ticket_view(row: Mapping[str, Any]) -> TicketView:
    """A ticket row (with ``message_count``) as :class:`TicketView`."""
    return TicketView(
        id=row["id"], department_id=row["department_id"], department_name=row["department_name"],
        status=row["status"], subject=row["subject"], patron_name=row["patron_name"],
        patron_email=row["patron_email"], question=row["question"], chat_id=row["chat_id"],
        owner_operator_id=row["owner_operator_id"], owner_operator_name=row["owner_operator_name"],
        assigned_department=row["assigned_department"], created_at=row["created_at"],
        updated_at=row["updated_at"], last_message_from=row["last_message_from"],
        message_count=row["message_count"],
    )


def message_view(row: Mapping[str, Any]) -> TicketMessage:
    """A ``ticket_messages`` row as :class:`TicketMessage`."""
    return TicketMessage(
        id=row["id"], ticket_id=row["ticket_id"], kind=row["kind"], author=row["author"],
        author_id=row["author_id"], body=row["body"], sent_at=row["sent_at"], mail_status=row["mail_status"],
        mail_id=row["mail_id"],
    )
