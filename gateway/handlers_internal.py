"""Handlers for Internal Chat: one-to-one operator chats, department rooms, All Staff, who is online.

Each handler authorises its frame, asks the owning service and returns the ``reply``
data (see :mod:`gateway.handlers`).
"""

from __future__ import annotations

from .session import Handler

HANDLERS: dict[type, Handler] = {}
"""Frame model → handler for this area, gathered by :mod:`gateway.handlers`."""
