"""What a patron may see of their chat: an allow-list of :class:`ChatView` fields.

Everything between librarians stays out — the dismissal (who dismissed the chat and
their note), the transfer note, operator ids — and any field added to
:class:`ChatView` later stays out too until it is listed here. Every ``ChatView``
that reaches a patron socket goes through :func:`patron_chat`: the ``welcome``, each
``chat.update`` push (:mod:`gateway.hub`) and every ``reply``
(:meth:`gateway.session.Session.handle` runs :func:`for_patron` over it), as well as
the HTTP answer that starts a chat (:mod:`gateway.api`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from refdesk.contracts.queue import ChatState, ChatView, TransferState, TransferView


class PatronTransfer(BaseModel):
    """A transfer under way as the patron sees it: who is handing the chat to whom.

    Attributes:
        note: always ``""`` — the note is for the target librarian only (kept so the
            shape matches :class:`~refdesk.contracts.queue.TransferView`).
        requested_at, accepted_at: UTC.
    """

    state: TransferState
    from_operator_name: str
    to_operator_name: str | None = None
    to_department_name: str | None = None
    note: str = ""
    requested_at: datetime
    accepted_at: datetime | None = None


class PatronParticipant(BaseModel):
    """A librarian who stayed in the chat after a transfer, by nickname only."""

    nickname: str


class PatronChat(BaseModel):
    """A chat as its patron sees it (times UTC; ``claimed_by_name`` is the owning
    librarian's nickname). Operator ids, the dismissal and the transfer note are left
    out."""

    id: str
    department_id: str
    department_name: str
    state: ChatState
    patron_name: str
    patron_email: str | None = None
    question: str
    page_url: str | None = None
    queued_at: datetime
    claimed_at: datetime | None = None
    ended_at: datetime | None = None
    closed_at: datetime | None = None
    claimed_by_name: str | None = None
    ended_by: Literal["patron", "operator"] | None = None
    transfer: PatronTransfer | None = None
    transfer_count: int = 0
    participants: list[PatronParticipant] = []
    rating: int | None = None
    rating_comment: str | None = None


def patron_transfer(transfer: TransferView) -> PatronTransfer:
    """``transfer`` without its note and operator ids."""
    return PatronTransfer(state=transfer.state, from_operator_name=transfer.from_operator_name,
                          to_operator_name=transfer.to_operator_name, to_department_name=transfer.to_department_name,
                          requested_at=transfer.requested_at, accepted_at=transfer.accepted_at)


def patron_chat(chat: ChatView) -> PatronChat:
    """``chat`` as its patron may see it (:class:`PatronChat`)."""
    fields = {name: getattr(chat, name) for name in PatronChat.model_fields
              if name not in ("transfer", "participants")}
    return PatronChat(
        **fields,
        transfer=None if chat.transfer is None else patron_transfer(chat.transfer),
        participants=[PatronParticipant(nickname=participant.nickname) for participant in chat.participants],
    )


def for_patron(data: Any) -> Any:
    """``data`` (a reply about to go to a patron socket) with every :class:`ChatView`
    in it — at any depth of models, dicts, lists and tuples — replaced by
    :func:`patron_chat`. Values holding no ``ChatView`` are returned unchanged; a
    model holding one becomes a dict of its (converted) fields."""
    if isinstance(data, ChatView):
        return patron_chat(data)
    if isinstance(data, TransferView):
        return patron_transfer(data)
    if not _holds_staff_view(data):
        return data
    if isinstance(data, BaseModel):
        return {name: for_patron(getattr(data, name)) for name in type(data).model_fields}
    if isinstance(data, dict):
        return {key: for_patron(value) for key, value in data.items()}
    return [for_patron(value) for value in data]


def _holds_staff_view(data: Any) -> bool:
    """True when a ``ChatView`` or ``TransferView`` sits anywhere inside ``data``."""
    if isinstance(data, (ChatView, TransferView)):
        return True
    if isinstance(data, BaseModel):
        return any(_holds_staff_view(getattr(data, name)) for name in type(data).model_fields)
    if isinstance(data, dict):
        return any(_holds_staff_view(value) for value in data.values())
    if isinstance(data, (list, tuple)):
        return any(_holds_staff_view(value) for value in data)
    return False
