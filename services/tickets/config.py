"""Constants of the tickets service."""

from __future__ import annotations

from refdesk.contracts.tickets import TICKET_STATUSES

SCHEMA = "tickets"
"""PostgreSQL schema the service owns."""

__all__ = ["SCHEMA", "TICKET_STATUSES"]
"""``TICKET_STATUSES``: a ticket's statuses in workflow order (the ``tickets.status`` check constraint)."""
