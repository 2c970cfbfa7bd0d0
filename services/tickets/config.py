"""Constants of the tickets service."""

from __future__ import annotations

TICKET_STATUSES = ("New", "Open", "Pending", "Closed")
"""A ticket's status, in workflow order (the ``tickets.status`` check constraint)."""
