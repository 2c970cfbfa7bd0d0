"""Client frames for Internal Chat: one-to-one operator chats, department rooms, All Staff, who is online (``docs/protocol.md``)."""

from __future__ import annotations

from .frame_base import ClientFrame

FRAMES: tuple[type[ClientFrame], ...] = ()
"""This area's client frame models, gathered by :mod:`gateway.frames`."""
