"""The tickets service: questions answered later by email (LibAnswers tickets) —
created from a chat or by the widget's offline form, claimed, assigned, replied to
by email, noted internally; patrons' emailed answers come back through its inbound
SMTP server. Endpoints and events: :mod:`refdesk.contracts.tickets`."""

from pathlib import Path

from refdesk.contracts.tickets import SERVICE, STREAM, STREAM_SUBJECTS
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
