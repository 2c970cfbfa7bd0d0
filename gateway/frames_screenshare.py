"""Client frames for screenshare requests with the patron's consent (``docs/protocol.md``)."""

from __future__ import annotations

from .frame_base import ClientFrame

FRAMES: tuple[type[ClientFrame], ...] = ()
"""This area's client frame models, gathered by :mod:`gateway.frames`."""
