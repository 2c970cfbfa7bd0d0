"""The local mail catcher ``refdesk up`` runs: an SMTP server (aiosmtpd) that keeps
every mail it receives instead of delivering it, and a small web page listing them.

* SMTP on ``settings.smtp_host:smtp_port`` (default ``127.0.0.1:1025``), where every
  service sends by default; each caught mail is kept in memory and as
  ``<state_dir>/mail/<id>.json`` (so the page survives a restart).
* The page on ``settings.mailcatcher_port`` (default 8025): ``/`` lists the mails newest
  first (subject, to, time); ``/mail/<id>`` shows one (headers, plain text, and the
  HTML in a sandboxed iframe loaded from ``/mail/<id>/html``, which is served with a
  CSP that forbids scripts, forms and remote loads); ``/api/mails`` is the list as JSON.
* "Reply as the patron" is offered only on mail with a ticket Reply-To
  (``ticket+…@<settings.ticket_reply_domain>``; other mail, e.g. a transcript from the
  no-reply sender, has nobody reading replies). It sends a reply over SMTP to
  ``settings.inbound_smtp_host:inbound_smtp_port`` (where the tickets service takes
  patrons' email replies), addressed to that ticket address, with
  ``In-Reply-To``/``References`` set from the mail's ``Message-ID``. SMTP failures are
  shown as a sentence (:func:`reply_error_text`), never an exception's repr.
* Times are shown in ``settings.time_zone``.

``refdesk up`` starts it (``python -m refdesk.mailcatcher``) unless ``RD_SMTP_HOST``
names another host than 127.0.0.1/localhost — then mail goes to that real server and
no catcher runs. Run alone: ``python -m refdesk.mailcatcher``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiosmtplib
from aiosmtpd.controller import Controller

from .ids import new_id
from .settings import Settings, get_settings

MAX_KEPT = 1000
"""Most mails kept in memory (the oldest are forgotten first; their files stay)."""


@dataclass
class CaughtMail:
    """One mail the catcher received.

    Attributes:
        id: 32 hex characters, time-ordered.
        received_at: UTC ISO-8601.
        envelope_from / envelope_to: the SMTP envelope.
        subject, from_, to, reply_to, message_id, date: header values ("" when absent).
        text: the ``text/plain`` body ("" when none); html: the ``text/html`` body or None.
        headers: every header, in order, as (name, value) pairs.
    """

    id: str
    received_at: str
    envelope_from: str
    envelope_to: list[str]
    subject: str = ""
    from_: str = ""
    to: str = ""
    reply_to: str = ""
    message_id: str = ""
    references: str = ""
    date: str = ""
    text: str = ""
    html: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The list entry: id, received_at, subject, from, to."""
        return {"id": self.id, "received_at": self.received_at, "subject": self.subject,
                "from": self.from_, "to": self.to}


def parse_mail(data: bytes, envelope_from: str, envelope_to: list[str]) -> CaughtMail:
    """Parse raw RFC 5322 bytes into a :class:`CaughtMail` (pure; never raises on a
    malformed body — what cannot be decoded is shown as received)."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))

    def content(part: Any) -> str | None:
        if part is None:
            return None
        try:
            return part.get_content()
        except (LookupError, ValueError):
            return part.get_payload(decode=True).decode("utf-8", "replace")

    return CaughtMail(
        id=new_id(), received_at=datetime.now(timezone.utc).isoformat(),
        envelope_from=envelope_from, envelope_to=list(envelope_to),
        subject=str(message.get("Subject", "")), from_=str(message.get("From", "")), to=str(message.get("To", "")),
        reply_to=str(message.get("Reply-To", "")), message_id=str(message.get("Message-ID", "")),
        references=str(message.get("References", "")), date=str(message.get("Date", "")),
        text=content(text_part) or "", html=content(html_part),
        headers=[(name, str(value)) for name, value in message.items()],
    )


class MailBox:
    """Caught mails in memory (newest last) and, when ``folder`` is given, one JSON
    file per mail there (loaded back at start). Thread-safe: the SMTP server runs in
    its own thread."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._lock = threading.Lock()
        self._mails: list[CaughtMail] = []
        self.arrived = threading.Condition(self._lock)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            for path in sorted(folder.glob("*.json"))[-MAX_KEPT:]:
                with contextlib.suppress(ValueError, TypeError, OSError):
                    data = json.loads(path.read_text(encoding="utf-8"))
                    data["headers"] = [tuple(pair) for pair in data.get("headers", [])]
                    self._mails.append(CaughtMail(**data))

    def add(self, mail: CaughtMail) -> None:
        """Keep ``mail`` (and write its file)."""
        if self._folder is not None:
            (self._folder / f"{mail.id}.json").write_text(json.dumps(asdict(mail)), encoding="utf-8")
        with self._lock:
            self._mails.append(mail)
            del self._mails[:-MAX_KEPT]
            self.arrived.notify_all()

    def newest_first(self) -> list[CaughtMail]:
        """Every kept mail, newest first."""
        with self._lock:
            return list(reversed(self._mails))

    def get(self, mail_id: str) -> CaughtMail | None:
        """One mail by id, or None."""
        with self._lock:
            return next((m for m in self._mails if m.id == mail_id), None)

    def clear(self) -> None:
        """Forget every mail (memory only)."""
        with self._lock:
            self._mails.clear()


class _Handler:
    def __init__(self, box: MailBox) -> None:
        self._box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self._box.add(parse_mail(envelope.original_content or envelope.content, envelope.mail_from,
                                 envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpCatcher:
    """An aiosmtpd SMTP server (in its own thread) putting every mail in ``box``.

    Usage::

        catcher = SmtpCatcher(MailBox(), "127.0.0.1", 1025)
        catcher.start()   # raises OSError/RuntimeError when the port is taken
        ...
        catcher.stop()
    """

    def __init__(self, box: MailBox, host: str, port: int) -> None:
        self.box = box
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen; returns once the server answers."""
        self._controller = Controller(_Handler(self.box), hostname=self.host, port=self.port,
                                      data_size_limit=25 * 1024 * 1024)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._controller is not None:
            with contextlib.suppress(Exception):
                self._controller.stop()
            self._controller = None


def ticket_reply_address(mail: CaughtMail, settings: Settings) -> str | None:
    """The ticket reply address in ``mail``'s Reply-To — ``ticket+<…>@<ticket_reply_domain>``
    (domain compared case-insensitively) — or None when it has none (pure)."""
    domain = settings.ticket_reply_domain.lower()
    for _name, address in getaddresses([mail.reply_to]):
        local, _, host = address.rpartition("@")
        if local.lower().startswith("ticket+") and host.lower() == domain:
            return address
    return None


def reply_error_text(exc: BaseException, settings: Settings) -> str:
    """A readable sentence for a failed "Reply as the patron" (pure): a refused recipient
    or message quotes the server's own message; a refused connection says nothing listens
    on the inbound port; anything else names the failure without a repr."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError, aiosmtplib.SMTPSenderRefused)):
        return f"The library did not accept this reply: {exc.message}"
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, TimeoutError)):
        return "Could not send the reply: the library's mail server did not answer in time."
    if isinstance(exc, (aiosmtplib.SMTPConnectError, ConnectionRefusedError)):
        return (f"Could not send the reply: nothing listens for patron replies on "
                f"{settings.inbound_smtp_host}:{settings.inbound_smtp_port}.")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"Could not send the reply: the library's mail server answered {exc.code} {exc.message}"
    return "Could not send the reply: the connection to the library's mail server failed."


def reply_message(mail: CaughtMail, body: str, settings: Settings) -> EmailMessage:
    """The patron's reply to ``mail``: To = its ticket reply address (else Reply-To, else From), From = its first
    envelope recipient, ``Re:`` subject, In-Reply-To/References chained to its
    Message-ID, plain text ``body`` (pure)."""
    message = EmailMessage()
    message["From"] = mail.envelope_to[0] if mail.envelope_to else "patron@example.org"
    message["To"] = ticket_reply_address(mail, settings) or mail.reply_to or mail.from_
    subject = mail.subject
    message["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    domain = parseaddr(message["From"])[1].rpartition("@")[2] or "example.org"
    message["Message-ID"] = make_msgid(domain=domain)
    if mail.message_id:
        message["In-Reply-To"] = mail.message_id
        message["References"] = f"{mail.references} {mail.message_id}".strip()
    message.set_content(body)
    return message


async def send_reply(mail: CaughtMail, body: str, settings: Settings) -> str:
    """Send the patron's reply (:func:`reply_message`) to the inbound SMTP server
    (``settings.inbound_smtp_host:inbound_smtp_port``); return the address it went to.

    Raises:
        aiosmtplib.SMTPException / OSError: the inbound server is not running or refused.
    """
    message = reply_message(mail, body, settings)
    await aiosmtplib.send(message, hostname=settings.inbound_smtp_host, port=settings.inbound_smtp_port,
                          start_tls=False, timeout=10)
    return str(message["To"])


# --- the web page --------------------------------------------------------------------

STATIC = Path(__file__).resolve().parent.parent / "gateway" / "static"
"""The gateway's static folder: the page reuses its ``css/base.css``."""

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""The catcher's own pages: no inline script or style."""

MAIL_HTML_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors 'self'; sandbox")
"""A caught mail's HTML (shown in a sandboxed iframe): its inline styles only — no
script, no form, nothing loaded from anywhere."""

CATCHER_CSS = """
.catcher { max-width: 960px; margin: 0 auto; padding: 1rem; }
.catcher__top { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; margin-bottom: 1rem; }
.catcher__brand { font-weight: 700; color: var(--brand); margin: 0; }
.catcher__note { color: var(--muted); margin: 0; }
.catcher table { width: 100%; border-collapse: collapse; background: var(--surface); border: 1px solid var(--line);
  border-radius: var(--radius); overflow: hidden; }
.catcher th, .catcher td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
.catcher th { color: var(--muted); font-weight: 600; background: var(--paper); }
.catcher td a { color: var(--brand-strong); font-weight: 600; }
.catcher time { white-space: nowrap; color: var(--muted); }
.card { background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); padding: 1rem;
  margin-bottom: 1rem; box-shadow: var(--shadow); }
.card h1 { font-size: 1.3rem; margin-bottom: .75rem; }
.card h2 { font-size: 1.05rem; margin-bottom: .5rem; }
.headers { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
.headers dt { color: var(--muted); font-weight: 600; }
.headers dd { margin: 0; overflow-wrap: anywhere; }
.plain { white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: .9rem;
  margin: 0; }
.html-frame { width: 100%; height: 32rem; border: 1px solid var(--line); border-radius: var(--radius-small);
  background: #fff; }
.reply textarea { width: 100%; min-height: 6rem; font: inherit; padding: .5rem; border: 1px solid var(--line-strong);
  border-radius: var(--radius-small); }
.reply p { margin: .25rem 0 .5rem; color: var(--muted); }
.notice { padding: .5rem .75rem; border-radius: var(--radius-small); margin-bottom: 1rem; }
.notice--ok { background: var(--ok-soft); color: var(--ok); }
.notice--error { background: var(--danger-soft); color: var(--danger); }
.empty { color: var(--muted); padding: 1rem; }
@media (max-width: 600px) { .catcher__hide-small { display: none; } }
@media (min-width: 700px) { .catcher__to { white-space: nowrap; } }
"""

CATCHER_JS = """// Reload the list when new mail arrives (the page itself works without this).
const list = document.querySelector("[data-newest]");
if (list) {
  setInterval(async () => {
    try {
      const reply = await fetch("/api/mails", { cache: "no-store" });
      const mails = (await reply.json()).mails;
      if ((mails[0]?.id ?? "") !== list.dataset.newest) location.reload();
    } catch { /* the catcher is stopping; try again later */ }
  }, 2000);
}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(iso: str, zone: str = "UTC") -> str:
    """``iso`` (UTC ISO-8601) as local time in the IANA ``zone``, e.g. "2026-12-02 13:55:03 EST"."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return _e(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(_zone(zone))
    return f'<time datetime="{_e(iso)}">{local:%Y-%m-%d %H:%M:%S} {_e(local.tzname() or zone)}</time>'


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · refdesk mail</title>"
        '<link rel="stylesheet" href="/static/base.css"><link rel="stylesheet" href="/static/catcher.css">'
        '<script type="module" src="/static/catcher.js"></script></head>'
        f'<body><main class="catcher">{body}</main></body></html>'
    )


def list_page(mails: list[CaughtMail], zone: str = "UTC") -> str:
    """The list page: caught mails newest first (pure)."""
    top = ('<header class="catcher__top"><h1 class="catcher__brand">refdesk mail</h1>'
           '<p class="catcher__note">Mail sent by refdesk is caught here instead of being delivered.</p></header>')
    if not mails:
        rows = '<p class="empty" data-testid="no-mail">No mail yet.</p>'
    else:
        items = "".join(
            f'<tr data-testid="mail-row"><td><a href="/mail/{_e(m.id)}">{_e(m.subject or "(no subject)")}</a></td>'
            f"<td class=\"catcher__to\">{_e(m.to)}</td><td class=\"catcher__hide-small\">{_when(m.received_at, zone)}</td></tr>"
            for m in mails
        )
        rows = ('<table><thead><tr><th scope="col">Subject</th><th scope="col">To</th>'
                f'<th scope="col" class="catcher__hide-small">Received</th></tr></thead><tbody>{items}</tbody></table>')
    newest = mails[0].id if mails else ""
    return _page("Caught mail", f'{top}<div data-newest="{_e(newest)}">{rows}</div>')


def mail_page(mail: CaughtMail, notice: tuple[str, str] | None = None, *, reply_to: str | None = None,
              zone: str = "UTC") -> str:
    """One mail: headers, plain text, HTML in a sandboxed iframe, and — only when
    ``reply_to`` (its ticket reply address) is given — the reply form (pure). The
    received time is shown in the IANA ``zone``."""
    fields = [("Subject", mail.subject), ("From", mail.from_), ("To", mail.to), ("Reply-To", mail.reply_to),
              ("Date", mail.date), ("Message-ID", mail.message_id)]
    headers = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in fields if v)
    headers += f"<dt>Received</dt><dd>{_when(mail.received_at, zone)}</dd>"
    parts = ['<header class="catcher__top"><a href="/">← All mail</a></header>']
    if notice:
        parts.append(f'<p class="notice notice--{_e(notice[0])}" role="status" data-testid="notice">{_e(notice[1])}</p>')
    parts.append(f'<section class="card"><h1 data-testid="mail-subject">{_e(mail.subject or "(no subject)")}</h1>'
                 f'<dl class="headers">{headers}</dl></section>')
    if mail.html is not None:
        parts.append(f'<section class="card"><h2>HTML</h2><iframe class="html-frame" sandbox title="The mail as HTML" '
                     f'src="/mail/{_e(mail.id)}/html" data-testid="mail-html"></iframe></section>')
    parts.append(f'<section class="card"><h2>Plain text</h2><pre class="plain" data-testid="mail-text">'
                 f"{_e(mail.text)}</pre></section>")
    if reply_to is None:
        return _page(mail.subject or "Mail", "".join(parts))
    parts.append(
        f'<section class="card reply" data-testid="reply-card"><h2>Reply as the patron</h2>'
        f'<p>Sends a reply to {_e(reply_to)} through the '
        f'inbound mail port, as the patron\'s mail program would.</p>'
        f'<form method="post" action="/mail/{_e(mail.id)}/reply">'
        f'<label for="reply-body">Your reply</label>'
        f'<textarea id="reply-body" name="body" required maxlength="20000" data-testid="reply-body"></textarea>'
        f'<p><button type="submit" class="btn btn--primary" data-testid="reply-send">Send reply</button></p>'
        f"</form></section>"
    )
    return _page(mail.subject or "Mail", "".join(parts))


def create_app(box: MailBox, settings: Settings) -> Any:
    """The catcher's FastAPI app over ``box`` (see the module docstring for routes)."""
    from fastapi import FastAPI, Form, HTTPException
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

    app = FastAPI(title="refdesk mail catcher", docs_url=None, redoc_url=None, openapi_url=None)
    base_css = (STATIC / "css" / "base.css").read_text(encoding="utf-8")

    def page(content: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(content, status, headers={"Content-Security-Policy": PAGE_CSP,
                                                      "X-Content-Type-Options": "nosniff"})

    def find(mail_id: str) -> CaughtMail:
        mail = box.get(mail_id)
        if mail is None:
            raise HTTPException(404, "No such mail.")
        return mail

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/static/base.css")
    async def css_base() -> Response:
        return Response(base_css, media_type="text/css")

    @app.get("/static/catcher.css")
    async def css_catcher() -> Response:
        return Response(CATCHER_CSS, media_type="text/css")

    @app.get("/static/catcher.js")
    async def js_catcher() -> Response:
        return Response(CATCHER_JS, media_type="text/javascript")

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return page(list_page(box.newest_first(), settings.time_zone))

    @app.get("/api/mails")
    async def api_list() -> JSONResponse:
        return JSONResponse({"mails": [m.summary() for m in box.newest_first()]})

    @app.get("/api/mails/{mail_id}")
    async def api_mail(mail_id: str) -> JSONResponse:
        return JSONResponse(asdict(find(mail_id)))

    @app.get("/mail/{mail_id}", response_class=HTMLResponse)
    async def detail(mail_id: str, replied: str | None = None, error: str | None = None) -> HTMLResponse:
        notice = ("ok", f"Reply sent to {replied}.") if replied else ("error", error) if error else None
        mail = find(mail_id)
        return page(mail_page(mail, notice, reply_to=ticket_reply_address(mail, settings), zone=settings.time_zone))

    @app.get("/mail/{mail_id}/html")
    async def mail_html(mail_id: str) -> Response:
        mail = find(mail_id)
        if mail.html is None:
            return PlainTextResponse("This mail has no HTML part.", 404)
        return HTMLResponse(mail.html, headers={"Content-Security-Policy": MAIL_HTML_CSP,
                                                "X-Content-Type-Options": "nosniff"})

    @app.post("/mail/{mail_id}/reply")
    async def reply(mail_id: str, body: str = Form(min_length=1, max_length=20000)) -> RedirectResponse:
        mail = find(mail_id)
        from urllib.parse import quote

        if ticket_reply_address(mail, settings) is None:
            message = "This mail has no ticket reply address: replies to it are not read."
            return RedirectResponse(f"/mail/{mail_id}?error={quote(message)}", 303)
        try:
            to = await send_reply(mail, body, settings)
        except (aiosmtplib.SMTPException, OSError) as exc:
            message = reply_error_text(exc, settings)
            return RedirectResponse(f"/mail/{mail_id}?error={quote(message)}", 303)
        return RedirectResponse(f"/mail/{mail_id}?replied={quote(to)}", 303)

    return app


def runs_locally(settings: Settings) -> bool:
    """Whether ``refdesk up`` should run the catcher: the outgoing SMTP server is this
    machine (``smtp_host`` is 127.0.0.1, localhost or ::1)."""
    return settings.smtp_host in ("127.0.0.1", "localhost", "::1")


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the SMTP catcher and the page until ``stop`` is set.

    Raises:
        OSError / RuntimeError: a port is taken.
    """
    import uvicorn

    from .web import serve_until

    box = MailBox(settings.state_dir / "mail")
    catcher = SmtpCatcher(box, settings.smtp_host, settings.smtp_port)
    catcher.start()
    try:
        config = uvicorn.Config(create_app(box, settings), host="127.0.0.1", port=settings.mailcatcher_port,
                                log_level="warning", access_log=False)
        await serve_until(config, stop)
    finally:
        catcher.stop()


def main() -> None:
    """``python -m refdesk.mailcatcher``: run until SIGINT/SIGTERM."""
    from .log import configure_logging
    from .service import stop_on_signals

    settings = get_settings()
    configure_logging("mailcatcher", level=settings.log_level, fmt=settings.log_format)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO

    async def run() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await serve(settings, stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
