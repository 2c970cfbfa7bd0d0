"""Helpers for tests that talk to a running gateway the way browsers do: HTTP with
httpx, websockets with ``websockets``.

``gateway_stack(servers)`` runs every service plus the gateway (as ``refdesk up`` does)
and yields a :class:`Gateway`; :class:`Client` is a websocket client that keeps the
frames it was not waiting for; ``login`` / ``online_operator`` / ``new_chat`` /
``claimed_conversation`` set up the people and chats a test needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.support import Servers, Stack, running_system

Frame = dict[str, Any]


@dataclass
class Gateway:
    """A running system: its services (``stack``), an HTTP client on the gateway's base
    URL and the gateway's websocket URL."""

    stack: Stack
    http: httpx.AsyncClient
    ws_url: str


@contextlib.asynccontextmanager
async def gateway_stack(servers: Servers, **overrides: object) -> AsyncIterator[Gateway]:
    """Every service plus the gateway on fresh NATS and PostgreSQL (see
    :func:`tests.support.running_system`; ``overrides`` set :class:`Settings` fields),
    with an HTTP client (10 s timeout) on ``http://127.0.0.1:<gateway_port>``."""
    async with running_system(servers, **overrides) as stack:
        port = stack.settings.gateway_port
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield Gateway(stack, http, f"ws://127.0.0.1:{port}/ws")


class Client:
    """A websocket client that keeps frames it was not waiting for."""

    _refs = itertools.count(1)

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.backlog: list[Frame] = []

    @classmethod
    async def open(cls, gw: Gateway, token: str) -> tuple[Client, Frame]:
        client = cls(await connect(gw.ws_url, compression=None))
        await client.send({"type": "hello", "token": token})
        return client, await client.expect("welcome")

    async def send(self, frame: Frame | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def expect(self, kind: str, where: Callable[[Frame], bool] = lambda f: True, timeout: float = 5) -> Frame:
        """The first frame (kept or new) of type ``kind`` matching ``where``."""
        for index, frame in enumerate(self.backlog):
            if frame["type"] == kind and where(frame):
                return self.backlog.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind} frame within {timeout} s; kept: {self.backlog}")
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            if frame["type"] == kind and where(frame):
                return frame
            self.backlog.append(frame)

    async def request(self, frame: Frame) -> Frame:
        """Send a frame with a fresh ``ref``; return the ``reply`` or ``error`` answering it."""
        ref = f"r{next(self._refs)}"
        await self.send({**frame, "ref": ref})
        return await self.expect_answer(ref)

    async def expect_answer(self, ref: str) -> Frame:
        for index, frame in enumerate(self.backlog):
            if frame["type"] in ("reply", "error") and frame.get("ref") == ref:
                return self.backlog.pop(index)
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
            if frame["type"] in ("reply", "error") and frame.get("ref") == ref:
                return frame
            self.backlog.append(frame)

    async def ok(self, frame: Frame) -> Any:
        answer = await self.request(frame)
        assert answer["type"] == "reply", answer
        return answer["data"]

    async def drain(self) -> list[Frame]:
        """Every frame up to a ``pong`` answering a fresh ping (frames are ordered per socket)."""
        ref = f"p{next(self._refs)}"
        await self.send({"type": "ping", "ref": ref})
        await self.expect("pong", lambda f: f.get("ref") == ref)
        frames, self.backlog = self.backlog, []
        return frames

    async def close(self) -> None:
        await self.ws.close()


async def login(gw: Gateway, username: str) -> str:
    """The staff token of a demo operator (password ``librarian``)."""
    response = await gw.http.post("/api/auth/login", json={"username": username, "password": "librarian"})
    assert response.status_code == 200, response.text
    return response.json()["token"]


async def online_operator(gw: Gateway, username: str, monitored: list[str]) -> Client:
    """A demo operator's socket, set Online and monitoring ``monitored`` department ids."""
    client, welcome = await Client.open(gw, await login(gw, username))
    assert welcome["role"] == "operator" and welcome["operator"]["username"] == username
    profile = await client.ok({"type": "status.set", "status": "online", "monitored": monitored})
    assert profile["status"] == "online" and profile["monitored"] == monitored
    return client


async def new_chat(gw: Gateway, department: str = "reference", question: str = "Do you have atlases?") -> Frame:
    """A patron chat started over HTTP by Pat Reader; the 201 body (``chat_id``, ``token``…)."""
    response = await gw.http.post("/api/patron/chats", json={
        "department_id": department, "name": "Pat Reader", "email": "pat@example.org", "question": question})
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class Conversation:
    operator: Client
    patron: Client
    chat_id: str


@contextlib.asynccontextmanager
async def claimed_conversation(gw: Gateway, department: str, question: str = "Do you have atlases?",
                               ) -> AsyncIterator[tuple[Conversation, str]]:
    """Ana (online, monitoring ``department``) has claimed a fresh chat there; both
    sides are subscribed. Yields the conversation and the patron's token (for
    reconnecting); closes both sockets on exit."""
    ana = await online_operator(gw, "ana", [department])
    created = await new_chat(gw, department, question)
    patron, _ = await Client.open(gw, created["token"])
    chat_id = created["chat_id"]
    await patron.ok({"type": "chat.subscribe", "chat_id": chat_id})
    assert (await ana.ok({"type": "chat.claim", "chat_id": chat_id}))["state"] == "active"
    await ana.ok({"type": "chat.subscribe", "chat_id": chat_id})
    try:
        yield Conversation(ana, patron, chat_id), created["token"]
    finally:
        await ana.close()
        await patron.close()


def of_chat(chat_id: str, event: str | None = None) -> Callable[[Frame], bool]:
    """A ``chat.update`` filter: frames about ``chat_id`` (and ``event``, when given)."""
    return lambda f: f["chat"]["id"] == chat_id and (event is None or f["event"] == event)
