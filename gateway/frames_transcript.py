"""Client frames for transcripts emailed by an operator or asked for by the patron (``docs/protocol.md``)."""

from __future__ import annotations

from .frame_base import ClientFrame

FRAMES: tuple[type[ClientFrame], ...] = ()
"""This area's client frame models, gathered by :mod:`gateway.frames`."""
