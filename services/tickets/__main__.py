"""``python -m services.tickets``: run the tickets service."""

from refdesk.service import run

from . import SPEC

run(SPEC)
