"""``python -m services.analytics``: run the analytics service until SIGINT/SIGTERM.

``python -m services.analytics rebuild``: rebuild the chat-facts read model from the
event streams (docs/analytics.md § Rebuild), print the counts as JSON and exit.
"""

import asyncio
import dataclasses
import json
import sys

from refdesk.service import run

from . import SPEC

if sys.argv[1:] == ["rebuild"]:
    from .rebuild import rebuild_command

    print(json.dumps(dataclasses.asdict(asyncio.run(rebuild_command()))))
elif sys.argv[1:]:
    sys.exit("usage: python -m services.analytics [rebuild]")
else:
    run(SPEC)
