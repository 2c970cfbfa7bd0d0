"""Run the gateway in-process under uvicorn (used by ``python -m gateway``,
``refdesk up`` and the tests)."""

from __future__ import annotations

import asyncio

import uvicorn

from refdesk.log import configure_logging
from refdesk.service import stop_on_signals
from refdesk.web import serve_until
from refdesk.settings import Settings

from .app import create_app
from .frames import MAX_MESSAGE_BYTES

WS_PING_SECONDS = 20.0
"""Websocket protocol pings (the client also pings at the application level)."""
WS_MAX_MESSAGE_BYTES = MAX_MESSAGE_BYTES
"""Frames up to this size are read (and answered ``413`` when over 64 KiB);
bigger ones make the websocket layer close with 1009."""
GRACEFUL_SHUTDOWN_SECONDS = 10


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve HTTP and websockets on ``settings.gateway_host:gateway_port`` until
    ``stop`` is set (without ``stop``, until SIGINT/SIGTERM arrives); then close
    sockets (1012), stop the hub and drain NATS.

    Raises:
        RuntimeError: the server could not start (port taken, NATS settings …).
        ValueError: ``settings.jwt_secret`` is empty.
    """
    configure_logging("gateway", level=settings.log_level, fmt=settings.log_format)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        ws="websockets-sansio",
        ws_ping_interval=WS_PING_SECONDS,
        ws_ping_timeout=WS_PING_SECONDS,
        ws_per_message_deflate=False,
        ws_max_size=WS_MAX_MESSAGE_BYTES,
        lifespan="on",
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    if stop is None:  # running as the process's main task: signals stop it
        stop = asyncio.Event()
        stop_on_signals(stop)
    try:
        await serve_until(config, stop)
    except RuntimeError as exc:
        raise RuntimeError(f"the gateway could not start on {settings.gateway_host}:{settings.gateway_port}") from exc
