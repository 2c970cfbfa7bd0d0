"""Helpers for integration and end-to-end tests: run refdesk parts in-process
against the real NATS and PostgreSQL servers of the test session."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import nats
from nats.aio.client import Client

from refdesk.embedded import free_port
from refdesk.service import serve_spec
from refdesk.settings import Settings


T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = "condition") -> T:
    """Await ``probe()`` until it returns something truthy and return it; fail the
    test after ``timeout`` seconds, showing the last result."""
    import pytest

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}; last result: {result!r}")
        await asyncio.sleep(0.05)


@dataclass
class Stack:
    """Running services: their settings and a NATS client for the test."""

    settings: Settings
    nc: Client


async def wait_for_services(nc: Client, names: list[str], timeout: float = 20.0) -> None:
    """Wait until each named ``nats.micro`` service answers ``$SRV.PING.<name>``."""
    deadline = asyncio.get_running_loop().time() + timeout
    for name in names:
        while True:
            try:
                await nc.request(f"$SRV.PING.{name}", b"", timeout=0.5)
                break
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"service {name} did not start") from None
                await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(servers: "Servers", *names: str, demo_seed: bool = True, **overrides: object) -> AsyncIterator[Stack]:
    """Start the named services (``queue``, ``chat``, ``tickets``, ``analytics``)
    in-process on a fresh database and a fresh JetStream domain of their own; stop
    them (drained) on exit. ``overrides`` set other :class:`Settings` fields."""
    database = await servers.fresh_database()
    settings = Settings(**{
        "nats_url": await servers.fresh_nats(), "database_url": database, "demo_seed": demo_seed,
        "jwt_secret": "refdesk-test-secret-0123456789abcdef", "analytics_port": free_port(),
        "gateway_port": free_port(), "inbound_smtp_port": free_port(), "log_level": "WARNING", **overrides,
    })
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(serve_spec(importlib.import_module(f"services.{name}").SPEC, settings=settings, stop=stop))
        for name in names
    ]
    nc = await nats.connect(settings.nats_url)
    try:
        try:
            await wait_for_services(nc, list(names))
        except TimeoutError:
            for task in tasks:
                if task.done() and task.exception():
                    raise task.exception()  # type: ignore[misc]
            raise
        yield Stack(settings, nc)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.drain()


class Servers:
    """The session's NATS and PostgreSQL (embedded, or from the environment)."""

    def __init__(self, nats_url: str, database_url: str, start_nats) -> None:
        self.nats_url = nats_url
        self.database_url = database_url
        self._start_nats = start_nats
        self._counter = 0

    async def fresh_database(self) -> str:
        """Create an empty database and return its DSN."""
        self._counter += 1
        base, _, _ = self.database_url.rpartition("/")
        name = f"rdtest_{self._counter}_{free_port()}"
        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return f"{base}/{name}"

    async def fresh_nats(self) -> str:
        """A NATS server with empty JetStream state (a new embedded server, or the
        environment's server when ``NATS_URL`` was given)."""
        return self._start_nats()


@contextlib.asynccontextmanager
async def running_system(servers: "Servers", **overrides: object) -> AsyncIterator[Stack]:
    """Every service plus the gateway (on ``stack.settings.gateway_port``), with the
    demo seed, as ``refdesk up`` runs them; ``overrides`` set :class:`Settings` fields."""
    from gateway.server import serve as serve_gateway

    # tests start many chats and a few failed sign-ins from 127.0.0.1; rate-limit tests pass their own limits
    overrides = {"patron_chat_limit": 100_000, "login_failure_limit": 100_000, **overrides}
    async with running(servers, "queue", "chat", "tickets", "analytics", **overrides) as stack:
        stop = asyncio.Event()
        task = asyncio.create_task(serve_gateway(stack.settings, stop))
        try:
            await wait_for_http(f"http://127.0.0.1:{stack.settings.gateway_port}/healthz", task)
            yield stack
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)


async def wait_for_http(url: str, task: asyncio.Task | None = None, timeout: float = 20.0) -> None:
    """Poll ``url`` until it answers 200 (raising the task's error if it died)."""
    import httpx

    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            if task is not None and task.done():
                task.result()
                raise RuntimeError(f"server for {url} stopped")
            try:
                if (await client.get(url, timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url} did not answer 200 within {timeout:g} s")
            await asyncio.sleep(0.1)
