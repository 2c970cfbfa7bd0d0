"""The gateway's FastAPI application: lifespan (NATS + hub), HTTP API, ``/ws`` and
the static web UI, every HTTP response wrapped in the security headers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from refdesk import bus
from refdesk.settings import Settings

from .api import FIELD_LABELS, router
from . import presence
from .connection import Connection
from .errors import describe, problems
from .handlers import open_session
from .hub import Hub
from .ratelimit import RateLimits
from .security import SecurityHeaders, analytics_origin
from .session import Gateway

log = structlog.get_logger()

STATIC = Path(__file__).parent / "static"
"""The web UI: ``dashboard/``, ``patron/``, ``demo/``, ``widget.js`` and shared files."""


def create_app(settings: Settings) -> FastAPI:
    """Build the gateway application.

    The lifespan connects to NATS (reconnecting forever), starts the :class:`Hub` and
    the presence heartbeat (:mod:`gateway.presence`), and on shutdown stops them and
    drains the connection. ``app.state.limits`` holds the HTTP rate limits
    (:class:`~gateway.ratelimit.RateLimits`, from the settings).

    Raises:
        ValueError: ``settings.jwt_secret`` is empty (tokens would be forgeable).
    """
    if not settings.jwt_secret:
        raise ValueError("RD_JWT_SECRET is empty: set it (refdesk up generates one) before starting the gateway")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nc = await bus.connect(settings.nats_url, f"gateway-{os.getpid()}")
        hub = Hub(nc)
        await hub.start()
        app.state.gateway = Gateway(nc, settings, hub)
        stop_beating = asyncio.Event()
        beating = asyncio.create_task(
            presence.heartbeat(nc, hub.registry.operator_ids, settings.presence_heartbeat_seconds, stop_beating))
        log.info("gateway.ready", port=settings.gateway_port)
        try:
            yield
        finally:
            stop_beating.set()
            await beating
            await hub.stop()
            with contextlib.suppress(Exception):
                await nc.drain()
            log.info("gateway.stopped")

    # the interactive docs pages load scripts from a CDN, which the CSP forbids: only the schema is served
    app = FastAPI(title="refdesk gateway", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.limits = RateLimits.from_settings(settings)
    app.add_exception_handler(RequestValidationError, _readable_validation_error)  # type: ignore[arg-type]
    app.include_router(router)
    app.add_api_websocket_route("/ws", _websocket)
    _mount_web_ui(app)
    app.add_middleware(SecurityHeaders, analytics_origin=analytics_origin(settings))
    return app


async def _websocket(websocket: WebSocket) -> None:
    """``/ws``: one :class:`Connection` per socket, greeted by :func:`open_session`."""
    gateway: Gateway = websocket.app.state.gateway
    await Connection(websocket).run(functools.partial(open_session, gateway))


async def _readable_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with ``detail`` as one sentence (``Your name must not be empty.``) and the
    list of problems (``loc``, ``type``, ``msg`` — never the submitted input) under
    ``errors``."""
    errors = exc.errors()
    return JSONResponse({"detail": describe(errors, skip=1, labels=FIELD_LABELS), "errors": problems(errors)},
                        status_code=422)


def _mount_web_ui(app: FastAPI) -> None:
    """``/`` → ``/dashboard/``; the dashboard, patron page, demo page, widget script
    and shared static files."""

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> FileResponse:
        path = STATIC / "widget.js"
        if not path.is_file():
            raise HTTPException(404, "The widget script is not installed.")
        return FileResponse(path, media_type="text/javascript")

    for prefix, folder in (("/dashboard", "dashboard"), ("/patron", "patron"), ("/demo", "demo")):
        app.mount(prefix, StaticFiles(directory=STATIC / folder, html=True, check_dir=False), name=folder)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
