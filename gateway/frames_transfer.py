"""Client frames for transfers of a claimed chat to an operator or a department (``docs/protocol.md``)."""

from __future__ import annotations

from .frame_base import ClientFrame

FRAMES: tuple[type[ClientFrame], ...] = ()
"""This area's client frame models, gathered by :mod:`gateway.frames`."""
