"""Pure rules of the queue service: who may move a chat through its lifecycle
(queued → active → ended → closed), which departments are online, which departments
an operator monitors, a patron's place in the queue, retries of a chat creation, how
much of a board fits in one reply, and mapping stored rows to the contract's views.
No I/O here; :mod:`.store` reads and writes, :mod:`.endpoints` combines both.

Every check raises a :class:`refdesk.bus.BusError` subclass whose message is a
sentence a librarian can read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from refdesk.bus import BusError, Conflict, Forbidden, Invalid
from refdesk.contracts.queue import (
    Board, ChatView, CreateChatRequest, Department, OperatorProfile, OperatorStatus, QueuePosition,
)
from refdesk.contracts.queue import DepartmentRef, OperatorSummary

CHAT_ENDED = "This chat has ended."
"""The answer to anything a chat that has ended can no longer do (the gateway says the same)."""

WRONG_CREDENTIALS = "Wrong username or password."
"""The one answer to a failed sign-in, whether the username or the password was wrong."""


def normalize_username(username: str) -> str:
    """Usernames are stored and compared trimmed and lower-cased (``" Ana "`` → ``"ana"``)."""
    return username.strip().lower()


def wrong_credentials() -> BusError:
    """The ``401`` for a failed sign-in (same message for unknown user and bad password)."""
    return BusError("401", WRONG_CREDENTIALS)


# --- departments and presence -------------------------------------------------------


def online_department_ids(monitors: Iterable[tuple[str, OperatorStatus]]) -> set[str]:
    """Departments that are online: at least one online operator monitors them.

    Args:
        monitors: one ``(department_id, operator_status)`` pair per operator monitoring
            a department.
    """
    return {department_id for department_id, status in monitors if status == "online"}


def department_list(rows: Iterable[Mapping[str, Any]], online: set[str]) -> list[Department]:
    """Map department rows (``id``, ``name``) to :class:`Department` views, with
    ``online`` set from :func:`online_department_ids`, in the rows' order."""
    return [Department(id=row["id"], name=row["name"], online=row["id"] in online) for row in rows]


def resolve_monitored(
    requested: Sequence[str] | None,
    current: Sequence[str],
    member_of: Sequence[str],
    status: OperatorStatus,
) -> list[str]:
    """The departments an operator monitors after a status change, sorted.

    Args:
        requested: the ids asked for; ``None`` keeps ``current``.
        current: the ids monitored before the change.
        member_of: ids of the departments the operator belongs to.
        status: the new status. Going online with nothing monitored (and nothing
            asked for) monitors every department the operator belongs to.

    Raises:
        Forbidden: ``requested`` names a department the operator does not belong to.
    """
    if requested is None:
        chosen = set(current)
        if status == "online" and not chosen:
            chosen = set(member_of)
    else:
        chosen = set(requested)
        outside = sorted(chosen - set(member_of))
        if outside:
            raise Forbidden(f"You can only monitor departments you belong to (not {', '.join(outside)}).")
    return sorted(chosen)


# --- chat lifecycle ---------------------------------------------------------------------


def check_can_claim(chat: ChatView, operator_status: OperatorStatus, member_of: Sequence[str]) -> None:
    """Refuse a claim the operator may not make, whatever the chat's state.

    Raises:
        Forbidden: the operator does not belong to the chat's department.
        Conflict: the operator is offline ("Go online to claim chats.").
    """
    if chat.department_id not in member_of:
        raise Forbidden(f"You are not a member of the {chat.department_name} department.")
    if operator_status != "online":
        raise Conflict("Go online to claim chats.")


def settle_lost_claim(chat: ChatView, operator_id: str) -> ChatView:
    """Decide a claim whose conditional update matched nothing (the chat was no longer
    queued). A repeated claim by the operator who already owns the active chat (a
    retry) answers the chat unchanged.

    Raises:
        Conflict: "Already claimed by ⟨nickname⟩." when another operator holds or held
            it; "This chat has ended." when it ended unclaimed.
    """
    if chat.state == "active" and chat.claimed_by == operator_id:
        return chat
    if chat.claimed_by is not None:
        raise Conflict(f"Already claimed by {chat.claimed_by_name}.")
    raise Conflict(CHAT_ENDED)


def check_end(chat: ChatView, ended_by: str, operator_id: str | None) -> None:
    """Refuse ending ``chat`` when it may not end now.

    The patron may end a queued or active chat; an operator may end only an active
    chat they own.

    Raises:
        Conflict: the chat is already ended or closed.
        Invalid: an operator ends it without saying who they are.
        Forbidden: the operator does not own the chat.
    """
    if chat.state in ("ended", "closed"):
        raise Conflict(CHAT_ENDED)
    if ended_by == "patron":
        return
    if operator_id is None:
        raise Invalid("operator_id is required when an operator ends a chat.")
    if chat.claimed_by != operator_id:
        raise Forbidden("Only the operator who claimed this chat can end it.")


def check_rate(chat: ChatView) -> None:
    """A patron may rate a chat once it has ended (ended, or closed by the operator).

    Raises:
        Conflict: the chat is still queued or active.
    """
    if chat.state not in ("ended", "closed"):
        raise Conflict("You can rate this chat once it has ended.")


def check_close(chat: ChatView, operator_id: str) -> None:
    """Refuse closing ``chat`` unless its owner closes it after it ended.

    Raises:
        Forbidden: ``operator_id`` does not own the chat.
        Conflict: the chat has not ended yet, or is already closed.
    """
    if chat.claimed_by != operator_id:
        raise Forbidden("Only the operator who claimed this chat can close it.")
    if chat.state == "closed":
        raise Conflict("This chat is already closed.")
    if chat.state != "ended":
        raise Conflict("End the chat before closing it.")


def check_dismiss(chat: ChatView, operator_id: str, member_of: Sequence[str]) -> None:
    """Refuse dismissing ``chat`` unless the operator may (LibChat's Dismiss): a queued
    chat by any member of its department, an active chat by its owner.

    Raises:
        Forbidden: not a member of the chat's department; an active chat owned by
            someone else.
        Conflict: the chat has ended or is closed (dismissed already included).
    """
    if chat.state in ("ended", "closed"):
        raise Conflict(CHAT_ENDED)
    if chat.department_id not in member_of:
        raise Forbidden(f"You are not a member of the {chat.department_name} department.")
    if chat.state == "active" and chat.claimed_by != operator_id:
        raise Forbidden(f"Only {chat.claimed_by_name or 'the operator who claimed this chat'} can dismiss it.")


def dismiss_note(note: str | None, nickname: str) -> str:
    """The note a dismissal records: the operator's own, or "Dismissed by ⟨nickname⟩"
    (LibChat's default, editable)."""
    return note or f"Dismissed by {nickname}"


def check_retry(existing: ChatView, request: CreateChatRequest) -> ChatView:
    """A chat creation whose ``request_id`` is already taken: a retry of the same
    request answers the chat the first attempt created (whatever its state now).

    Raises:
        Conflict: the id was used for a different department, patron name or
            question (a client reusing ids; never the patron page).
    """
    same = (existing.department_id, existing.patron_name, existing.question) == (
        request.department_id, request.patron_name, request.question)
    if not same:
        raise Conflict("This request id was already used for a different chat; start the chat again.")
    return existing


def queue_place(chat: ChatView, ahead: int, waiting: int) -> QueuePosition:
    """The patron's place: ``ahead`` queued chats of the department came before
    ``chat``, ``waiting`` are queued in all; position ``None`` unless ``chat`` is queued."""
    position = ahead + 1 if chat.state == "queued" else None
    return QueuePosition(chat_id=chat.id, position=position, waiting=waiting)


def queue_position(department_queue: Sequence[str], chat_id: str) -> int | None:
    """The chat's place in its department queue (1 = next to be claimed), or ``None``
    when it is not queued.

    Args:
        department_queue: ids of the queued chats, oldest first (``ChatEvent.department_queue``).
    """
    try:
        return department_queue.index(chat_id) + 1
    except ValueError:
        return None


# --- the board ----------------------------------------------------------------------------


def json_size(chat: ChatView) -> int:
    """Bytes of ``chat`` as JSON (UTF-8), as a reply carries it."""
    return len(chat.model_dump_json().encode())


def fit_board(chats: Sequence[ChatView], *, max_bytes: int, max_chats: int) -> Board:
    """The board reply out of candidate chats in priority order (the asking
    operator's own first, then oldest first): take chats in that order while the
    list's JSON stays within ``max_bytes`` and ``max_chats`` — always at least one —
    and list them oldest first (``queued_at``, then id).

    Returns:
        a :class:`Board` with ``more`` true when any candidate was left out (callers
        pass one candidate beyond ``max_chats`` to find out whether more exist).
    """
    kept: list[ChatView] = []
    size = 2  # the list's brackets
    for chat in chats[:max_chats]:
        cost = json_size(chat) + 1  # and a comma
        if kept and size + cost > max_bytes:
            break
        kept.append(chat)
        size += cost
    kept.sort(key=lambda chat: (chat.queued_at, chat.id))
    return Board(chats=kept, more=len(kept) < len(chats))


# --- views ------------------------------------------------------------------------------


def chat_view(row: Mapping[str, Any]) -> ChatView:
    """Map a chat row joined with ``department_name`` and ``claimed_by_name`` (the
    owner's nickname) to a :class:`ChatView`."""
    return ChatView.model_validate(dict(row))


def operator_profile(row: Mapping[str, Any], departments: list[Department], monitored: Sequence[str]) -> OperatorProfile:
    """Map an operator row plus their departments and monitored ids to the
    :class:`OperatorProfile` the gateway and dashboard see (never the password hash)."""
    return OperatorProfile(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        nickname=row["nickname"],
        is_admin=row["is_admin"],
        status=row["status"],
        departments=departments,
        monitored=list(monitored),
    )


def staff_list(
    operators: Iterable[Mapping[str, Any]],
    memberships: Iterable[Mapping[str, Any]],
    monitored: Iterable[Mapping[str, Any]],
    active: Iterable[Mapping[str, Any]],
) -> list[OperatorSummary]:
    """Assemble the staff list (Internal Chat's "who is online", LibChat's operator
    list) from the rows of :meth:`~.store.Queries.staff`, in the order of
    ``operators``: each operator with their departments (``id``, ``name``), monitored
    ids and ``active_chats`` (0 when they own no active chat)."""
    departments: dict[str, list[DepartmentRef]] = {}
    for row in memberships:
        departments.setdefault(row["operator_id"], []).append(DepartmentRef(id=row["id"], name=row["name"]))
    watching: dict[str, list[str]] = {}
    for row in monitored:
        watching.setdefault(row["operator_id"], []).append(row["department_id"])
    counts = {row["operator_id"]: int(row["n"]) for row in active}
    return [
        OperatorSummary(id=row["id"], nickname=row["nickname"], full_name=row["full_name"], status=row["status"],
                        departments=departments.get(row["id"], []), monitored=watching.get(row["id"], []),
                        active_chats=counts.get(row["id"], 0))
        for row in operators
    ]
