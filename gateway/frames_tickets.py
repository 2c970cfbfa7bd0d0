"""Client frames for tickets: create from a chat, list, detail, claim, assign, reply, notes (``docs/protocol.md``)."""

from __future__ import annotations

from .frame_base import ClientFrame

FRAMES: tuple[type[ClientFrame], ...] = ()
"""This area's client frame models, gathered by :mod:`gateway.frames`."""
