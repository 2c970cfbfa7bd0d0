"""``python -m services.queue``: run the queue service until SIGINT/SIGTERM."""

from refdesk.service import run

from . import SPEC

run(SPEC)
