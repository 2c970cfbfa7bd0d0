"""What every websocket frame module shares: the base of client frames, the id
type, and :func:`encode` for server frames (``docs/protocol.md``).

Feature areas keep their own frames in ``frames_<area>.py`` (built on these) and
their handlers in ``handlers_<area>.py``; :mod:`gateway.frames` and
:mod:`gateway.handlers` gather them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import to_json

MAX_REF_CHARS = 64

EntityId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
"""A chat or department id: 1–64 letters, digits, ``_`` or ``-`` (safe in NATS subjects)."""


class ClientFrame(BaseModel):
    """Base of every client frame: strict types, no unknown fields, optional ``ref``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    ref: str | None = Field(default=None, max_length=MAX_REF_CHARS)



def encode(frame_type: str, **fields: Any) -> str:
    """A server frame as JSON text: ``{"type": frame_type, **fields}``; pydantic models
    and datetimes (UTC ISO-8601) inside ``fields`` are serialised."""
    return to_json({"type": frame_type, **fields}).decode()
