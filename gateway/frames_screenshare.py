"""Client frames for screenshare requests with the patron's consent (``docs/protocol.md``)."""

from __future__ import annotations

from typing import Literal

from .frame_base import ClientFrame, EntityId


class ScreenshareAsk(ClientFrame):
    """The chat's owner asks the patron to share their screen (active chats only)."""

    type: Literal["screenshare.request"]
    chat_id: EntityId


class ScreenshareReply(ClientFrame):
    """The patron accepts (``true``) or declines (``false``) a pending request."""

    type: Literal["screenshare.answer"]
    chat_id: EntityId
    request_id: EntityId
    accept: bool


class ScreenshareGet(ClientFrame):
    """The chat's latest screenshare request (a reloaded widget finds its prompt)."""

    type: Literal["screenshare.get"]
    chat_id: EntityId


FRAMES: tuple[type[ClientFrame], ...] = (ScreenshareAsk, ScreenshareReply, ScreenshareGet)
"""This area's client frame models, gathered by :mod:`gateway.frames`."""
