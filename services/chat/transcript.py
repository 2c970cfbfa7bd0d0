"""Rendering a chat transcript for email (pure: no I/O).

Follows LibChat's two transcript emails: the **patron transcript** (the department,
date and time, wait, duration, the answering operator's *nickname*, the
conversation without internal notes or system messages) and the **librarian
transcript** (adds operators' full names, the system messages — "Ana joined the chat."
— and the internal notes, each marked "Internal note"). The patron transcript comes
from the no-reply sender, so it ends with :data:`NO_REPLY_NOTE`.

Times are shown in the library's time zone (``settings.time_zone``, IANA name) with
the zone's abbreviation (``14:05 CET``; a summer date shows ``CEST``). Every text that
came from a person (names, messages, the question, the department) is HTML-escaped
in the HTML part; the plain-text part is the same content as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from refdesk.contracts.chat import Message, TranscriptKind, patron_visible
from refdesk.contracts.queue import ChatView


NO_REPLY_NOTE = "This is an automatic message; replies are not read."
"""Last line of the patron transcript (it is sent from the no-reply address)."""


@dataclass(frozen=True)
class Line:
    """One transcript line: ``time`` (local, ``HH:MM TZ``), who wrote it, the text,
    and its kind — ``patron``, ``operator``, ``system`` or ``note`` (internal note)."""

    time: str
    author: str
    body: str
    kind: str


@dataclass(frozen=True)
class Rendered:
    """A rendered transcript email: Subject line, plain text and HTML."""

    subject: str
    text: str
    html: str


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` (aware) in ``zone``."""
    return moment.astimezone(zone)


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """``14:05 CET``: the local time with the zone's abbreviation."""
    value = local(moment, zone)
    return f"{value:%H:%M} {value.tzname()}"


def span(seconds: float | None) -> str:
    """A duration for people: ``45 s``, ``3 min 20 s``, ``1 h 5 min``; ``—`` for None."""
    if seconds is None:
        return "—"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start) / timedelta(seconds=1)


def lines(messages: Iterable[Message], kind: TranscriptKind, zone: ZoneInfo,
          full_names: dict[str, str] | None = None) -> list[Line]:
    """The conversation lines of a transcript, in seq order.

    Patron: internal notes and system messages are left out; operators appear by the
    nickname they wrote under. Librarian: everything; operators by full name
    (``full_names``: operator id → full name; their nickname when unknown); internal
    notes have kind ``note``."""
    ordered = sorted(messages, key=lambda m: m.seq)
    if kind == "patron":
        ordered = [m for m in patron_visible(ordered) if m.author_kind != "system"]
    names = full_names or {}
    result = []
    for message in ordered:
        author = message.author_name
        if kind == "librarian" and message.author_kind == "operator" and message.author_id in names:
            author = names[message.author_id]
        line_kind = "note" if message.internal else message.author_kind
        result.append(Line(clock(message.sent_at, zone), author, message.body, line_kind))
    return result


def header(chat: ChatView, kind: TranscriptKind, zone: ZoneInfo, library: str,
           full_names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The header fields, as (label, value) pairs: department, patron,
    date, started, wait, duration, answered by (nickname; the librarian transcript adds
    the full name, the patron's email and the participants)."""
    started = local(chat.queued_at, zone)
    answered = chat.claimed_by_name or "—"
    names = full_names or {}
    if kind == "librarian" and chat.claimed_by in names:
        answered = f"{names[chat.claimed_by]} ({chat.claimed_by_name})"
    fields = [
        ("Department", chat.department_name),
        ("Patron", chat.patron_name),
    ]
    if kind == "librarian":
        fields.append(("Patron email", chat.patron_email or "—"))
    fields += [
        ("Date", f"{started:%A %-d %B %Y}"),
        ("Started", clock(chat.queued_at, zone)),
        ("Wait", span(_seconds(chat.queued_at, chat.claimed_at)) if chat.claimed_at else "not answered"),
        ("Duration", span(_seconds(chat.claimed_at, chat.ended_at)) if chat.ended_at else "in progress"),
        ("Answered by", answered),
    ]
    if kind == "librarian" and chat.participants:
        fields.append(("Also in the chat", ", ".join(
            names.get(p.operator_id, p.nickname) for p in chat.participants)))
    if kind == "librarian" and chat.page_url:
        fields.append(("Asked from", chat.page_url))
    return fields


def render(chat: ChatView, messages: Iterable[Message], kind: TranscriptKind, *, time_zone: str,
           library: str, full_names: dict[str, str] | None = None) -> Rendered:
    """The transcript email of ``chat`` (see the module docstring).

    Args:
        messages: the chat's stored messages, internal notes included (the patron
            version filters them out itself).
        time_zone: IANA zone name (``Europe/Berlin``).
        library: the service's name for the subject line (the display name of ``mail_from``).
        full_names: operator id → full name, used by the librarian version.

    Raises:
        zoneinfo.ZoneInfoNotFoundError: ``time_zone`` is not a known zone.
    """
    zone = ZoneInfo(time_zone)
    fields = header(chat, kind, zone, library, full_names)
    body = lines(messages, kind, zone, full_names)
    date = f"{local(chat.queued_at, zone):%-d %B %Y}"
    subject = (f"Your chat with {library} on {date}" if kind == "patron"
               else f"Librarian transcript: chat with {chat.patron_name} on {date}")
    return Rendered(subject, _text(fields, body, kind), _html(subject, fields, body, kind))


def _text(fields: list[tuple[str, str]], body: list[Line], kind: TranscriptKind) -> str:
    out = ["Chat transcript" if kind == "patron" else "Librarian transcript (staff only)", ""]
    out += [f"{label}: {value}" for label, value in fields]
    out += ["", "-" * 60, ""]
    for line in body:
        if line.kind == "system":
            out.append(f"[{line.time}] * {line.body}")
        elif line.kind == "note":
            out.append(f"[{line.time}] [Internal note] {line.author}: {line.body}")
        else:
            out.append(f"[{line.time}] {line.author}: {line.body}")
    if not body:
        out.append("(no messages)")
    out += ["", "-" * 60]
    if kind == "patron":
        out += ["", NO_REPLY_NOTE]
    return "\n".join(out) + "\n"


def _e(value: str) -> str:
    """HTML-escaped, line breaks kept."""
    return html.escape(value, quote=True).replace("\n", "<br>\n")


_ROW_STYLE = {
    "patron": "background:#f4f6f8",
    "operator": "background:#ffffff",
    "system": "color:#5b6470;font-style:italic",
    "note": "background:#fff6dd;border-left:3px solid #c99a06",
}


def _html(subject: str, fields: list[tuple[str, str]], body: list[Line], kind: TranscriptKind) -> str:
    title = "Chat transcript" if kind == "patron" else "Librarian transcript (staff only)"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(subject)}</title></head>",
        '<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2933;'
        'line-height:1.45;margin:0;padding:16px;background:#fafbfc">',
        '<div style="max-width:640px;margin:0 auto">',
        f'<h1 style="font-size:20px;margin:0 0 12px">{_e(title)}</h1>',
        '<table role="presentation" style="border-collapse:collapse;margin-bottom:16px">',
    ]
    for label, value in fields:
        parts.append(f'<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0;color:#5b6470;'
                     f'font-weight:600">{_e(label)}</th><td style="padding:2px 0">{_e(value)}</td></tr>')
    parts.append("</table>")
    parts.append('<table role="presentation" style="border-collapse:collapse;width:100%">')
    for line in body:
        style = _ROW_STYLE.get(line.kind, "")
        if line.kind == "system":
            text = _e(line.body)
        else:
            label = "Internal note — " if line.kind == "note" else ""
            text = f"<strong>{_e(label)}{_e(line.author)}:</strong> {_e(line.body)}"
        parts.append(f'<tr style="{style}"><td style="padding:6px 8px;color:#5b6470;white-space:nowrap;'
                     f'vertical-align:top">{_e(line.time)}</td><td style="padding:6px 8px">{text}</td></tr>')
    if not body:
        parts.append('<tr><td style="padding:6px 8px">(no messages)</td></tr>')
    parts.append("</table>")
    if kind == "patron":
        parts.append(f'<p style="margin:16px 0 0;color:#5b6470;font-size:13px">{_e(NO_REPLY_NOTE)}</p>')
    parts += ["</div></body></html>", ""]
    return "\n".join(parts)
