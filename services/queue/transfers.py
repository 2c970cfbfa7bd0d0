"""Pure rules of chat transfers (no I/O): who may ask for, accept, decline, cancel and
claim a transfer, and what an open transfer locks.

The model (LibChat's Transfer Chat, with LibraryH3lp's re-claim race closed):

* the owner of an active chat asks (``pending``); the chat stays theirs, but their
  reply box is locked until the transfer is over;
* the target — an operator, or any member of a department — accepts (``accepted``)
  or declines; the sender may cancel while pending or accepted;
* an accepted transfer is claimed with the usual atomic claim by the target operator
  or, for a department, by whichever member claims first; the previous owner stays
  as a participant or leaves;
* while a transfer is open nobody else can claim the chat, and only its owner ends it.

Every check raises a :class:`refdesk.bus.BusError` subclass with a sentence a
librarian can read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from refdesk.bus import Conflict, Forbidden
from refdesk.contracts.queue import ChatView, OperatorStatus, TransferRequest, TransferView

NO_OPEN_TRANSFER = "This transfer is no longer open."
"""The answer to acting on a transfer that was declined, cancelled or claimed meanwhile."""


def transfer_view(row: Mapping[str, Any]) -> TransferView:
    """Map a ``transfer_views`` row to a :class:`TransferView`."""
    return TransferView.model_validate(dict(row))


def check_request(chat: ChatView, request: TransferRequest) -> None:
    """Refuse a transfer request the sender may not make now.

    Raises:
        Conflict: the chat is not active ("Only a chat in progress can be
            transferred."), a transfer is already under way, or the target is the
            sender themself.
        Forbidden: the sender does not own the chat.
    """
    if chat.state != "active":
        raise Conflict("Only a chat in progress can be transferred.")
    if chat.claimed_by != request.operator_id:
        raise Forbidden(f"Only {chat.claimed_by_name or 'the operator who owns this chat'} can transfer it.")
    if chat.transfer is not None:
        raise Conflict("A transfer of this chat is already under way.")
    if request.to_operator_id == request.operator_id:
        raise Conflict("You already have this chat; choose another operator or a department.")


def check_target_online(name: str, online: bool) -> None:
    """A transfer goes only to someone who can take it now: an Online operator, or a
    department that an Online operator monitors (LibChat lists offline targets but
    the chat would wait for nobody; a ticket is the way to reach them).

    Raises:
        Conflict: "⟨name⟩ is offline — create a ticket instead."
    """
    if not online:
        raise Conflict(f"{name} is offline — create a ticket instead.")


def open_transfer(chat: ChatView, transfer_id: str | None) -> TransferView:
    """The chat's open transfer, which must be ``transfer_id`` when one is given.

    Raises:
        Conflict: no transfer is open, or another one than ``transfer_id``.
    """
    transfer = chat.transfer
    if transfer is None or (transfer_id is not None and transfer.id != transfer_id):
        raise Conflict(NO_OPEN_TRANSFER)
    return transfer


def is_target(transfer: TransferView, operator_id: str, member_of: Sequence[str]) -> bool:
    """True when ``operator_id`` is the transfer's target operator, or a member of its
    target department — never its sender (who may only cancel it)."""
    if transfer.from_operator_id == operator_id:
        return False
    if transfer.to_operator_id is not None:
        return transfer.to_operator_id == operator_id
    return transfer.to_department_id in member_of


def target_name(transfer: TransferView) -> str:
    """The target as people read it: the operator's nickname or the department's name."""
    return transfer.to_operator_name or transfer.to_department_name or "the target"


def check_answer(transfer: TransferView, operator_id: str, member_of: Sequence[str], *, accept: bool) -> None:
    """May ``operator_id`` accept (or decline) ``transfer``? The target operator, or a
    member of the target department; only while it is pending.

    Raises:
        Forbidden: not the target; the sender ("you can cancel it").
        Conflict: already accepted ("This transfer was already accepted.").
    """
    if transfer.from_operator_id == operator_id:
        raise Forbidden("You asked for this transfer: you can cancel it, not accept or decline it.")
    if not is_target(transfer, operator_id, member_of):
        verb = "accept" if accept else "decline"
        raise Forbidden(f"Only {target_name(transfer)} can {verb} this transfer.")
    if transfer.state != "pending":
        raise Conflict("This transfer was already accepted.")


def check_cancel(transfer: TransferView, operator_id: str) -> None:
    """Only the sender cancels (while pending, or accepted and not yet claimed).

    Raises:
        Forbidden: someone else.
    """
    if transfer.from_operator_id != operator_id:
        raise Forbidden(f"Only {transfer.from_operator_name}, who asked for this transfer, can cancel it.")


def check_transfer_claim(transfer: TransferView, operator_id: str, status: OperatorStatus,
                         member_of: Sequence[str]) -> None:
    """May ``operator_id`` claim a chat whose transfer is open? Only an Online target,
    once the transfer is accepted.

    Raises:
        Conflict: the transfer is still pending ("waiting for … to accept"), or the
            operator is offline; for anyone but the target: "Being transferred to …".
        Forbidden: never (a non-target gets the 409 above, like a lost claim race).
    """
    if not is_target(transfer, operator_id, member_of):
        raise Conflict(f"This chat is being transferred to {target_name(transfer)}.")
    if status != "online":
        raise Conflict("Go online to claim chats.")
    if transfer.state != "accepted":
        raise Conflict("Accept the transfer before claiming the chat.")


def check_operator_end(chat: ChatView) -> None:
    """The owner cannot end a chat while its transfer is open (the target may be about
    to claim it): they cancel the transfer first. The patron can always end.

    Raises:
        Conflict: "A transfer is under way; cancel it before ending the chat."
    """
    if chat.transfer is not None:
        raise Conflict("A transfer is under way; cancel it before ending the chat.")

