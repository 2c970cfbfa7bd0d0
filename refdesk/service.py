"""The common wiring of every refdesk service process.

A service's ``__main__.py`` calls :func:`run` with its name, schema, migrations folder
and a ``wire`` coroutine that registers endpoints and background consumers on the
:class:`Context`. :func:`run` then: configures logging; creates the database if
needed and applies the service's migrations (advisory-locked); opens the asyncpg
pool and the NATS connection; ensures the service's JetStream stream; starts the
outbox relay and the ``nats.micro`` endpoints; and on SIGINT/SIGTERM shuts down in
order — stop endpoints, stop consumers, finish in-flight handlers, flush the outbox,
``drain()`` NATS, close the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from nats.aio.client import Client

from . import bus, db
from .log import configure_logging
from .outbox import OutboxRelay
from .settings import Settings, get_settings


@dataclass
class Context:
    """What a service's ``wire`` function receives.

    Attributes:
        settings: process settings.
        nc: connected NATS client.
        pool: asyncpg pool on the service's schema.
        endpoints: register request/reply handlers here (``endpoints.add``).
        relay: outbox relay; call ``relay.wake()`` after committing events.
        stop: set when the process is shutting down (consumers watch it).
    """

    settings: Settings
    nc: Client
    pool: asyncpg.Pool
    endpoints: bus.Endpoints
    relay: OutboxRelay
    stop: asyncio.Event
    log: Any
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def background(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coro`` for the life of the process (awaited at shutdown)."""
        self.tasks.append(asyncio.create_task(coro, name=name))


Wire = Callable[[Context], Awaitable[None]]


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set ``stop`` when the process receives SIGINT or SIGTERM (where the event loop
    supports signal handlers)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service: what ``services/<name>/__init__.py`` exports as ``SPEC``.

    Attributes:
        name: ``nats.micro`` service name, also the ``python -m services.<name>`` module.
        schema: PostgreSQL schema it owns.
        migrations: folder of its numbered SQL migrations.
        wire: registers its endpoints and consumers.
        stream: JetStream stream it owns, as (name, subjects), if any.
    """

    name: str
    schema: str
    migrations: Path
    wire: Wire
    stream: tuple[str, list[str]] | None = None


async def serve(
    name: str,
    *,
    schema: str,
    migrations: Path,
    wire: Wire,
    stream: tuple[str, list[str]] | None = None,
    settings: Settings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run one service until ``stop`` is set (or SIGINT/SIGTERM arrives).

    Args:
        name: ``nats.micro`` service name (``queue``, ``chat`` …).
        schema: the PostgreSQL schema the service owns.
        migrations: folder of its numbered SQL migrations.
        wire: registers endpoints and consumers on the :class:`Context`.
        stream: the JetStream stream the service owns, as (name, subjects).
        settings / stop: for tests that run a service in-process; without ``stop``
            the service runs until SIGINT/SIGTERM.
    """
    settings = settings or get_settings()
    log = configure_logging(name, level=settings.log_level, fmt=settings.log_format)
    if stop is None:  # running as the process's main task: signals stop it
        stop = asyncio.Event()
        stop_on_signals(stop)

    await db.ensure_database(settings.database_url)
    applied = await db.migrate(settings.database_url, schema, migrations)
    if applied:
        log.info("migrations.applied", names=applied)
    pool = await db.create_pool(settings.database_url, schema=schema)
    nc = await bus.connect(settings.nats_url, f"{name}-{os.getpid()}")
    try:
        if stream:
            await bus.ensure_stream(nc, stream[0], stream[1])
        relay = OutboxRelay(pool, nc, schema)
        relay.start()
        endpoints = bus.Endpoints(nc, name, "0.1.0")
        ctx = Context(settings, nc, pool, endpoints, relay, stop, log)
        await wire(ctx)
        await endpoints.start()
        log.info("service.ready")
        await stop.wait()
        log.info("service.stopping")
        await endpoints.stop()
        await asyncio.gather(*ctx.tasks, return_exceptions=True)
        await relay.stop()
    finally:
        with contextlib.suppress(Exception):
            await nc.drain()
        await pool.close()
    log.info("service.stopped")


async def serve_spec(spec: ServiceSpec, *, settings: Settings | None = None, stop: asyncio.Event | None = None) -> None:
    """:func:`serve` for a :class:`ServiceSpec`."""
    await serve(spec.name, schema=spec.schema, migrations=spec.migrations, wire=spec.wire,
                stream=spec.stream, settings=settings, stop=stop)


def run(spec: ServiceSpec) -> None:
    """Blocking entry point for ``python -m services.<name>``."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_spec(spec))
