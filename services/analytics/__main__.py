"""``python -m services.analytics``: run the analytics service until SIGINT/SIGTERM."""

from refdesk.service import run

from . import SPEC

run(SPEC)
