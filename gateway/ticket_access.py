"""Who may see and act on a ticket, and who is told when it changes — without I/O.

A ticket is reached by the operators of its department (the queue it is in), by its
owner (who may belong elsewhere after an assignment), and by admins. The same rule
picks the recipients of ``ticket.update`` (:func:`deliver`).
"""

from __future__ import annotations

from nats.aio.msg import Msg

from refdesk.bus import Forbidden
from refdesk.contracts.queue import OperatorProfile
from refdesk.contracts.tickets import TicketEvent, TicketView

from .frame_base import encode
from .policy import is_member
from .registry import Registry


def can_reach(profile: OperatorProfile, ticket: TicketView) -> bool:
    """True for an admin, a member of the ticket's department, or its owner."""
    return profile.is_admin or is_member(profile, ticket.department_id) or ticket.owner_operator_id == profile.id


def check_reach(profile: OperatorProfile, ticket: TicketView) -> None:
    """Raises Forbidden (403) with a sentence naming the department unless
    :func:`can_reach`."""
    if not can_reach(profile, ticket):
        raise Forbidden(f"This ticket is in the {ticket.department_name} queue, which you are not a member of.")


def list_scope(profile: OperatorProfile) -> list[str] | None:
    """The departments whose tickets an operator lists: all (``None``) for admins,
    else their own (tickets they own are added by the tickets service)."""
    return None if profile.is_admin else [department.id for department in profile.departments]


def ticket_update(ticket: TicketView, event: str) -> str:
    """``ticket.update``: ``{"type": "ticket.update", "event": "created"|"updated", "ticket": …}``."""
    return encode("ticket.update", event=event, ticket=ticket)


def deliver(registry: Registry, ticket: TicketView, event: str) -> None:
    """Send ``ticket.update`` to every connected operator who can reach the ticket."""
    recipients = [operator_id for operator_id in registry.operator_ids()
                  if (profile := registry.profile(operator_id)) is not None and can_reach(profile, ticket)]
    if recipients:
        frame = ticket_update(ticket, event)
        for peer in registry.operator_peers(recipients):
            peer.send(frame)


SUBJECT = "rd.ev.tickets.ticket.>"
"""The hub's subscription: every ticket event (``rd.ev.tickets.ticket.<id>.<created|updated>``)."""


def route(registry: Registry, msg: Msg) -> None:
    """Hub callback for :data:`SUBJECT`: a :class:`TicketEvent` → :func:`deliver`."""
    event = TicketEvent.model_validate_json(msg.data)
    deliver(registry, event.ticket, event.type)
