"""One function per client frame type (``docs/protocol.md``), plus the hello.

Each handler authorises the frame itself — on every frame, against the chat as the
queue service has it now — then asks the owning service. It returns the ``reply``
data; a :class:`~refdesk.bus.BusError` (its own or a service's) becomes the ``error``
frame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from refdesk import bus
from refdesk.auth import InvalidToken, read_token
from refdesk.bus import BusError, Forbidden, Invalid
from refdesk.contracts.chat import (
    CANNED_LIST, HISTORY, HISTORY_PAGE_BYTES, MAX_BODY_CHARS, SEND, CannedListRequest, History, HistoryRequest,
    Message, SendAck, SendRequest, TypingSignal, json_bytes, typing_subject,
)
from refdesk.contracts.chat import CannedList as CannedMessages
from refdesk.contracts.queue import (
    BOARD, CHAT_CLAIM, CHAT_CLOSE, CHAT_END, CHAT_GET, OPERATOR_GET, OPERATOR_STATUS, Board, BoardRequest,
    ChatRef, ChatView, ClaimRequest, CloseRequest, EndRequest, OperatorProfile, OperatorRef, SetStatusRequest,
)
from refdesk.contracts.queue import CHAT_DISMISS, CHAT_POSITION, DismissRequest, QueuePosition
from refdesk.text import clean_text

from . import frames, policy
from .connection import CLOSE_TRY_AGAIN, HEARTBEAT_SECONDS, Connection, Greeting, HelloRefused
from .frames import (
    CannedList, ChatClaim, ChatClose, ChatDismiss, ChatEnd, ChatSend, ChatSubscribe, ChatTyping, Hello,
    StatusSet,
)
from .policy import OperatorIdentity, PatronIdentity
from .session import NO_REPLY, Gateway, Handler, Session

HISTORY_PAGE = 200
"""Messages asked of the chat service per history request."""
HISTORY_MAX = 1000
"""Most messages one ``chat.subscribe`` replays; ``more: true`` tells the client to ask again."""
HISTORY_FRAME_BYTES = 2 * HISTORY_PAGE_BYTES
"""A ``history`` frame takes no further page once its messages reach this many bytes of
JSON, so it stays below 1 MiB (each page adds at most ``HISTORY_PAGE_BYTES`` and one
message); ``more: true`` tells the client to ask again."""


# --- hello ----------------------------------------------------------------------


async def open_session(gateway: Gateway, conn: Connection, hello: Hello) -> Greeting:
    """``hello``: check the token and greet.

    An operator gets ``welcome`` (their profile) then their ``board``; a patron gets
    ``welcome`` (their chat) then, while queued, their ``queue.position``. The socket
    joins the registry before the snapshot is read, so no event is missed.

    Raises:
        HelloRefused: ``401`` for a bad or expired token or a vanished operator or
            chat (close 4001); the service's code when it fails (close 1013).
    """
    try:
        claims = read_token(gateway.settings.jwt_secret, hello.token)
    except InvalidToken:
        raise HelloRefused("401", "Your sign-in is not valid or has expired; please sign in again.") from None
    if claims.role == "operator":
        return await _greet_operator(gateway, conn, OperatorIdentity(claims.subject))
    return await _greet_patron(gateway, conn, PatronIdentity(claims.subject, claims.name or "Patron"))


async def _greet_operator(gateway: Gateway, conn: Connection, identity: OperatorIdentity) -> Greeting:
    session = Session(gateway, conn, identity, HANDLERS)
    with _refusing("Your operator account no longer exists; please sign in again."):
        profile = await gateway.call(OPERATOR_GET, OperatorRef(operator_id=identity.operator_id), OperatorProfile)
    session.registry.join_operator(conn, profile)
    with _leaving_on_failure(session), _refusing("Your operator account no longer exists; please sign in again."):
        chats = await board_for(session)
    welcome = frames.welcome(operator=profile, max_message_chars=gateway.settings.max_message_chars,
                             heartbeat_seconds=HEARTBEAT_SECONDS)
    return Greeting(session, welcome, (frames.board(chats),))


async def _greet_patron(gateway: Gateway, conn: Connection, identity: PatronIdentity) -> Greeting:
    session = Session(gateway, conn, identity, HANDLERS)
    session.registry.join_patron(conn, identity.chat_id)
    snapshot: tuple[str, ...] = ()
    with _leaving_on_failure(session), _refusing("This chat no longer exists; please start a new one."):
        chat = await gateway.call(CHAT_GET, ChatRef(chat_id=identity.chat_id), ChatView)
        if chat.state == "queued":
            place = await _queue_place(session, chat)
            if place is not None:
                snapshot = (frames.queue_position(chat.id, *place),)
    welcome = frames.welcome(chat=policy.patron_view(chat), max_message_chars=gateway.settings.max_message_chars,
                             heartbeat_seconds=HEARTBEAT_SECONDS)
    return Greeting(session, welcome, snapshot)


@contextlib.contextmanager
def _refusing(gone: str) -> Iterator[None]:
    """Turn a service error during the hello into :class:`HelloRefused`: a missing
    account or chat closes with 4001 (sentence ``gone``), anything else with 1013."""
    try:
        yield
    except BusError as exc:
        if exc.code in ("401", "403", "404"):
            raise HelloRefused("401", gone) from None
        raise HelloRefused(exc.code, exc.message, CLOSE_TRY_AGAIN) from None


@contextlib.contextmanager
def _leaving_on_failure(session: Session) -> Iterator[None]:
    """Take the socket out of the registry again if the greeting does not complete."""
    try:
        yield
    except BaseException:
        session.closed()
        raise


async def board_for(session: Session) -> list[ChatView]:
    """The operator's ``board``: queued and active chats of the departments they
    monitor (while Online) plus the chats they own, including ended ones not closed
    yet (so a reload never loses a Reference Analytics form)."""
    profile = session.profile
    departments = [department.id for department in profile.departments]
    if not departments:
        return []
    board = await session.call(BOARD, BoardRequest(department_ids=departments, operator_id=profile.id), Board)
    return policy.board_view(board.chats, profile)


async def _queue_place(session: Session, chat: ChatView) -> tuple[int, int] | None:
    """``(position, waiting)`` of a queued chat in its department's queue, asked of
    ``rd.queue.chat.position`` (one small answer however long the queue is; ``None``
    once the chat is no longer queued)."""
    place = await session.call(CHAT_POSITION, ChatRef(chat_id=chat.id), QueuePosition)
    return None if place.position is None else (place.position, place.waiting)


# --- operator status ------------------------------------------------------------


async def status_set(session: Session, frame: StatusSet) -> OperatorProfile:
    """``status.set``: Online/Offline and monitored departments; a fresh ``board``
    is sent just before the reply."""
    operator = session.operator
    profile = await session.call(
        OPERATOR_STATUS,
        SetStatusRequest(operator_id=operator.operator_id, status=frame.status, monitored=frame.monitored),
        OperatorProfile,
    )
    session.registry.update_operator(profile)
    session.send(frames.board(await board_for(session)))
    return profile


# --- chats ----------------------------------------------------------------------


async def chat_subscribe(session: Session, frame: ChatSubscribe) -> dict[str, Any]:
    """``chat.subscribe``: go live first (buffering), replay the history after
    ``after_seq`` as one ``history`` frame, then release the buffered live messages
    not covered by it — no gap, no duplicate.

    A patron's history leaves internal notes out, so its seqs have gaps: everything up
    to the history's ``top_seq`` (or its last message, when ``more``) counts as
    covered, and the reply's ``top_seq`` lets the client move past the gaps."""
    chat = await session.chat(frame.chat_id)
    side = "patron" if isinstance(session.identity, PatronIdentity) else "operator"
    feed = session.registry.open_feed(session.conn, chat.id, side)
    try:
        messages, top_seq, more = await _history(session, chat.id, frame.after_seq, include_internal=side == "operator")
    except BaseException:
        session.registry.close_feed(session.conn, chat.id)
        raise
    session.send(frames.history(chat.id, messages, top_seq, more))
    feed.go_live(covered_seq(frame.after_seq, messages, top_seq, more), (message.seq for message in messages))
    if chat.state == "closed":  # nothing more will be said
        session.registry.close_feed(session.conn, chat.id)
    return {"chat_id": chat.id, "top_seq": max(top_seq, feed.top_seq)}


def covered_seq(after_seq: int, messages: list[Any], top_seq: int, more: bool) -> int:
    """The seq up to which a replay covered everything, where the live feed takes over:
    the history's ``top_seq`` — or its last message's seq when ``more`` remain — and
    never beyond the real ``top_seq`` whatever ``after_seq`` the client claimed (a seq
    above it would otherwise swallow every later live message up to it)."""
    covered = messages[-1].seq if more and messages else top_seq
    return max(min(after_seq, top_seq), covered)


async def replay_pages(fetch: Callable[[int], Awaitable[Any]], after_seq: int) -> tuple[list[Any], int, bool]:
    """Page through a history: ``fetch(cursor)`` answers the page after seq ``cursor``
    (``messages`` with ``seq``, ``top_seq``, ``more``, as ``History``). Returns the
    messages after ``after_seq`` (at most :data:`HISTORY_MAX`, and no further page once
    they reach :data:`HISTORY_FRAME_BYTES`), the top seq, and whether more remain."""
    messages: list[Any] = []
    size = 0
    cursor = after_seq
    while True:
        page = await fetch(cursor)
        messages.extend(page.messages)
        size += sum(json_bytes(message) for message in page.messages)
        if not page.more or not page.messages or len(messages) >= HISTORY_MAX or size >= HISTORY_FRAME_BYTES:
            return messages, page.top_seq, page.more
        cursor = page.messages[-1].seq


async def _history(
    session: Session, chat_id: str, after_seq: int, *, include_internal: bool,
) -> tuple[list[Message], int, bool]:
    """A chat's messages after ``after_seq``, its top seq and whether more remain (as
    :func:`replay_pages`). Internal notes only with ``include_internal`` (operators)."""
    async def fetch(cursor: int) -> History:
        request = HistoryRequest(chat_id=chat_id, after_seq=cursor, limit=HISTORY_PAGE,
                                 include_internal=include_internal)
        return await session.call(HISTORY, request, History)

    return await replay_pages(fetch, after_seq)


async def chat_claim(session: Session, frame: ChatClaim) -> ChatView:
    """``chat.claim``: an Online member operator claims a queued chat. Exactly one
    claimer wins; the others get ``409`` "Already claimed by ⟨nickname⟩." A repeated
    claim by the winner answers the chat again. "⟨nickname⟩ joined the chat." is
    recorded before the reply, so the winner's first message comes after it. An
    accepted transfer is claimed the same way by its target (``docs/protocol.md``,
    "Transfers")."""
    profile = session.profile
    chat = await session.chat(frame.chat_id)
    if chat.claimed_by == profile.id and chat.state == "active":
        claimed = chat  # a retried claim: recording "joined" again changes nothing
    else:
        policy.check_claim(profile, chat)
        try:
            claimed = await session.call(CHAT_CLAIM, ClaimRequest(chat_id=chat.id, operator_id=profile.id), ChatView)
        except BusError as exc:
            if exc.code != "409":
                raise
            latest = await session.call(CHAT_GET, ChatRef(chat_id=chat.id), ChatView)
            if latest.claimed_by and latest.claimed_by != profile.id:
                raise policy.claim_lost(latest) from None
            raise
    completed = chat.transfer if claimed.transfer_count > chat.transfer_count else None  # a transfer's claim
    await session.gateway.record_lifecycle("claimed", claimed, transfer=completed)
    return claimed


def _author(session: Session) -> tuple[str, str | None, str]:
    """``(author_kind, author_id, author_name)`` of this socket's messages: the
    patron's name, or the operator's nickname."""
    identity = session.identity
    if isinstance(identity, PatronIdentity):
        return "patron", None, identity.name[:100]
    return "operator", identity.operator_id, session.profile.nickname[:100]


def message_body(session: Session, text: str) -> str:
    """A message body as stored (:func:`refdesk.text.clean_text`: trimmed, a CRLF as
    one newline). Raises :class:`~refdesk.bus.Invalid` (422) for a blank body or one
    longer than ``settings.max_message_chars`` (at most :data:`MAX_BODY_CHARS`)."""
    limit = min(session.settings.max_message_chars, MAX_BODY_CHARS)
    try:
        body = clean_text(text)
    except ValueError:
        raise Invalid("A message cannot be blank.") from None
    if len(body) > limit:
        raise Invalid(f"A message can be at most {limit} characters long.")
    return body


async def chat_send(session: Session, frame: ChatSend) -> SendAck:
    """``chat.send``: the patron or the owning operator adds a message; a retry with
    the same ``cmid`` answers the original ack with ``duplicate: true``. The length
    limit counts the body as stored — trimmed, a CRLF as one newline
    (:func:`refdesk.text.clean_text`).

    Only who may write is checked here, not the chat's state: the chat service gets
    the chat as fetched here, records the lifecycle messages it shows first, and
    answers a send to an ended chat itself — the original ack for a message stored
    before the end, ``409`` "This chat has ended." for a new one.

    ``internal``: an internal note by the owning operator (staff only; a patron gets
    ``403`` whatever else the frame says). A note is accepted after the end too."""
    if frame.internal and isinstance(session.identity, PatronIdentity):
        raise Forbidden("Only library staff can write internal notes.")
    body = message_body(session, frame.body)
    chat = await session.chat(frame.chat_id)
    policy.check_author(session.identity, chat)
    kind, author_id, name = _author(session)
    request = SendRequest(chat_id=chat.id, cmid=frame.cmid, author_kind=kind, author_id=author_id,  # type: ignore[arg-type]
                          author_name=name, body=body, chat=chat, internal=frame.internal)
    return await session.call(SEND, request, SendAck)


async def chat_typing(session: Session, frame: ChatTyping) -> object:
    """``chat.typing``: published as core NATS ``rd.rt.typing.<chat_id>`` for those
    allowed to send; never answered with a reply (a refusal is an ``error``)."""
    chat = await session.chat(frame.chat_id)
    policy.check_talk(session.identity, chat)
    kind, _, name = _author(session)
    signal = TypingSignal(chat_id=chat.id, author_kind=kind, author_name=name, typing=frame.typing)  # type: ignore[arg-type]
    await session.gateway.nc.publish(typing_subject(chat.id), bus.dumps(signal))
    return NO_REPLY


async def chat_end(session: Session, frame: ChatEnd) -> ChatView:
    """``chat.end``: by the patron or the owning operator. "⟨name⟩ ended the chat."
    is recorded before the reply (from then on the chat service refuses messages)."""
    chat = await session.chat(frame.chat_id)
    policy.check_end(session.identity, chat)
    if isinstance(session.identity, OperatorIdentity):
        request = EndRequest(chat_id=chat.id, ended_by="operator", operator_id=session.identity.operator_id)
    else:
        request = EndRequest(chat_id=chat.id, ended_by="patron")
    ended = await session.call(CHAT_END, request, ChatView)
    await session.gateway.record_lifecycle("ended", ended)
    return ended


async def chat_close(session: Session, frame: ChatClose) -> ChatView:
    """``chat.close``: the owning operator files the chat away."""
    operator = session.operator
    chat = await session.chat(frame.chat_id)
    policy.check_owner(operator, chat)
    return await session.call(CHAT_CLOSE, CloseRequest(chat_id=chat.id, operator_id=operator.operator_id), ChatView)


async def chat_dismiss(session: Session, frame: ChatDismiss) -> ChatView:
    """``chat.dismiss``: an operator removes a queued chat of their department, or an
    active chat they own, from every dashboard with a note (LibChat's Dismiss); the
    queue service decides (``403``/``409``). The staff-only record "⟨nickname⟩
    dismissed the chat. Note: …" is stored before the reply; the patron's widget
    sees the chat ``closed`` (``chat.update`` event ``dismissed``) and says it ended."""
    operator = session.operator
    chat = await session.chat(frame.chat_id)
    request = DismissRequest(chat_id=chat.id, operator_id=operator.operator_id, note=frame.note)
    dismissed = await session.call(CHAT_DISMISS, request, ChatView)
    await session.gateway.record_lifecycle("dismissed", dismissed)
    return dismissed


async def canned_list(session: Session, frame: CannedList) -> CannedMessages:
    """``canned.list``: a department's canned messages, for its members."""
    policy.check_member(session.profile, frame.department_id)
    return await session.call(CANNED_LIST, CannedListRequest(department_id=frame.department_id), CannedMessages)


# The feature areas import this module's helpers (board_for …), so they come last.
from . import (  # noqa: E402
    handlers_internal, handlers_ra, handlers_screenshare, handlers_tickets, handlers_transcript, handlers_transfer,
)

HANDLERS: dict[type, Handler] = {
    StatusSet: status_set,
    ChatSubscribe: chat_subscribe,
    ChatClaim: chat_claim,
    ChatSend: chat_send,
    ChatTyping: chat_typing,
    ChatEnd: chat_end,
    ChatClose: chat_close,
    ChatDismiss: chat_dismiss,
    CannedList: canned_list,
    **handlers_ra.HANDLERS,
    **handlers_internal.HANDLERS,
    **handlers_transfer.HANDLERS,
    **handlers_screenshare.HANDLERS,
    **handlers_transcript.HANDLERS,
    **handlers_tickets.HANDLERS,
}
"""Frame model → handler, for every frame a :class:`Session` answers (``hello`` and
``ping`` belong to the connection)."""
