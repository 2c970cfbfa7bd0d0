"""The queue service: departments, operators (memberships, Online/Offline status,
monitored departments) and the chat lifecycle queued → active → ended → closed with
atomic claims. Endpoints and events: :mod:`refdesk.contracts.queue`."""

from __future__ import annotations

from pathlib import Path

from refdesk.contracts.queue import SERVICE, STREAM, STREAM_SUBJECTS
from refdesk.service import ServiceSpec

from .config import SCHEMA
from .endpoints import wire

SPEC = ServiceSpec(
    name=SERVICE,
    schema=SCHEMA,
    migrations=Path(__file__).parent / "migrations",
    wire=wire,
    stream=(STREAM, STREAM_SUBJECTS),
)
