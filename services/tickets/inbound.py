"""Patrons' emailed answers: an aiosmtpd SMTP server inside the tickets service that
threads each answer back into its ticket and reopens it.

How a message finds its ticket:

1. ``RCPT TO`` a reply address ``ticket+<ticket id>.<secret>@<ticket_reply_domain>``
   (what every ticket email carries as ``Reply-To``): the id and secret must match,
   else ``550 5.1.1`` at once;
2. ``RCPT TO`` another address at ``ticket_reply_domain`` is accepted provisionally
   and matched at ``DATA`` by a ``Message-ID`` in ``In-Reply-To`` / ``References``
   that this service really sent for a ticket (the confirmation or a staff reply,
   looked up in the ticket threads: :meth:`TicketStore.ticket_of_mail`) — a made-up
   ``<ticket.<ticket id>.<anything>@…>`` names no ticket, since knowing a ticket id
   must never stand in for its secret; no match → ``550 5.1.1``. Addresses at any
   other domain → ``550 5.7.1`` (no relaying).

The stored text is the plain-text part (else the HTML part as text), without the
quoted earlier email ("On … wrote:", ``>`` lines, Outlook's "Original Message"
block), cut to :data:`~refdesk.contracts.tickets.MAX_BODY_CHARS`. Messages larger
than :data:`MAX_MESSAGE_BYTES` are refused by the server (``552``). The answer is
committed before ``250`` is sent; a database failure answers ``451`` (the sender's
server retries), so nothing accepted is lost. The same ``Message-ID`` delivered twice
is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from refdesk.service import Context
from refdesk.text import clean_text

from . import domain
from .store import TicketStore

log = structlog.get_logger()

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
"""Largest email the server accepts (attachments included), in bytes."""

MAX_RECIPIENTS = 10
"""Most ticket addresses one message may name."""

Deliver = Callable[..., Awaitable[bool]]
"""``deliver(ticket_id, *, author, body, mail_message_id) -> bool`` (False: no such ticket)."""

# --- parsing (pure) -----------------------------------------------------------------

_ATTRIBUTION = re.compile(r"^\s*(On\b.{0,300}\bwrote:|Le\b.{0,300}\ba écrit\s*:|Am\b.{0,300}\bschrieb\b.*:)\s*$",
                          re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*(-{2,}\s*Original Message\s*-{2,}|_{20,}|-{2,}\s*Forwarded message\s*-{2,})\s*$",
                       re.IGNORECASE)
_HEADER_BLOCK = re.compile(r"^\s*From:\s.+$", re.IGNORECASE)
_SENT_LINE = re.compile(r"^\s*(Sent|Date):\s.+$", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """The new part of an emailed answer: cut at the attribution line ("On Mon, … X
    wrote:", also split over two lines), an "Original Message" or Outlook separator, a
    "From: … / Sent: …" header block, or the signature separator ``-- ``; trailing
    ``>`` lines go too. When nothing would be left (the patron only wrote between
    quoted lines), the text is kept whole, quotes included."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    end = len(lines)
    for i, line in enumerate(lines):
        two = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        if (_ATTRIBUTION.match(line) or (line.strip().lower().startswith("on ") and _ATTRIBUTION.match(two))
                or _ORIGINAL.match(line) or line == "-- "
                or (_HEADER_BLOCK.match(line) and any(_SENT_LINE.match(x) for x in lines[i + 1:i + 4]))):
            end = i
            break
    kept = lines[:end]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or text.strip()


class _TextOfHtml(HTMLParser):
    """Visible text of an HTML body (scripts and styles dropped, blocks on new lines)."""

    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        if tag == "blockquote":
            self._quote += 1
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        if tag == "blockquote":
            self._quote = max(0, self._quote - 1)
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._quote:  # a blockquote is the quoted earlier email
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML email body (quoted ``<blockquote>`` parts left out)."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class InboundMail:
    """What the server keeps of an email: who wrote, the new text, and its headers
    for threading."""

    author: str
    body: str
    message_id: str | None
    references: str
    name: str = ""
    """The From display name, cleaned ("" when the From header has none)."""
    address: str = ""
    """The From address ("" when none)."""


def author_for(mail: InboundMail, patron_name: str | None, patron_email: str | None) -> str:
    """Who the thread shows as the author of an emailed answer (pure): the From display
    name when present; else the ticket's patron name when the From address is the
    ticket's ``patron_email`` (compared case-insensitively); else the address."""
    if mail.name:
        return mail.name
    if patron_name and patron_email and mail.address.lower() == patron_email.strip().lower():
        return clean_text(patron_name, multiline=False)[:200]
    return mail.author


def read_mail(raw: bytes) -> InboundMail:
    """Parse an email (bytes as received) into :class:`InboundMail`: the sender's
    display name (else their address), the plain-text part (else the HTML part as
    text) without quoted text, cleaned and cut to ``MAX_BODY_CHARS``; ``Message-ID``;
    ``In-Reply-To`` + ``References`` joined."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(str(message.get("From", "")))
    text = _body_text(message)
    try:
        body = clean_text(domain.cut(strip_quoted(text)))
    except ValueError:
        body = "(The email had no text.)"
    references = " ".join(str(message.get(h, "")) for h in ("In-Reply-To", "References"))
    message_id = str(message.get("Message-ID", "")).strip() or None
    author = clean_text(name or address or "Patron", multiline=False)[:200] if (name or address) else "Patron"
    try:
        shown_name = clean_text(name, multiline=False)[:200] if name.strip() else ""
    except ValueError:
        shown_name = ""
    return InboundMail(author=author, body=body, message_id=message_id[:500] if message_id else None,
                       references=references, name=shown_name, address=address.strip())


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return _content(part)
    part = message.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(_content(part))
    return ""


def _content(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


# --- the SMTP server ------------------------------------------------------------------


class InboundHandler:
    """aiosmtpd handler: checks recipients (``handle_RCPT``), stores answers
    (``handle_DATA``) through ``deliver``."""

    def __init__(self, store: TicketStore, deliver: Deliver, reply_domain: str) -> None:
        self._store = store
        self._deliver = deliver
        self._domain = reply_domain.lower()

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        """Accept a valid reply address (or, provisionally, another address at the
        reply domain); ``550`` otherwise."""
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        host = address.rpartition("@")[2].lower()
        if host != self._domain:
            return f"550 5.7.1 <{address}>: this server only takes answers to ticket emails (no relaying)"
        parsed = domain.parse_reply_address(address, self._domain)
        if parsed is None and address.lower().startswith("ticket+"):
            return f"550 5.1.1 <{address}>: no such ticket address"
        if parsed is not None:
            try:
                secret = await self._secret(parsed[0])
            except Exception:
                log.exception("inbound.lookup_failed")
                return "451 4.3.0 Temporary failure; please try again later"
            if secret is None or not domain.secret_matches(secret, parsed[1]):
                return f"550 5.1.1 <{address}>: no such ticket address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def _secret(self, ticket_id: str) -> str | None:
        async with self._store.reading() as q:
            return await q.secret(ticket_id)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the answer in each ticket it names; ``250`` once committed, ``550``
        when it names no ticket, ``451`` on a database failure."""
        raw = envelope.original_content or (envelope.content if isinstance(envelope.content, bytes) else b"")
        try:
            mail = read_mail(raw)
            ticket_ids = await self._tickets(envelope.rcpt_tos, mail)
            if not ticket_ids:
                return "550 5.1.1 This message does not answer any ticket; please reply to a ticket email"
            for ticket_id in ticket_ids:
                key = mail.message_id if len(ticket_ids) == 1 or mail.message_id is None else \
                    f"{mail.message_id}/{ticket_id}"
                author = await self._author(ticket_id, mail)
                await self._deliver(ticket_id, author=author, body=mail.body, mail_message_id=key)
        except Exception:
            log.exception("inbound.store_failed")
            return "451 4.3.0 Temporary failure; please try again later"
        log.info("inbound.stored", tickets=ticket_ids)
        return "250 OK: added to the ticket"

    async def _author(self, ticket_id: str, mail: InboundMail) -> str:
        """:func:`author_for` with the ticket's patron name and email."""
        if mail.name:
            return mail.name
        async with self._store.reading() as q:
            ticket = await q.ticket(ticket_id)
        if ticket is None:
            return mail.author
        return author_for(mail, ticket["patron_name"], ticket["patron_email"])

    async def _tickets(self, recipients: list[str], mail: InboundMail) -> list[str]:
        """Tickets named by the recipients' reply addresses (checked with their secret
        at ``RCPT``), else the ticket of a Message-ID in the threading headers that
        this service sent — never a ticket id merely spelled in a header."""
        found: list[str] = []
        for address in recipients:
            parsed = domain.parse_reply_address(address, self._domain)
            if parsed and parsed[0] not in found:
                found.append(parsed[0])
        if found:
            return found
        ids = re.findall(r"<[^<>\s]{1,500}>", mail.references)
        if not ids:
            return []
        async with self._store.reading() as q:
            ticket_id = await q.ticket_of_mail(ids)
        return [ticket_id] if ticket_id else []


async def start(ctx: Context, store: TicketStore, deliver: Deliver) -> None:
    """Listen on ``inbound_smtp_host:inbound_smtp_port`` for the life of the service
    (closed when ``ctx.stop`` is set). When the port cannot be bound (already in use)
    the error is logged and the service runs on without inbound mail: tickets,
    replies and the dashboard keep working; patrons' answers wait in their mail
    servers' queues (which retry) until the port is free and the service restarts.
    """
    settings = ctx.settings
    # aiosmtpd logs every dropped connection ("Connection lost during _handle_client()")
    # at INFO on its "mail.log" logger: only its warnings and errors reach the log.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = InboundHandler(store, deliver, settings.ticket_reply_domain)
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(
            lambda: SMTP(handler, data_size_limit=MAX_MESSAGE_BYTES, hostname=settings.ticket_reply_domain,
                         ident="refdesk tickets", loop=loop),
            host=settings.inbound_smtp_host, port=settings.inbound_smtp_port,
        )
    except OSError as exc:
        ctx.log.error("inbound_smtp.unavailable", host=settings.inbound_smtp_host, port=settings.inbound_smtp_port,
                      error=str(exc))
        return
    ctx.log.info("inbound_smtp.listening", host=settings.inbound_smtp_host, port=settings.inbound_smtp_port)

    async def close_on_stop() -> None:
        await ctx.stop.wait()
        server.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5)

    ctx.background(close_on_stop(), "inbound-smtp")
