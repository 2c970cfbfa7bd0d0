"""The tickets service (skeleton): owns the ``tickets`` schema and answers
``rd.tickets.health``; ticket endpoints come later (see :mod:`refdesk.contracts.tickets`)."""

from pathlib import Path

from refdesk.contracts.tickets import SERVICE
from refdesk.service import ServiceSpec

from .endpoints import wire

SPEC = ServiceSpec(
    name=SERVICE,
    schema="tickets",
    migrations=Path(__file__).parent / "migrations",
    wire=wire,
)
