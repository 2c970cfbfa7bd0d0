"""Handlers for transfers of a claimed chat to an operator or a department
(``docs/protocol.md``, "Transfers").

Each handler authorises its frame, asks the queue service (which decides, under the
chat's row lock) and records the step's system message for the patron before
replying, so the message comes before anything said next. The claim that completes
a transfer is the ordinary ``chat.claim`` (:func:`gateway.handlers.chat_claim`).
"""

from __future__ import annotations

from typing import Any

from refdesk.contracts.queue import (
    TRANSFER_ACCEPT, TRANSFER_CANCEL, TRANSFER_DECLINE, TRANSFER_REQUEST, ChatView, TransferAnswer, TransferRequest,
    TransferView,
)

from . import policy
from .frames_transfer import TransferAccept, TransferCancel, TransferDecline, TransferPreview, TransferRequestFrame
from .session import Handler, Session
from .transfer_preview import preview


async def transfer_request(session: Session, frame: TransferRequestFrame) -> ChatView:
    """``transfer.request``: the owner of an active chat asks to transfer it (the
    queue service checks ownership, the target and that no transfer is open). The
    chat stays theirs, locked for writing, until the transfer is declined, cancelled
    or claimed. Replies the chat with its pending ``transfer``."""
    operator = session.operator
    chat = await session.chat(frame.chat_id)
    policy.check_owner(operator, chat)
    request = TransferRequest(chat_id=chat.id, operator_id=operator.operator_id, to_operator_id=frame.to_operator_id,
                              to_department_id=frame.to_department_id, note=frame.note, stay=frame.stay)
    changed = await session.call(TRANSFER_REQUEST, request, ChatView)
    await session.gateway.record_lifecycle("transfer_requested", changed, transfer=changed.transfer)
    return changed


async def transfer_accept(session: Session, frame: TransferAccept) -> ChatView:
    """``transfer.accept``: the target operator, or a member of the target department,
    accepts; the chat then waits on the target's board to be claimed. The sender
    cannot answer their own transfer (``403`` :data:`gateway.policy.OWN_TRANSFER`),
    even to a department they are in: they may only cancel it."""
    changed, transfer = await _answer(session, frame.chat_id, frame.transfer_id, TRANSFER_ACCEPT)
    await session.gateway.record_lifecycle("transfer_accepted", changed, transfer=changed.transfer or transfer)
    return changed


async def transfer_decline(session: Session, frame: TransferDecline) -> ChatView:
    """``transfer.decline``: the target declines a pending transfer; the sender sees
    ``chat.update`` ``transfer_declined`` and may write again. A target who may not
    read the chat otherwise stops receiving it at once (:meth:`gateway.hub.Hub.recheck_feeds`)."""
    changed, transfer = await _answer(session, frame.chat_id, frame.transfer_id, TRANSFER_DECLINE)
    session.gateway.hub.recheck_feeds(changed)
    await session.gateway.record_lifecycle("transfer_declined", changed, transfer=transfer)
    return changed


async def transfer_cancel(session: Session, frame: TransferCancel) -> ChatView:
    """``transfer.cancel``: the sender takes the chat back (while pending, or accepted
    and not yet claimed)."""
    operator = session.operator
    chat = await session.chat(frame.chat_id)
    transfer = chat.transfer
    request = TransferAnswer(chat_id=chat.id, operator_id=operator.operator_id, transfer_id=frame.transfer_id)
    changed = await session.call(TRANSFER_CANCEL, request, ChatView)  # 409 when no transfer was open
    session.gateway.hub.recheck_feeds(changed)
    await session.gateway.record_lifecycle("transfer_cancelled", changed, transfer=transfer)
    return changed


async def transfer_preview(session: Session, frame: TransferPreview) -> dict[str, Any]:
    """``transfer.preview``: for a target of the chat's open transfer, ``{chat,
    transfer, note, preview}`` — what ``transfer.offer`` carried."""
    chat = await session.chat(frame.chat_id)
    transfer = policy.check_transfer_target(session.profile, chat)
    return {"chat": chat, "transfer": transfer, "note": transfer.note, "preview": await preview(session.call, chat.id)}


async def _answer(session: Session, chat_id: str, transfer_id: str | None,
                  subject: str) -> tuple[ChatView, TransferView]:
    """Accept or decline as the signed-in operator; returns (chat after, transfer before)."""
    profile = session.profile
    chat = await session.chat(chat_id)
    transfer = policy.check_transfer_target(profile, chat)
    request = TransferAnswer(chat_id=chat.id, operator_id=profile.id, transfer_id=transfer_id or transfer.id)
    return await session.call(subject, request, ChatView), transfer


HANDLERS: dict[type, Handler] = {
    TransferRequestFrame: transfer_request,
    TransferAccept: transfer_accept,
    TransferDecline: transfer_decline,
    TransferCancel: transfer_cancel,
    TransferPreview: transfer_preview,
}
"""Frame model → handler for this area, gathered by :mod:`gateway.handlers`."""
