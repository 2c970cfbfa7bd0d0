"""The analytics service: Reference Analytics datasets and records, and chat facts
(wait time, first response time, duration) derived from the queue's and the chat
service's events; serves ``rd.analytics.*`` over NATS and an HTTP reporting API.

Run with ``python -m services.analytics``.
"""

from __future__ import annotations

from pathlib import Path

from refdesk.contracts.analytics import SERVICE
from refdesk.service import ServiceSpec

from .endpoints import wire

SPEC = ServiceSpec(name=SERVICE, schema="analytics", migrations=Path(__file__).parent / "migrations", wire=wire)
