"""Running uvicorn inside a refdesk process (the gateway, the analytics reporting API).

uvicorn normally installs its own SIGINT/SIGTERM handlers and exits the process when
it cannot start; inside refdesk the process owns its signals (``refdesk.service``) and
stops servers through an :class:`asyncio.Event`, so :func:`serve_until` runs uvicorn
without either habit.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_until(config: uvicorn.Config, stop: asyncio.Event, *, sockets: list[socket.socket] | None = None) -> None:
    """Serve ``config``'s app until ``stop`` is set, then shut down gracefully (open
    requests get ``config.timeout_graceful_shutdown`` seconds).

    Args:
        sockets: already-bound listening sockets (else uvicorn binds host:port).

    Raises:
        RuntimeError: the server could not start (address in use, lifespan failed).
    """
    server = _Server(config)

    async def watch_stop() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(watch_stop())
    try:
        await server.serve(sockets=sockets)
    except SystemExit as exc:  # uvicorn exits the process when start-up fails
        raise RuntimeError(f"the web server could not start on {config.host}:{config.port}") from exc
    finally:
        watcher.cancel()
