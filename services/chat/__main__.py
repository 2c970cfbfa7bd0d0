"""``python -m services.chat``: run the chat service."""

from refdesk.service import run

from . import SPEC

run(SPEC)
