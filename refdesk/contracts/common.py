"""Base models and error codes used by every contract module."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """Current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class Request(BaseModel):
    """Base of every request payload: unknown fields are refused (a typo is an error)."""

    model_config = ConfigDict(extra="forbid")


class Reply(BaseModel):
    """Base of every reply and event payload: unknown fields are ignored, so a newer
    producer does not break an older consumer."""

    model_config = ConfigDict(extra="ignore")


class Empty(Request):
    """A request without fields."""


class Ok(Reply):
    """A reply that only confirms."""

    ok: bool = True


class EventEnvelope(Reply):
    """Fields every JetStream event carries.

    Attributes:
        event_id: unique id; also the ``Nats-Msg-Id`` header (de-duplication).
        type: event name, the last subject token (``queued``, ``claimed`` …).
        occurred_at: UTC time the change was committed.
    """

    event_id: str
    type: str
    occurred_at: datetime = Field(default_factory=utcnow)
