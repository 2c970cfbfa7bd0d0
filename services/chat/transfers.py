"""Pure rules (no I/O): the system messages that tell the patron — and everyone in the
chat — how a transfer goes, one short sentence per step, so the patron never wonders
who they are talking to (LibChat shows the transfer in the pane; LibraryH3lp leaves
the guest in the dark). Recorded through the same idempotent lifecycle path as
"Ana joined the chat.": the cmid is ``ev:transfer:<transfer id>:<step>``, so the
gateway's report and the queue event's backstop store each message once.
"""

from __future__ import annotations

from refdesk.contracts.chat import SendRequest
from refdesk.contracts.queue import ChatEventType, ChatView, TransferView

from . import domain
from .config import SYSTEM_AUTHOR_NAME

TRANSFER_CMID_PREFIX = "ev:transfer:"
"""Client message ids of transfer messages: this prefix + ``<transfer id>:<step>``."""


def transfer_cmid(transfer: TransferView, step: str) -> str:
    """``ev:transfer:<transfer id>:<step>`` (step: requested, accepted, declined,
    cancelled, joined, left)."""
    return f"{TRANSFER_CMID_PREFIX}{transfer.id}:{step}"


def _target(transfer: TransferView) -> str:
    return transfer.to_operator_name or transfer.to_department_name or "another librarian"


def transfer_steps(transition: ChatEventType, chat: ChatView, transfer: TransferView) -> list[tuple[str, str]]:
    """``(step, sentence)`` pairs a transition of ``transfer`` adds to the chat:

    * ``transfer_requested`` → "Ana is transferring your chat to Science Library —
      please stay here.";
    * ``transfer_accepted`` → "Ben accepted the transfer and will join shortly." (an
      operator target) or "Science Library accepted the transfer; someone will join
      shortly." (a department);
    * ``transfer_declined`` / ``transfer_cancelled`` → "Ana is still with you.";
    * ``claimed`` (completing the transfer) → "Ben joined the chat." and, unless the
      sender stayed, "Ana left the chat.";
    * anything else → nothing.
    """
    sender = transfer.from_operator_name
    if transition == "transfer_requested":
        return [("requested", f"{sender} is transferring your chat to {_target(transfer)} — please stay here.")]
    if transition == "transfer_accepted":
        if transfer.to_operator_id is not None:
            return [("accepted", f"{_target(transfer)} accepted the transfer and will join shortly.")]
        return [("accepted", f"{_target(transfer)} accepted the transfer; someone will join shortly.")]
    if transition in ("transfer_declined", "transfer_cancelled"):
        return [(transition.removeprefix("transfer_"), f"{sender} is still with you.")]
    if transition == "claimed":
        steps = [("joined", f"{chat.claimed_by_name or 'A librarian'} joined the chat.")]
        if not transfer.stay:
            steps.append(("left", f"{sender} left the chat."))
        return steps
    return []


def transfer_messages(transition: ChatEventType, chat: ChatView, transfer: TransferView | None) -> list[SendRequest]:
    """The messages to record for a transfer transition, oldest first: for
    ``transfer_*`` transitions the question and the first "joined" come first (what
    the active chat shows, if not stored yet), then the step's sentences
    (:func:`transfer_steps`). ``[]`` without a transfer. A ``claimed`` transition's
    own question and "joined" are :func:`.domain.lifecycle_messages`' (the caller
    records those first)."""
    if transfer is None:
        return []
    before = domain.lifecycle_messages("claimed", chat) if transition.startswith("transfer_") else []
    return before + [
        SendRequest(chat_id=chat.id, cmid=transfer_cmid(transfer, step), author_kind="system",
                    author_name=SYSTEM_AUTHOR_NAME, body=body)
        for step, body in transfer_steps(transition, chat, transfer)
    ]
