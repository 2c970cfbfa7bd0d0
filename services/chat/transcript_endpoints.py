"""Transcripts by email: the chat service's ``rd.chat.transcript.*`` handlers.

A transcript is rendered (:mod:`.transcript`) from the stored messages and put in the
chat service's mail outbox (:mod:`refdesk.mail`) in one transaction; the service's
:class:`~refdesk.mail.MailRelay` sends it and publishes
``rd.ev.chat.mail.<mail_id>.<status>``. Who may ask is the gateway's decision.
"""

from __future__ import annotations

from email.utils import parseaddr

import asyncpg
from nats.aio.client import Client

from refdesk import bus, mail
from refdesk.contracts import chat, queue
from refdesk.contracts.chat import Message
from refdesk.contracts.mail import MailList, MailView
from refdesk.service import Context
from refdesk.settings import Settings

from .store import ChatStore
from .transcript import render

MAX_TRANSCRIPT_MESSAGES = 10_000
"""Most messages a transcript email shows (the oldest ones)."""

PAGE = 1000


def subject_ref(chat_id: str) -> str:
    """``chat:<chat_id>``: what the chat's mails are filed under."""
    return f"chat:{chat_id}"


class TranscriptEndpoints:
    """Handlers of ``rd.chat.transcript.email`` / ``.mails`` / ``.retry``."""

    def __init__(self, store: ChatStore, pool: asyncpg.Pool, nc: Client, settings: Settings,
                 mail_relay: mail.MailRelay, wake_events: object) -> None:
        self._store = store
        self._pool = pool
        self._nc = nc
        self._settings = settings
        self._mail_relay = mail_relay
        self._wake_events = wake_events

    async def email(self, request: chat.TranscriptEmailRequest) -> MailView:
        """Render the ``kind`` transcript of ``request.chat`` and queue it to ``to``;
        answer the queued mail.

        The patron version reads the messages without internal notes (filtered in SQL,
        and again by the renderer); the librarian version asks the queue service for
        the operators' full names (their nicknames if it does not answer).

        Raises:
            NotFound: (404) the chat has no messages.
        """
        chat_view = request.chat
        messages = await self._messages(chat_view.id, include_internal=request.kind == "librarian")
        if not messages:
            raise bus.NotFound("This chat has no messages to send.")
        names = await self._full_names(chat_view, messages) if request.kind == "librarian" else {}
        library = parseaddr(self._settings.mail_from)[0] or "the library"
        rendered = render(chat_view, messages, request.kind, time_zone=self._settings.time_zone,
                          library=library, full_names=names)
        outgoing = mail.OutgoingMail(
            to=str(request.to), subject=rendered.subject, text=rendered.text, html=rendered.html,
            kind=f"transcript.{request.kind}", requested_by=request.requested_by, subject_ref=subject_ref(chat_view.id),
        )
        async with self._pool.acquire() as conn, conn.transaction():
            mail_id = await mail.enqueue_mail(conn, outgoing, mail_from=self._settings.mail_from)
        self._mail_relay.wake()
        return await mail.get_mail(self._pool, mail_id)

    async def mails(self, request: chat.TranscriptMailsRequest) -> MailList:
        """The chat's transcript mails, newest first, with their status."""
        return await mail.mails_for(self._pool, subject_ref(request.chat_id))

    async def retry(self, request: chat.TranscriptRetryRequest) -> MailView:
        """Retry a failed transcript mail of the chat now.

        Raises:
            NotFound: (404) no such mail of this chat.
            Conflict: (409) the mail is not failed.
        """
        current = await mail.get_mail(self._pool, request.mail_id)
        if current.subject_ref != subject_ref(request.chat_id):
            raise bus.NotFound("No such mail.")
        view = await mail.retry_mail(self._pool, request.mail_id, chat.SERVICE)
        self._wake_events()  # type: ignore[operator]
        self._mail_relay.wake()
        return view

    async def _messages(self, chat_id: str, *, include_internal: bool) -> list[Message]:
        messages: list[Message] = []
        after = 0
        while len(messages) < MAX_TRANSCRIPT_MESSAGES:
            rows, _ = await self._store.history(chat_id, after, PAGE, include_internal=include_internal)
            messages += rows
            if len(rows) < PAGE:
                break
            after = rows[-1].seq
        return messages[:MAX_TRANSCRIPT_MESSAGES]

    async def _full_names(self, chat_view: queue.ChatView, messages: list[Message]) -> dict[str, str]:
        ids = {m.author_id for m in messages if m.author_kind == "operator" and m.author_id}
        ids |= {p.operator_id for p in chat_view.participants}
        if chat_view.claimed_by:
            ids.add(chat_view.claimed_by)
        if not ids:
            return {}
        try:
            found = await bus.request(self._nc, queue.OPERATORS_LIST, queue.OperatorsListRequest(operator_ids=sorted(ids)),
                                      queue.OperatorList, timeout=self._settings.request_timeout_seconds)
        except bus.BusError:
            return {}  # nicknames instead: the transcript still goes out
        return {op.id: op.full_name for op in found.operators}


def wire_transcripts(ctx: Context, store: ChatStore) -> None:
    """Start the chat service's mail relay and register the transcript endpoints."""
    relay = mail.start_mail_relay(ctx, chat.SERVICE)
    handlers = TranscriptEndpoints(store, ctx.pool, ctx.nc, ctx.settings, relay, ctx.relay.wake)
    ctx.endpoints.add(chat.TRANSCRIPT_EMAIL, chat.TranscriptEmailRequest, handlers.email)
    ctx.endpoints.add(chat.TRANSCRIPT_MAILS, chat.TranscriptMailsRequest, handlers.mails)
    ctx.endpoints.add(chat.TRANSCRIPT_RETRY, chat.TranscriptRetryRequest, handlers.retry)
