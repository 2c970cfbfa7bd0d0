"""Request handlers of the chat service and its wiring (``wire``)."""

from __future__ import annotations

from refdesk.contracts import chat
from refdesk.contracts.common import Ok
from refdesk.outbox import OutboxRelay
from refdesk.service import Context

from refdesk.bus import Conflict, NotFound

from . import domain, lifecycle, seed, transfers
from .internal_endpoints import InternalEndpoints
from .internal_store import InternalStore
from .config import HISTORY_PAGE_BYTES, SCREENSHARE_CMID_PREFIX, SYSTEM_AUTHOR_NAME
from .screenshare import Provider, provider_for
from .store import ChatStore
from .transcript_endpoints import wire_transcripts


class ChatEndpoints:
    """The handlers of ``rd.chat.*``: each takes the validated request model and
    returns the reply model of :mod:`refdesk.contracts.chat`."""

    def __init__(self, store: ChatStore, relay: OutboxRelay, screenshare: Provider | None = None) -> None:
        self._store = store
        self._relay = relay
        self._screenshare = screenshare

    async def send(self, request: chat.SendRequest) -> chat.SendAck:
        """``rd.chat.send``: store a message (body trimmed) with the chat's next seq and
        publish ``MessagePosted``; a retry with the same (chat, author kind, cmid) gets
        the original ack with ``duplicate=true`` (also after the chat ended). When the
        request carries the chat, the lifecycle messages its state shows
        (:func:`domain.messages_before_send`) are recorded first, if not yet.

        Raises:
            Invalid: (422) the body is blank once trimmed.
            Conflict: (409) "This chat has ended." — the chat's end is recorded (an
                internal note is still accepted: a post-chat note).
        """
        message = domain.normalise_send(request)
        if request.chat is not None:
            await self._record_lifecycle(domain.messages_before_send(request.chat))
        return await self._store_message(message)

    async def lifecycle(self, request: chat.LifecycleRequest) -> Ok:
        """``rd.chat.lifecycle``: record the messages of a chat lifecycle transition
        and of every earlier one the chat shows (:func:`domain.lifecycle_messages`),
        oldest first, through the same idempotent path as :meth:`send`; recording a
        transition again stores nothing. Lifecycle messages are accepted after the
        end, and the ``ended`` one marks the chat ended. A transfer's steps add
        their sentences (:func:`.transfers.transfer_messages`).

        Raises:
            Invalid: (422) the question is blank once trimmed.
        """
        messages = domain.lifecycle_messages(request.type, request.chat)
        messages += transfers.transfer_messages(request.type, request.chat, request.transfer)
        await self._record_lifecycle(messages)
        return Ok()

    async def _record_lifecycle(self, messages: list[chat.SendRequest]) -> None:
        """Store, in order, those of one chat's lifecycle ``messages`` not stored yet
        (one query finds the stored ones, so the usual case — all stored — is cheap)."""
        if not messages:
            return
        stored = await self._store.stored_keys(messages[0].chat_id, [(m.author_kind, m.cmid) for m in messages])
        for message in messages:
            if (message.author_kind, message.cmid) not in stored:
                await self._store_message(domain.normalise_send(message), lifecycle=True)

    async def _store_message(self, request: chat.SendRequest, *, lifecycle: bool = False) -> chat.SendAck:
        message, duplicate = await self._store.add_message(
            request, after_end=lifecycle or request.internal, ends=domain.ends_chat(request))
        if not duplicate:
            self._relay.wake()
        return domain.ack_for(message, duplicate=duplicate)

    async def history(self, request: chat.HistoryRequest) -> chat.History:
        """``rd.chat.history``: messages with ``seq > after_seq``, oldest first, at most
        ``limit`` and about :data:`~refdesk.contracts.chat.HISTORY_PAGE_BYTES` of JSON
        (at least one message); ``more`` when some were left out; ``top_seq`` 0 for an
        unknown chat. Internal notes only with ``include_internal`` (staff views)."""
        rows, top_seq = await self._store.history(request.chat_id, request.after_seq, request.limit + 1,
                                                  include_internal=request.include_internal)
        messages, more = domain.page(rows, request.limit, HISTORY_PAGE_BYTES)
        return chat.History(chat_id=request.chat_id, messages=messages, top_seq=top_seq, more=more)

    # --- screenshare -------------------------------------------------------------

    async def screenshare_request(self, request: chat.ScreenshareRequest) -> chat.Screenshare:
        """``rd.chat.screenshare.request``: a pending request (the gateway checked that
        the asker owns the active chat); while one is pending, that one is answered.
        Publishes ``rd.ev.chat.screenshare.<chat_id>.pending`` for a new one. No link
        is made here."""
        made, created = await self._store.add_screenshare(request.chat_id, request.operator_id, request.operator_name)
        if created:
            self._relay.wake()
        return made

    async def screenshare_answer(self, request: chat.ScreenshareAnswer) -> chat.Screenshare:
        """``rd.chat.screenshare.answer``: the patron's decision. Accepting makes the
        meeting link (:mod:`.screenshare`) — the first time a link exists — then the
        request is marked and its event published; either way "⟨patron⟩ accepted the
        screenshare request." / "… declined …" is recorded in the chat as a system
        message (cmid ``ev:screenshare:<request id>``, once).

        Raises:
            NotFound: (404) no such request in this chat.
            Conflict: (409) it was already answered the other way.
            BusError: (503) the meeting could not be made (the request stays pending).
        """
        current = await self._store.screenshare(request.request_id)
        if current is None or current.chat_id != request.chat_id:
            raise NotFound("There is no such screenshare request in this chat.")
        if current.state == "pending":
            link = None
            if request.accept:
                link = await self._provider().create(f"Library screenshare with {request.patron_name}")
            answered = await self._store.answer_screenshare(
                current.id, accepted=request.accept, join_url=link and link.join_url,
                host_url=link and link.host_url, provider=link and link.provider)
            if answered is not None:
                self._relay.wake()
            current = answered or await self._store.screenshare(current.id)
            assert current is not None
        if (current.state == "accepted") != request.accept:
            raise Conflict(f"This screenshare request was already {current.state}.")
        verb = "accepted" if request.accept else "declined"
        await self._record_lifecycle([chat.SendRequest(
            chat_id=current.chat_id, cmid=SCREENSHARE_CMID_PREFIX + current.id, author_kind="system",
            author_name=SYSTEM_AUTHOR_NAME, body=f"{request.patron_name} {verb} the screenshare request.")])
        return current

    async def screenshare_get(self, request: chat.ScreenshareLookup) -> chat.ScreenshareLatest:
        """``rd.chat.screenshare.get``: the chat's latest request, or none."""
        return chat.ScreenshareLatest(request=await self._store.latest_screenshare(request.chat_id))

    def _provider(self) -> Provider:
        if self._screenshare is None:
            raise RuntimeError("no screenshare provider configured")
        return self._screenshare

    async def canned_list(self, request: chat.CannedListRequest) -> chat.CannedList:
        """``rd.chat.canned.list``: a department's canned messages, welcome first, then
        in their set order (empty for an unknown department)."""
        return chat.CannedList(messages=domain.order_canned(await self._store.canned(request.department_id)))


async def wire(ctx: Context) -> None:
    """Seed demo data if asked, register the endpoints and start the lifecycle consumer."""
    store = ChatStore(ctx.pool)
    if ctx.settings.demo_seed:
        added = await seed.apply(store)
        if added:
            ctx.log.info("seed.applied", canned_messages=added)
    handlers = ChatEndpoints(store, ctx.relay, provider_for(ctx.settings))
    ctx.endpoints.add(chat.SEND, chat.SendRequest, handlers.send)
    ctx.endpoints.add(chat.HISTORY, chat.HistoryRequest, handlers.history)
    ctx.endpoints.add(chat.LIFECYCLE, chat.LifecycleRequest, handlers.lifecycle)
    ctx.endpoints.add(chat.CANNED_LIST, chat.CannedListRequest, handlers.canned_list)
    for subject, request_type, handler in InternalEndpoints(InternalStore(ctx.pool), ctx.relay).routes():
        ctx.endpoints.add(subject, request_type, handler)
    ctx.endpoints.add(chat.SCREENSHARE_REQUEST, chat.ScreenshareRequest, handlers.screenshare_request)
    ctx.endpoints.add(chat.SCREENSHARE_ANSWER, chat.ScreenshareAnswer, handlers.screenshare_answer)
    ctx.endpoints.add(chat.SCREENSHARE_GET, chat.ScreenshareLookup, handlers.screenshare_get)
    wire_transcripts(ctx, store)
    ctx.background(lifecycle.run_consumer(ctx.nc, handlers.lifecycle, ctx.stop), "chat-lifecycle")
