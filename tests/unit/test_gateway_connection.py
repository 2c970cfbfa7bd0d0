"""The websocket connection state machine, driven through a real Starlette WebSocket
over in-memory ASGI channels (the server side of uvicorn is replaced by queues)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.websockets import WebSocket

from gateway import frames
from gateway.connection import Connection, Greeting, HelloRefused, State
from gateway.frames import ClientFrame, Hello


class Channel:
    """The client end of an ASGI websocket: frames in, frames and close code out."""

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self.stalled = False  # a client that stopped reading: sends never complete
        self.inbound.put_nowait({"type": "websocket.connect"})

    def websocket(self) -> WebSocket:
        return WebSocket({"type": "websocket", "path": "/ws", "headers": []}, self._receive, self._send)

    async def _receive(self) -> dict[str, Any]:
        return await self.inbound.get()

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            if self.stalled:
                await asyncio.Event().wait()
            self.outbound.put_nowait(json.loads(message["text"]))
        elif message["type"] == "websocket.close":
            self.close_code = message["code"]
            self.closed.set()
            self.inbound.put_nowait({"type": "websocket.disconnect", "code": message["code"]})

    def say(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        self.inbound.put_nowait({"type": "websocket.receive", "text": text})

    def hang_up(self) -> None:
        self.inbound.put_nowait({"type": "websocket.disconnect", "code": 1001})

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.outbound.get(), 2)


class Recorder:
    """A frame handler that records what it was given."""

    def __init__(self) -> None:
        self.frames: list[ClientFrame] = []
        self.was_closed = False

    async def handle(self, frame: ClientFrame) -> None:
        if getattr(frame, "chat_id", None) == "boom":
            raise RuntimeError("handler bug")
        self.frames.append(frame)

    def closed(self) -> None:
        self.was_closed = True


def start(channel: Channel, opener: Any, **options: Any) -> tuple[Connection, asyncio.Task[None]]:
    conn = Connection(channel.websocket(), **options)
    return conn, asyncio.create_task(conn.run(opener))


def welcome_opener(recorder: Recorder, *, during: str | None = None, snapshot: tuple[str, ...] = ()):
    async def opener(conn: Connection, hello: Hello) -> Greeting:
        if hello.token != "good":
            raise HelloRefused("401", "Bad token.")
        if during:
            conn.send(during)  # an event published while the hello is checked
        return Greeting(recorder, frames.encode("welcome", role="operator"), snapshot)

    return opener


async def test_welcome_then_held_frames_then_snapshot() -> None:
    channel, recorder = Channel(), Recorder()
    _, task = start(channel, welcome_opener(recorder, during=frames.encode("chat.update", event="queued"),
                                            snapshot=(frames.encode("board", chats=[]),)))
    channel.say({"type": "hello", "token": "good"})
    assert [(await channel.next())["type"] for _ in range(3)] == ["welcome", "chat.update", "board"]
    channel.hang_up()
    await asyncio.wait_for(task, 2)
    assert recorder.was_closed


async def test_refused_hello_gets_401_with_ref_and_close_4001() -> None:
    channel = Channel()
    _, task = start(channel, welcome_opener(Recorder()))
    channel.say({"type": "hello", "token": "bad", "ref": "h1"})
    assert await channel.next() == {"type": "error", "code": "401", "message": "Bad token.", "ref": "h1"}
    await asyncio.wait_for(task, 2)
    assert channel.close_code == 4001


@pytest.mark.parametrize("first", [{"type": "ping"}, {"type": "chat.claim", "chat_id": "a"}, "garbage"])
async def test_any_frame_before_hello_closes_4001(first: dict | str) -> None:
    channel = Channel()
    _, task = start(channel, welcome_opener(Recorder()))
    channel.say(first)
    error = await channel.next()
    assert (error["type"], error["code"]) == ("error", "401")
    await asyncio.wait_for(task, 2)
    assert channel.close_code == 4001


async def test_silent_client_is_closed_after_the_hello_timeout() -> None:
    channel = Channel()
    conn, task = start(channel, welcome_opener(Recorder()), hello_timeout=0.05)
    error = await channel.next()
    assert error["code"] == "401" and "No hello arrived" in error["message"]
    await asyncio.wait_for(task, 2)
    assert channel.close_code == 4001 and conn.state is State.CLOSED


async def test_bad_frames_get_errors_and_the_connection_keeps_working() -> None:
    channel, recorder = Channel(), Recorder()
    _, task = start(channel, welcome_opener(recorder))
    channel.say({"type": "hello", "token": "good"})
    await channel.next()
    channel.say("{oops")
    channel.say(json.dumps({"type": "chat.send", "chat_id": "a", "cmid": "c", "body": "x" * 70_000}))
    channel.inbound.put_nowait({"type": "websocket.receive", "bytes": b"\x00"})
    channel.say({"type": "hello", "token": "good", "ref": "again"})
    channel.say({"type": "chat.end", "chat_id": "boom", "ref": "b"})
    channel.say({"type": "ping", "ref": "p"})
    channel.say({"type": "chat.end", "chat_id": "c1"})
    answers = [await channel.next() for _ in range(6)]
    assert [(a["type"], a.get("code")) for a in answers] == [
        ("error", "400"), ("error", "413"), ("error", "400"), ("error", "400"), ("error", "500"), ("pong", None)]
    assert answers[4]["ref"] == "b" and answers[5]["ref"] == "p"
    for _ in range(100):
        if recorder.frames:
            break
        await asyncio.sleep(0.01)
    assert [getattr(f, "chat_id", None) for f in recorder.frames] == ["c1"]
    channel.hang_up()
    await asyncio.wait_for(task, 2)
    assert channel.close_code is None  # the client hung up; the server never closed


async def test_frames_the_json_parser_cannot_read_are_answered_with_their_ref() -> None:
    channel, recorder = Channel(), Recorder()
    _, task = start(channel, welcome_opener(recorder))
    channel.say({"type": "hello", "token": "good"})
    await channel.next()
    channel.say('{"type": "chat.end", "ref": "deep", "chat_id": ' + "[" * 10_000 + "]" * 10_000 + "}")
    channel.say('{"type": "chat.subscribe", "ref": "long", "chat_id": "a", "after_seq": ' + "9" * 5000 + "}")
    channel.say({"type": "ping", "ref": "p"})
    answers = [await channel.next() for _ in range(3)]
    assert [(a["type"], a.get("code"), a.get("ref")) for a in answers] == [
        ("error", "400", "deep"), ("error", "400", "long"), ("pong", None, "p")]
    assert answers[0]["message"] == "The frame is nested too deeply."
    channel.hang_up()
    await asyncio.wait_for(task, 2)
    assert channel.close_code is None  # still open until the client hung up: no 1011


async def test_slow_consumer_is_closed_4008() -> None:
    channel, recorder = Channel(), Recorder()
    conn, task = start(channel, welcome_opener(recorder), outgoing_frames=8)
    channel.say({"type": "hello", "token": "good"})
    await channel.next()
    channel.stalled = True
    for index in range(20):
        conn.send(frames.encode("message", n=index))
    await asyncio.wait_for(channel.closed.wait(), 3)
    assert channel.close_code == 4008
    await asyncio.wait_for(task, 5)
    assert recorder.was_closed and conn.state is State.CLOSED


async def test_held_frames_are_bounded_too() -> None:
    channel = Channel()

    def flood(conn: Connection) -> None:  # the hub publishing while the hello is checked
        for index in range(10):
            conn.send(frames.encode("chat.update", n=index))

    async def slow_opener(conn: Connection, hello: Hello) -> Greeting:
        asyncio.get_running_loop().call_soon(flood, conn)
        await asyncio.sleep(30)  # cancelled: the connection closes meanwhile
        raise AssertionError("not reached")

    conn, task = start(channel, slow_opener, outgoing_frames=4)
    channel.say({"type": "hello", "token": "good"})
    await asyncio.wait_for(task, 3)
    assert channel.close_code == 4008 and conn.state is State.CLOSED
