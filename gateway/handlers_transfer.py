"""Handlers for transfers of a claimed chat to an operator or a department.

Each handler authorises its frame, asks the owning service and returns the ``reply``
data (see :mod:`gateway.handlers`).
"""

from __future__ import annotations

from .session import Handler

HANDLERS: dict[type, Handler] = {}
"""Frame model → handler for this area, gathered by :mod:`gateway.handlers`."""
