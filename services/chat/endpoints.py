"""Request handlers of the chat service and its wiring (``wire``)."""

from __future__ import annotations

from refdesk.contracts import chat
from refdesk.contracts.common import Ok
from refdesk.outbox import OutboxRelay
from refdesk.service import Context

from . import domain, lifecycle, seed
from .config import HISTORY_PAGE_BYTES
from .store import ChatStore


class ChatEndpoints:
    """The handlers of ``rd.chat.*``: each takes the validated request model and
    returns the reply model of :mod:`refdesk.contracts.chat`."""

    def __init__(self, store: ChatStore, relay: OutboxRelay) -> None:
        self._store = store
        self._relay = relay

    async def send(self, request: chat.SendRequest) -> chat.SendAck:
        """``rd.chat.send``: store a message (body trimmed) with the chat's next seq and
        publish ``MessagePosted``; a retry with the same (chat, author kind, cmid) gets
        the original ack with ``duplicate=true`` (also after the chat ended). When the
        request carries the chat, the lifecycle messages its state shows
        (:func:`domain.messages_before_send`) are recorded first, if not yet.

        Raises:
            Invalid: (422) the body is blank once trimmed.
            Conflict: (409) "This chat has ended." — the chat's end is recorded.
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
        end, and the ``ended`` one marks the chat ended.

        Raises:
            Invalid: (422) the question is blank once trimmed.
        """
        await self._record_lifecycle(domain.lifecycle_messages(request.type, request.chat))
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
        message, duplicate = await self._store.add_message(request, after_end=lifecycle, ends=domain.ends_chat(request))
        if not duplicate:
            self._relay.wake()
        return domain.ack_for(message, duplicate=duplicate)

    async def history(self, request: chat.HistoryRequest) -> chat.History:
        """``rd.chat.history``: messages with ``seq > after_seq``, oldest first, at most
        ``limit`` and about :data:`~refdesk.contracts.chat.HISTORY_PAGE_BYTES` of JSON
        (at least one message); ``more`` when some were left out; ``top_seq`` 0 for an
        unknown chat."""
        rows, top_seq = await self._store.history(request.chat_id, request.after_seq, request.limit + 1)
        messages, more = domain.page(rows, request.limit, HISTORY_PAGE_BYTES)
        return chat.History(chat_id=request.chat_id, messages=messages, top_seq=top_seq, more=more)

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
    handlers = ChatEndpoints(store, ctx.relay)
    ctx.endpoints.add(chat.SEND, chat.SendRequest, handlers.send)
    ctx.endpoints.add(chat.HISTORY, chat.HistoryRequest, handlers.history)
    ctx.endpoints.add(chat.LIFECYCLE, chat.LifecycleRequest, handlers.lifecycle)
    ctx.endpoints.add(chat.CANNED_LIST, chat.CannedListRequest, handlers.canned_list)
    ctx.background(lifecycle.run_consumer(ctx.nc, handlers.lifecycle, ctx.stop), "chat-lifecycle")
