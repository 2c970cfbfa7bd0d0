"""The transcript preview a transfer target sees before accepting: the last
:data:`PREVIEW_MESSAGES` messages of the chat (internal notes included — the target
is staff), each body cut to :data:`PREVIEW_BODY_CHARS`, so an offer stays small
whatever was said."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from refdesk.contracts.chat import HISTORY, History, HistoryRequest, Message

PREVIEW_MESSAGES = 15
"""Messages in a preview (the latest ones)."""

PREVIEW_BODY_CHARS = 600
"""Characters of each body in a preview; longer bodies end with "…"."""

Call = Callable[[str, HistoryRequest, type[History]], Awaitable[History]]


def shorten(messages: list[Message], chars: int = PREVIEW_BODY_CHARS) -> list[Message]:
    """``messages`` with each body longer than ``chars`` cut to ``chars - 1``
    characters plus "…" (at most ``chars`` in all)."""
    return [m if len(m.body) <= chars else m.model_copy(update={"body": m.body[: chars - 1] + "…"}) for m in messages]


async def preview(call: Call, chat_id: str) -> list[Message]:
    """The chat's last :data:`PREVIEW_MESSAGES` messages, oldest first, shortened
    (:func:`shorten`). Two small history requests: one for the top seq, one for the
    messages after ``top_seq - PREVIEW_MESSAGES``.

    Args:
        call: ``(subject, request, reply type) -> reply`` (e.g. ``Gateway.call``).

    Raises:
        BusError: as ``call`` (the chat service not answering: ``503``).
    """
    top = await call(HISTORY, HistoryRequest(chat_id=chat_id, limit=1, include_internal=True), History)
    after = max(0, top.top_seq - PREVIEW_MESSAGES)
    page = await call(HISTORY, HistoryRequest(chat_id=chat_id, after_seq=after, limit=PREVIEW_MESSAGES,
                                              include_internal=True), History)
    return shorten(page.messages[-PREVIEW_MESSAGES:])
