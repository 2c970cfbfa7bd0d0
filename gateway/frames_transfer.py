"""Client frames for transfers of a claimed chat to an operator or a department
(``docs/protocol.md``, "Transfers"), and this area's server frames.

Server frames: ``transfer.offer`` (to the target operator's sockets, or to every
operator monitoring the target department: the chat, the transfer with its note and
a short transcript preview) and ``chat.update`` for the ``transfer_*`` events, which
also carries the ``transfer`` concerned (so the sender sees accepted / declined
even though ``chat.transfer`` is ``None`` once a transfer is over).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from refdesk.contracts.chat import Message
from refdesk.contracts.queue import TRANSFER_NOTE_CHARS, ChatView, TransferView

from .frame_base import ClientFrame, EntityId, encode


class TransferRequestFrame(ClientFrame):
    """The owner of an active chat transfers it to an operator or a department
    (exactly one), with a note for the target (≤ 1000 characters, staff only) and
    whether they stay in the chat (group chat) once the target has claimed it."""

    type: Literal["transfer.request"]
    chat_id: EntityId
    to_operator_id: EntityId | None = None
    to_department_id: EntityId | None = None
    note: str = Field(default="", max_length=TRANSFER_NOTE_CHARS)
    stay: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> TransferRequestFrame:
        if (self.to_operator_id is None) == (self.to_department_id is None):
            raise ValueError("give exactly one of to_operator_id and to_department_id")
        return self


class TransferAccept(ClientFrame):
    """The target accepts the chat's open transfer (``transfer_id``: the one offered,
    so a stale offer never answers a newer transfer)."""

    type: Literal["transfer.accept"]
    chat_id: EntityId
    transfer_id: EntityId | None = None


class TransferDecline(ClientFrame):
    """The target declines the chat's pending transfer."""

    type: Literal["transfer.decline"]
    chat_id: EntityId
    transfer_id: EntityId | None = None


class TransferCancel(ClientFrame):
    """The sender cancels the chat's open transfer (pending, or accepted and not yet
    claimed)."""

    type: Literal["transfer.cancel"]
    chat_id: EntityId
    transfer_id: EntityId | None = None


class TransferPreview(ClientFrame):
    """A target asks again for an offer's transcript preview (e.g. after a reload:
    the board lists the chat with its transfer, not its messages)."""

    type: Literal["transfer.preview"]
    chat_id: EntityId


FRAMES: tuple[type[ClientFrame], ...] = (
    TransferRequestFrame, TransferAccept, TransferDecline, TransferCancel, TransferPreview,
)
"""This area's client frame models, gathered by :mod:`gateway.frames`."""


def transfer_offer(chat: ChatView, transfer: TransferView, preview: list[Message]) -> str:
    """``transfer.offer``: ``{chat, transfer, note, preview}`` — ``preview`` is the last
    messages of the chat, oldest first (:mod:`gateway.transfer_preview`)."""
    return encode("transfer.offer", chat=chat, transfer=transfer, note=transfer.note, preview=preview)


def chat_update(event: str, chat: ChatView, transfer: TransferView | None) -> str:
    """``chat.update`` with the ``transfer`` the event concerns (``None`` when none)."""
    return encode("chat.update", event=event, chat=chat, transfer=transfer)
