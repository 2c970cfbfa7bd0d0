"""The gateway's rules, without I/O: who may do what to a chat, what an operator's
board and queue interest are, a patron's place in the queue and the Reference
Analytics prefill.

Every check raises a :class:`~refdesk.bus.BusError` subclass whose message is the
sentence the client shows (``Forbidden`` → ``403``, ``Conflict`` → ``409``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from refdesk.bus import Conflict, Forbidden
from refdesk.contracts.common import utcnow
from refdesk.contracts.queue import ChatView, OperatorProfile

ENDED_STATES = frozenset({"ended", "closed"})


@dataclass(frozen=True)
class OperatorIdentity:
    """A socket signed in with an operator token."""

    operator_id: str


@dataclass(frozen=True)
class PatronIdentity:
    """A socket signed in with a patron token: it reaches ``chat_id`` only.

    Attributes:
        name: the patron's name from the token (shown as message author).
    """

    chat_id: str
    name: str


Identity = OperatorIdentity | PatronIdentity


# --- interest ---------------------------------------------------------------------


def monitoring(profile: OperatorProfile) -> frozenset[str]:
    """Departments whose queue changes reach the operator: the monitored departments
    they belong to while Online, none while Offline."""
    if profile.status != "online":
        return frozenset()
    return frozenset(department for department in profile.monitored if is_member(profile, department))


def board_view(chats: Iterable[ChatView], profile: OperatorProfile) -> list[ChatView]:
    """The operator's board out of the queued/active chats of their departments: chats
    of the departments they monitor (while Online) plus the chats they own."""
    watching = monitoring(profile)
    return [chat for chat in chats if chat.department_id in watching or chat.claimed_by == profile.id]


def queue_positions(department_queue: list[str]) -> Iterator[tuple[str, int, int]]:
    """``(chat_id, position, waiting)`` for each chat still queued in a department
    (``department_queue`` oldest first; position 1 = next)."""
    waiting = len(department_queue)
    for index, chat_id in enumerate(department_queue):
        yield chat_id, index + 1, waiting


# --- authorisation ----------------------------------------------------------------


def require_operator(who: Identity) -> OperatorIdentity:
    """Raises Forbidden unless ``who`` is an operator."""
    if not isinstance(who, OperatorIdentity):
        raise Forbidden("Only library staff can do that.")
    return who


def check_chat_id(who: Identity, chat_id: str) -> None:
    """A patron token reaches its own chat only (checked before any lookup).

    Raises:
        Forbidden: a patron asked for another chat.
    """
    if isinstance(who, PatronIdentity) and chat_id != who.chat_id:
        raise Forbidden("You can only reach your own chat.")


def is_member(profile: OperatorProfile, department_id: str) -> bool:
    """True when the operator belongs to the department."""
    return any(department.id == department_id for department in profile.departments)


def check_member(profile: OperatorProfile, department_id: str) -> None:
    """Raises Forbidden unless the operator belongs to the department."""
    if not is_member(profile, department_id):
        raise Forbidden("You are not a member of that department.")


def check_reach(who: Identity, profile: OperatorProfile | None, chat: ChatView) -> None:
    """A patron reaches their own chat; an operator the chats of their departments.

    Args:
        profile: the operator's current profile (``None`` for patrons).

    Raises:
        Forbidden: with a sentence naming the department for operators.
    """
    check_chat_id(who, chat.id)
    if isinstance(who, OperatorIdentity):
        assert profile is not None
        if not is_member(profile, chat.department_id):
            raise Forbidden(f"You are not a member of the {chat.department_name} department.")


def check_owner(who: OperatorIdentity, chat: ChatView) -> None:
    """Raises Forbidden unless the operator owns (has claimed) the chat."""
    if chat.claimed_by == who.operator_id:
        return
    if chat.claimed_by is None:
        raise Forbidden("Claim this chat first.")
    raise Forbidden(f"This chat belongs to {chat.claimed_by_name or 'another operator'}.")


def check_author(who: Identity, chat: ChatView) -> None:
    """May ``who`` write in ``chat`` at all, whatever its state? The patron (the chat
    is already known to be theirs), or the operator who owns it.

    Raises:
        Forbidden: an operator who does not own the chat.
    """
    if isinstance(who, OperatorIdentity):
        check_owner(who, chat)


def check_talk(who: Identity, chat: ChatView) -> None:
    """May ``who`` signal typing in ``chat``? Patrons while it is queued or active;
    the owning operator while it is active. (Sends are only checked with
    :func:`check_author`: the chat service answers a send to an ended chat — the
    original ack for a retry, ``409`` for a new message.)

    Raises:
        Conflict: the chat has ended (``This chat has ended.``).
        Forbidden: an operator who does not own the chat.
    """
    if chat.state in ENDED_STATES:
        raise Conflict("This chat has ended.")
    check_author(who, chat)


def check_end(who: Identity, chat: ChatView) -> None:
    """The patron or the owning operator may end a chat (the queue service decides
    whether its state allows it)."""
    if isinstance(who, OperatorIdentity):
        check_owner(who, chat)


def check_claim(profile: OperatorProfile, chat: ChatView) -> None:
    """Claiming needs the operator Online and the chat queued.

    Raises:
        Conflict: Offline; someone else claimed it (``Already claimed by Ben.``); ended.
    """
    if profile.status != "online":
        raise Conflict("Set your status to Online before claiming chats.")
    if chat.state != "queued":
        raise claim_lost(chat)


def claim_lost(chat: ChatView) -> Conflict:
    """The error for a claim that found ``chat`` no longer queued."""
    if chat.state in ENDED_STATES:
        return Conflict("This chat has ended.")
    return Conflict(f"Already claimed by {chat.claimed_by_name or 'another operator'}.")


# --- Reference Analytics ----------------------------------------------------------


def check_ra(profile: OperatorProfile, chat: ChatView) -> str:
    """May this operator see the Reference Analytics form of ``chat`` and save its
    record? Only for a chat that was claimed, by its owner or an admin.

    Returns:
        the owner's operator id (``claimed_by``): the record is theirs.

    Raises:
        Forbidden: the chat was never claimed; it was answered by someone else and
            the operator is not an admin.
    """
    if chat.claimed_by is None:
        raise Forbidden("Reference Analytics can only be recorded for a chat a librarian has claimed.")
    if chat.claimed_by != profile.id and not profile.is_admin:
        raise Forbidden(f"Only {chat.claimed_by_name or 'the librarian who answered this chat'} "
                        "can record its Reference Analytics.")
    return chat.claimed_by


CHAT_MODE = "Chat"
"""The Reference Analytics mode of a question that came by chat."""


def duration_minutes(claimed_at: datetime | None, ended_at: datetime | None, *, now: datetime | None = None) -> int | None:
    """Duration (claimed → ended) in whole minutes, rounded to the nearest minute
    (halves up), at least 1; up to ``now`` while the chat has not ended; ``None`` for
    a chat never claimed."""
    if claimed_at is None:
        return None
    end = ended_at or now or utcnow()
    seconds = max(0.0, (end - claimed_at).total_seconds())
    return max(1, math.floor(seconds / 60 + 0.5))


def ra_prefill(chat: ChatView, operator_id: str) -> dict[str, Any]:
    """Values the end-of-chat Reference Analytics form starts with.

    Returns:
        ``{chat_id, question, mode, duration (minutes or None), department_id,
        operator_id}`` — ``mode`` is ``"Chat"`` (the form offers it as a choice; the
        operator can change it), ``operator_id`` is the chat's owner, else the asker.
    """
    return {
        "chat_id": chat.id,
        "question": chat.question,
        "mode": CHAT_MODE,
        "duration": duration_minutes(chat.claimed_at, chat.ended_at),
        "department_id": chat.department_id,
        "operator_id": chat.claimed_by or operator_id,
    }
