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
from refdesk.contracts.queue import ChatView, OperatorProfile, TransferView

from .patron_view import PatronChat, patron_chat

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
    of the departments they monitor (while Online) plus the chats they own, the chats
    they take part in and the chats with an open transfer offered to them
    (:func:`is_offered_to`)."""
    watching = monitoring(profile)
    return [chat for chat in chats
            if chat.department_id in watching or chat.claimed_by == profile.id
            or is_participant(profile.id, chat) or is_offered_to(profile, chat)]


# --- transfers ----------------------------------------------------------------------


TRANSFER_LOCKED = "A transfer is under way; cancel it to write to the patron."
"""The answer to the sender writing (or typing) while their transfer is open: the
lock that closes LibraryH3lp's silent re-claim race."""


def is_participant(operator_id: str, chat: ChatView) -> bool:
    """True when the operator stayed in the chat after transferring it."""
    return any(participant.operator_id == operator_id for participant in chat.participants)


OWN_TRANSFER = "You asked for this transfer: you can cancel it, not accept or decline it."
"""The answer to the sender trying to answer their own transfer (to a department they
are in): accepting it would leave the chat locked with nobody able to write."""


def is_transfer_target(profile: OperatorProfile, transfer: TransferView) -> bool:
    """True when the operator may accept, decline or claim ``transfer``: its target
    operator, or a member of its target department — never its sender."""
    if transfer.from_operator_id == profile.id:
        return False
    if transfer.to_operator_id is not None:
        return transfer.to_operator_id == profile.id
    return is_member(profile, transfer.to_department_id or "")


def is_offered_to(profile: OperatorProfile, chat: ChatView) -> bool:
    """True when the chat's open transfer shows on the operator's board: they are the
    target operator, or they monitor the target department (while Online) and did not
    ask for it."""
    transfer = chat.transfer
    if transfer is None or chat.state != "active" or transfer.from_operator_id == profile.id:
        return False
    if transfer.to_operator_id is not None:
        return transfer.to_operator_id == profile.id
    return transfer.to_department_id in monitoring(profile)


def check_transfer_target(profile: OperatorProfile, chat: ChatView) -> TransferView:
    """The chat's open transfer, which the operator must be a target of.

    Raises:
        Conflict: no transfer is open ("This transfer is no longer open.").
        Forbidden: the operator is not a target; the operator is its sender
            (:data:`OWN_TRANSFER`).
    """
    transfer = chat.transfer
    if transfer is None:
        raise Conflict("This transfer is no longer open.")
    if transfer.from_operator_id == profile.id:
        raise Forbidden(OWN_TRANSFER)
    if not is_transfer_target(profile, transfer):
        target = transfer.to_operator_name or transfer.to_department_name or "its target"
        raise Forbidden(f"This transfer is for {target}.")
    return transfer


def patron_view(chat: ChatView) -> PatronChat:
    """``chat`` as its patron may see it (:func:`gateway.patron_view.patron_chat`): no
    dismissal (who, note), no transfer note, no operator ids — an allow-list of fields."""
    return patron_chat(chat)


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
    """A patron reaches their own chat; an operator the chats of their departments,
    the chats they own or take part in, and the chats whose open transfer targets them
    (even in another department).

    Args:
        profile: the operator's current profile (``None`` for patrons).

    Raises:
        Forbidden: with a sentence naming the department for operators.
    """
    check_chat_id(who, chat.id)
    if isinstance(who, OperatorIdentity):
        assert profile is not None
        if not operator_reaches(profile, chat):
            raise Forbidden(f"You are not a member of the {chat.department_name} department.")


def operator_reaches(profile: OperatorProfile, chat: ChatView) -> bool:
    """True when the operator may read ``chat`` now (:func:`check_reach`): a member of
    its department, its owner, a participant, or a target of its open transfer. The
    hub asks again on every change of the chat and closes the live feeds of those who
    no longer may (a declined target, say)."""
    involved = chat.claimed_by == profile.id or is_participant(profile.id, chat) or (
        chat.transfer is not None and is_transfer_target(profile, chat.transfer))
    return involved or is_member(profile, chat.department_id)


def check_owner(who: OperatorIdentity, chat: ChatView) -> None:
    """Raises Forbidden unless the operator owns (has claimed) the chat."""
    if chat.claimed_by == who.operator_id:
        return
    if chat.claimed_by is None:
        raise Forbidden("Claim this chat first.")
    raise Forbidden(f"This chat belongs to {chat.claimed_by_name or 'another operator'}.")


def check_author(who: Identity, chat: ChatView) -> None:
    """May ``who`` write in ``chat`` at all, whatever its state? The patron (the chat
    is already known to be theirs), the operator who owns it — except while their
    transfer of it is open — or an operator who stayed in it after a transfer.

    Raises:
        Forbidden: an operator who neither owns nor takes part in the chat.
        Conflict: the owner while their transfer is open (:data:`TRANSFER_LOCKED`).
    """
    if not isinstance(who, OperatorIdentity):
        return
    if is_participant(who.operator_id, chat):
        return
    check_owner(who, chat)
    if chat.transfer is not None and chat.transfer.from_operator_id == who.operator_id:
        raise Conflict(TRANSFER_LOCKED)


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
    """Claiming needs the operator Online and the chat queued — or, for an active chat
    with an open transfer, the operator a target of that transfer once it is accepted.

    Raises:
        Conflict: Offline; someone else claimed it (``Already claimed by Ben.``); ended;
            a transfer not accepted yet; a transfer to someone else ("This chat is
            being transferred to Ben.").
    """
    if profile.status != "online":
        raise Conflict("Set your status to Online before claiming chats.")
    transfer = chat.transfer
    if transfer is not None and chat.state == "active":
        if not is_transfer_target(profile, transfer):
            target = transfer.to_operator_name or transfer.to_department_name or "another librarian"
            raise Conflict(f"This chat is being transferred to {target}.")
        if transfer.state != "accepted":
            raise Conflict("Accept the transfer before claiming the chat.")
        return
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


# --- transcripts by email ------------------------------------------------------------

PATRON_TRANSCRIPT_MAILS = 3
"""Most transcript mails a patron may ask for per chat (the widget is public: this
keeps it from being used to send mail to arbitrary addresses)."""


def check_transcript_sender(profile: OperatorProfile, chat: ChatView) -> None:
    """An operator may email a chat's transcript when they own it, took part in it
    (stayed after a transfer) or are an admin (LibChat: transcripts are visible to the
    chat's operators and admins).

    Raises:
        Forbidden: anyone else.
    """
    if profile.is_admin or chat.claimed_by == profile.id:
        return
    if any(participant.operator_id == profile.id for participant in chat.participants):
        return
    raise Forbidden("Only the operators of this chat or an admin can email its transcript.")


def check_patron_transcript(chat: ChatView, already: int) -> None:
    """A patron may ask for their own transcript once the chat ended, at most
    :data:`PATRON_TRANSCRIPT_MAILS` times (``already``: how many they asked for).

    Raises:
        Conflict: the chat has not ended yet, or the limit is reached.
    """
    if chat.state not in ENDED_STATES:
        raise Conflict("You can ask for the transcript once the chat has ended.")
    if already >= PATRON_TRANSCRIPT_MAILS:
        raise Conflict(f"You have already asked for {PATRON_TRANSCRIPT_MAILS} transcripts of this chat.")


def patron_transcript_address(chat: ChatView, typed: str | None) -> str | None:
    """Where a patron's own transcript may go (the widget is public, so it must not
    become a way to make the library email strangers): the address the patron gave
    when the chat started, always — ``typed`` may only repeat it (case-insensitive);
    when they gave none, the ``typed`` one, but only if a librarian claimed the chat
    (a chat nobody answered holds only the patron's own text). Answers the address
    still to be validated (None when none was typed).

    Raises:
        Forbidden: another address than the one given; no address was given and no
            librarian claimed the chat.
    """
    given = (chat.patron_email or "").strip()
    if given:
        if typed is not None and typed.strip() and typed.strip().casefold() != given.casefold():
            raise Forbidden(f"The transcript can only be sent to the email address you gave when the chat "
                            f"started ({given}).")
        return given
    if chat.claimed_at is None:
        raise Forbidden("No librarian answered this chat and you gave no email address when it started, "
                        "so its transcript cannot be emailed.")
    return typed
