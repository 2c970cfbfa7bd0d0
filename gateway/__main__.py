"""``python -m gateway``: run the gateway with the environment's settings."""

from __future__ import annotations

import asyncio
import contextlib

from refdesk.settings import get_settings

from .server import serve


def main() -> None:
    """Serve until SIGINT/SIGTERM (on uvloop when it is installed)."""
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with contextlib.suppress(KeyboardInterrupt), runner:
        runner.run(serve(get_settings()))


if __name__ == "__main__":
    main()
