"""One websocket as an explicit state machine::

    AWAITING_HELLO --hello accepted--> READY --close/disconnect--> CLOSED
          \\--no/bad hello, timeout: error 401, close 4001-------------^

* Frames to the client go through a bounded queue (256 frames) drained by a writer
  task; :meth:`Connection.send` never blocks. A full queue means the client cannot
  keep up: the connection closes with **4008** and the client resumes elsewhere.
* While the hello is being checked, frames pushed by the hub are held (same bound)
  and released right after ``welcome``, so nothing published meanwhile is lost.
* In READY, each client frame is parsed (:func:`gateway.frames.parse_frame`):
  a malformed frame gets ``error 400`` (``413`` when over 64 KiB) and the connection
  stays open; ``ping`` is answered with ``pong``; every other frame is handed to the
  session, one at a time, in arrival order.

The connection knows nothing about NATS or chats: the :class:`Opener` checks the
hello and a :class:`FrameHandler` acts on frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from starlette.websockets import WebSocket

from refdesk.ids import new_id

from . import frames
from .frames import ClientFrame, FrameError, Hello, Ping
from .security import INTERNAL_ERROR

log = structlog.get_logger()

OUTGOING_FRAMES = 256
HELLO_TIMEOUT_SECONDS = 10.0
HEARTBEAT_SECONDS = 25
"""How often clients should ``ping`` (told in ``welcome``)."""

CLOSE_UNAUTHORIZED = 4001
CLOSE_SLOW_CONSUMER = 4008
CLOSE_TRY_AGAIN = 1013
CLOSE_INTERNAL_ERROR = 1011
_CLOSE_FLUSH_SECONDS = 2.0


class State(enum.Enum):
    """Where a connection is in its life cycle."""

    AWAITING_HELLO = "awaiting_hello"
    READY = "ready"
    CLOSED = "closed"


class HelloRefused(Exception):
    """The hello could not be accepted.

    Attributes:
        code: ``error`` frame code (``"401"`` bad token, ``"503"`` a service is down).
        message: sentence for the ``error`` frame.
        close_code: websocket close code (4001 bad token, 1013 try again later).
    """

    def __init__(self, code: str, message: str, close_code: int = CLOSE_UNAUTHORIZED) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.close_code = close_code


class FrameHandler(Protocol):
    """What a signed-in connection hands its frames to."""

    async def handle(self, frame: ClientFrame) -> None:
        """Act on one frame (answering through ``Connection.send``)."""

    def closed(self) -> None:
        """The socket is gone: forget it."""


@dataclass(frozen=True)
class Greeting:
    """An accepted hello.

    Attributes:
        handler: takes the connection's frames from now on.
        welcome: the ``welcome`` frame, sent first.
        snapshot: frames sent after the frames held during the hello (an operator's
            ``board``, a patron's ``queue.position``): being the newest state, they
            come last.
    """

    handler: FrameHandler
    welcome: str
    snapshot: tuple[str, ...] = ()


Opener = Callable[["Connection", Hello], Awaitable[Greeting]]
"""Checks a hello and returns the :class:`Greeting`; raises :class:`HelloRefused`."""

_CLOSE = object()  # writer sentinel: send the close frame, then stop


class Connection:
    """One client socket. See the module docstring for the life cycle.

    Args:
        websocket: the Starlette websocket (not yet accepted).
        outgoing_frames: bound of the outgoing queue (and of the held frames).
        hello_timeout: seconds the client has to send ``hello``.
    """

    def __init__(
        self, websocket: WebSocket, *, outgoing_frames: int = OUTGOING_FRAMES,
        hello_timeout: float = HELLO_TIMEOUT_SECONDS,
    ) -> None:
        self.id = new_id()
        self.state = State.AWAITING_HELLO
        self._ws = websocket
        self._limit = outgoing_frames
        self._hello_timeout = hello_timeout
        self._outgoing: asyncio.Queue[Any] = asyncio.Queue(maxsize=outgoing_frames)
        self._held: list[str] = []
        self._close: tuple[int, str] | None = None
        self._disconnected = False
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._handler: FrameHandler | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.id} {self.state.value}>"

    # --- outgoing ---------------------------------------------------------------

    def send(self, frame: str) -> None:
        """Queue a frame (JSON text) for the client; never blocks. Dropped once
        closing; a full queue closes the connection with 4008."""
        if self.state is State.CLOSED:
            return
        if self.state is State.AWAITING_HELLO:
            if len(self._held) >= self._limit:
                self.close(CLOSE_SLOW_CONSUMER, "slow consumer")
            else:
                self._held.append(frame)
            return
        try:
            self._outgoing.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("ws.slow_consumer", connection=self.id)
            self.close(CLOSE_SLOW_CONSUMER, "slow consumer")

    def _ready(self, greeting: Greeting) -> None:
        """The hello was accepted: send ``welcome``, the frames held meanwhile, then
        the snapshot, and start taking frames."""
        held, self._held = self._held, []
        self.state = State.READY
        for frame in (greeting.welcome, *held, *greeting.snapshot):
            self.send(frame)

    def close(self, code: int, reason: str = "") -> None:
        """Close the connection: frames already queued are sent first, unless the
        queue is full (slow consumer), in which case they are dropped."""
        if self.state is State.CLOSED or self._disconnected:
            self.state = State.CLOSED
            return
        self.state = State.CLOSED
        self._close = (code, reason)
        try:
            self._outgoing.put_nowait(_CLOSE)
        except asyncio.QueueFull:
            if self._writer is not None:
                self._writer.cancel()
            self._writer = asyncio.create_task(self._send_close())
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()

    # --- life cycle -------------------------------------------------------------

    async def run(self, open_session: Opener) -> None:
        """Accept the socket and serve it until either side closes it."""
        await self._ws.accept()
        self._writer = asyncio.create_task(self._write_loop(), name=f"ws-writer-{self.id}")
        self._reader = asyncio.create_task(self._read_loop(open_session), name=f"ws-reader-{self.id}")
        try:
            await asyncio.wait({self._reader})
            if not self._reader.cancelled() and self._reader.exception() is not None:
                log.error("ws.reader_failed", connection=self.id, error=repr(self._reader.exception()))
                self.close(CLOSE_INTERNAL_ERROR, "internal error")
        finally:
            self._reader.cancel()
            if self.state is not State.CLOSED:
                self.close(1000)
            if self._handler is not None:
                self._handler.closed()
            await self._finish_writing()

    async def _finish_writing(self) -> None:
        writer = self._writer
        if writer is None:
            return
        if self._disconnected:
            writer.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(writer, _CLOSE_FLUSH_SECONDS)

    async def _read_loop(self, open_session: Opener) -> None:
        self._handler = await self._greet(open_session)
        while self.state is State.READY:
            message = await self._ws.receive()
            if message["type"] == "websocket.disconnect":
                self._disconnected = True
                self.state = State.CLOSED
                return
            await self._on_message(message)

    async def _greet(self, open_session: Opener) -> FrameHandler | None:
        """AWAITING_HELLO: the first frame must be a valid ``hello``."""
        try:
            message = await asyncio.wait_for(self._ws.receive(), self._hello_timeout)
        except asyncio.TimeoutError:
            self._refuse(HelloRefused("401", f"No hello arrived within {self._hello_timeout:g} seconds."))
            return None
        if message["type"] == "websocket.disconnect":
            self._disconnected = True
            self.state = State.CLOSED
            return None
        try:
            frame = frames.parse_frame(message.get("text") or "")
        except FrameError as exc:
            frame = None
            ref = exc.ref
        else:
            ref = frame.ref
        if not isinstance(frame, Hello):
            self._refuse(HelloRefused("401", 'The first frame must be "hello" with your token.'), ref)
            return None
        try:
            greeting = await open_session(self, frame)
        except HelloRefused as exc:
            self._refuse(exc, frame.ref)
            return None
        except Exception:
            log.exception("ws.hello_failed", connection=self.id)
            self._refuse(HelloRefused("500", "Something went wrong on our side; please reconnect.",
                                      CLOSE_INTERNAL_ERROR), frame.ref)
            return None
        if self.state is not State.AWAITING_HELLO:  # closed while the hello was checked
            greeting.handler.closed()
            return None
        self._ready(greeting)
        return greeting.handler

    def _refuse(self, refusal: HelloRefused, ref: str | None = None) -> None:
        """Answer a refused hello with an ``error`` frame, then close."""
        self._outgoing.put_nowait(frames.error(refusal.code, refusal.message, ref))
        self.close(refusal.close_code, refusal.message[:100])

    async def _on_message(self, message: dict[str, Any]) -> None:
        """READY: one client frame."""
        text = message.get("text")
        if text is None:
            self.send(frames.error("400", "Frames must be JSON text, not binary."))
            return
        try:
            frame = frames.parse_frame(text)
        except FrameError as exc:
            self.send(exc.frame())
            return
        if isinstance(frame, Ping):
            self.send(frames.pong(frame.ref))
        elif isinstance(frame, Hello):
            self.send(frames.error("400", "This connection has already said hello.", frame.ref))
        elif self._handler is not None:
            try:
                await self._handler.handle(frame)
            except Exception:
                log.exception("ws.frame_failed", connection=self.id, frame_type=type(frame).__name__)
                self.send(frames.error("500", INTERNAL_ERROR, frame.ref))

    async def _write_loop(self) -> None:
        try:
            while True:
                frame = await self._outgoing.get()
                if frame is _CLOSE:
                    await self._send_close()
                    return
                await self._ws.send_text(frame)
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away mid-write
            self._disconnected = True
            self.state = State.CLOSED
            if self._reader is not None:
                self._reader.cancel()

    async def _send_close(self) -> None:
        code, reason = self._close or (1000, "")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws.close(code, reason), _CLOSE_FLUSH_SECONDS)
