"""NATS helpers shared by every part: connecting, typed request/reply over
``nats.micro`` endpoints, JetStream streams and durable pull consumers.

Conventions (see ``docs/architecture.md``):

* an endpoint handler takes a validated pydantic request and returns a pydantic
  reply; it raises :class:`BusError` (or a subclass) to answer with an error code.
  Errors travel in the ``Nats-Service-Error``/``Nats-Service-Error-Code`` headers
  (ADR-32) and :func:`request` turns them back into :class:`BusError`;
* nats-py awaits a subscription callback one message at a time, so each endpoint
  hands requests to tasks bounded by a semaphore (default 64 in flight);
* events are published to JetStream with ``Nats-Msg-Id`` = event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats
import structlog
from nats.aio.client import Client
from nats.errors import NoRespondersError, TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError
from nats.micro import add_service
from nats.micro.request import Request as MicroRequest
from nats.micro.service import Service
from pydantic import BaseModel, ValidationError

log = structlog.get_logger()

R = TypeVar("R", bound=BaseModel)


class BusError(Exception):
    """An endpoint refused or failed a request.

    Attributes:
        code: HTTP-like code as a string: ``400`` bad request, ``401`` wrong
            credentials, ``403`` not allowed, ``404`` not found, ``409`` conflict (lost
            claim race, wrong state), ``422`` invalid form, ``503`` service unavailable.
        message: a sentence a person can read.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NotFound(BusError):
    """``404``: the thing asked for does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__("404", message)


class Conflict(BusError):
    """``409``: the request conflicts with the current state (a lost claim race, a chat already ended)."""

    def __init__(self, message: str) -> None:
        super().__init__("409", message)


class Forbidden(BusError):
    """``403``: the caller may not do this."""

    def __init__(self, message: str) -> None:
        super().__init__("403", message)


class Invalid(BusError):
    """``422``: the request is well-formed but its values are not acceptable (a form with missing fields)."""

    def __init__(self, message: str) -> None:
        super().__init__("422", message)


def _validation_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "request"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


async def connect(servers: str, name: str) -> Client:
    """Connect to NATS with refdesk's defaults: reconnect forever (also during the
    first connect), 20 s pings, connection events logged.

    Args:
        servers: one URL or several separated by commas.
        name: client name shown in server monitoring (``queue-<pid>`` …).
    """

    async def on_error(exc: Exception) -> None:
        log.warning("nats.error", client=name, error=repr(exc))

    async def on_disconnect() -> None:
        log.warning("nats.disconnected", client=name)

    async def on_reconnect() -> None:
        log.info("nats.reconnected", client=name)

    return await nats.connect(
        servers=[s.strip() for s in servers.split(",") if s.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        ping_interval=20,
        max_outstanding_pings=3,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )


async def request(nc: Client, subject: str, payload: BaseModel, reply_type: type[R], *, timeout: float = 5.0) -> R:
    """Send a request to an endpoint and return its validated reply.

    Raises:
        BusError: the endpoint answered with an error (its code and message), or
            ``503`` when no instance of the service answers or it timed out.
    """
    try:
        msg = await nc.request(subject, payload.model_dump_json().encode(), timeout=timeout)
    except NoRespondersError:
        raise BusError("503", f"the service behind {subject} is not running") from None
    except NatsTimeout:
        raise BusError("503", f"the service behind {subject} did not answer in {timeout:g} s") from None
    headers = msg.headers or {}
    code = headers.get("Nats-Service-Error-Code")
    if code:
        raise BusError(code, headers.get("Nats-Service-Error", "error"))
    return reply_type.model_validate_json(msg.data)


Handler = Callable[[Any], Awaitable[BaseModel]]


class Endpoints:
    """A ``nats.micro`` service whose endpoints run concurrently, bounded.

    Usage::

        eps = Endpoints(nc, "queue", "0.1.0")
        eps.add("rd.queue.chat.claim", ClaimRequest, handle_claim)
        await eps.start()
        ...
        await eps.stop()   # unsubscribes, then waits for in-flight handlers

    A handler receives the validated request model and returns a reply model. A
    malformed payload answers ``400``; :class:`BusError` answers its code; any other
    exception answers ``500`` and is logged.
    """

    def __init__(self, nc: Client, name: str, version: str, *, max_in_flight: int = 64) -> None:
        self._nc = nc
        self._name = name
        self._version = version
        self._routes: list[tuple[str, type[BaseModel], Handler]] = []
        self._sem = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._service: Service | None = None

    def add(self, subject: str, request_type: type[BaseModel], handler: Handler) -> None:
        """Register ``handler`` for ``subject`` (must be called before :meth:`start`)."""
        self._routes.append((subject, request_type, handler))

    async def start(self) -> None:
        """Register the micro service and subscribe every endpoint (queue group ``q``)."""
        self._service = await add_service(self._nc, name=self._name, version=self._version)
        for subject, request_type, handler in self._routes:
            await self._service.add_endpoint(
                name=subject.replace(".", "-"), subject=subject, handler=self._dispatcher(request_type, handler)
            )

    def _dispatcher(self, request_type: type[BaseModel], handler: Handler) -> Callable[[MicroRequest], Awaitable[None]]:
        async def dispatch(req: MicroRequest) -> None:
            await self._sem.acquire()
            task = asyncio.create_task(self._run(req, request_type, handler))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return dispatch

    async def _run(self, req: MicroRequest, request_type: type[BaseModel], handler: Handler) -> None:
        try:
            try:
                payload = request_type.model_validate_json(req.data or b"{}")
            except ValidationError as exc:
                await req.respond_error("400", _validation_message(exc))
                return
            try:
                reply = await handler(payload)
            except BusError as exc:
                await req.respond_error(exc.code, exc.message)
                return
            except Exception as exc:  # noqa: BLE001 - every failure must answer
                log.exception("endpoint.failed", subject=req.subject)
                await req.respond_error("500", f"internal error: {type(exc).__name__}")
                return
            await req.respond(reply.model_dump_json().encode())
        except Exception:  # the requester vanished or the connection closed
            log.warning("endpoint.respond_failed", subject=req.subject)
        finally:
            self._sem.release()

    async def stop(self) -> None:
        """Stop taking requests, then wait for the handlers in flight."""
        if self._service is not None:
            await self._service.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def ensure_stream(nc: Client, name: str, subjects: list[str], *, replicas: int = 1) -> None:
    """Create the JetStream stream ``name`` over ``subjects`` if it does not exist
    (file storage, 2-minute de-duplication window)."""
    jsm = nc.jsm()
    try:
        await jsm.stream_info(name)
    except NotFoundError:
        await jsm.add_stream(
            StreamConfig(name=name, subjects=subjects, num_replicas=replicas, duplicate_window=120.0)
        )


async def publish_event(nc: Client, subject: str, event_id: str, payload: bytes) -> None:
    """Publish one event to JetStream, de-duplicated by ``Nats-Msg-Id`` = ``event_id``.

    Raises:
        nats.errors.Error: JetStream did not acknowledge (the caller retries).
    """
    await nc.jetstream().publish(subject, payload, headers={"Nats-Msg-Id": event_id})


E = TypeVar("E", bound=BaseModel)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def consume(
    nc: Client,
    *,
    stream: str,
    durable: str,
    subjects: list[str],
    event_type: type[E],
    handler: Callable[[E], Awaitable[None]],
    stop: asyncio.Event,
    batch: int = 64,
    max_deliver: int = 8,
) -> None:
    """Run a durable pull consumer until ``stop`` is set; never raises.

    Attaching is retried (0.25 s, doubling up to 5 s) while it fails — notably while
    ``stream`` does not exist yet because the service that owns it has not started.
    Each message is decoded as ``event_type`` and passed to ``handler`` in stream
    order, then acked. A message that does not decode is logged and terminated
    (redelivery cannot fix it). When the handler raises, the message is nak'ed with a
    delay of ``min(2**deliveries, 60)`` seconds; after ``max_deliver`` deliveries it is
    terminated and logged. Handlers must be idempotent (redelivery happens).
    """
    delay, last_reason = 0.25, ""
    while not stop.is_set():
        try:
            sub = await _attach(nc, stream, durable, subjects, max_deliver)
        except Exception as exc:  # noqa: BLE001 - the stream may appear later
            if repr(exc) != last_reason:  # log each new reason once, not every retry
                last_reason = repr(exc)
                log.info("consumer.waiting", stream=stream, durable=durable, reason=last_reason)
            await _pause(stop, delay)
            delay = min(delay * 2, 5.0)
            continue
        try:
            await _fetch_loop(sub, durable, event_type, handler, stop, batch, max_deliver)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


async def _attach(nc: Client, stream: str, durable: str, subjects: list[str], max_deliver: int) -> Any:
    config = ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30,
        max_deliver=max_deliver,
        max_ack_pending=1000,
        filter_subjects=subjects if len(subjects) > 1 else None,
        filter_subject=subjects[0] if len(subjects) == 1 else None,
    )
    subject = subjects[0] if len(subjects) == 1 else ""
    return await nc.jetstream().pull_subscribe(subject, durable=durable, stream=stream, config=config)


async def _fetch_loop(
    sub: Any, durable: str, event_type: type[E], handler: Callable[[E], Awaitable[None]],
    stop: asyncio.Event, batch: int, max_deliver: int,
) -> None:
    while not stop.is_set():
        try:
            msgs = await sub.fetch(batch, timeout=1)
        except TimeoutError:  # nothing new within a second (nats' own and asyncio's timeouts)
            continue
        except Exception as exc:  # connection trouble: back off, the client reconnects
            log.warning("consumer.fetch_failed", durable=durable, error=repr(exc))
            await _pause(stop, 1)
            continue
        for msg in msgs:
            try:
                event = event_type.model_validate_json(msg.data)
            except ValidationError as exc:
                log.warning("consumer.unreadable", durable=durable, subject=msg.subject, error=str(exc))
                await msg.term()
                continue
            try:
                await handler(event)
            except Exception:
                deliveries = msg.metadata.num_delivered
                if deliveries >= max_deliver:
                    log.exception("consumer.dead_letter", durable=durable, subject=msg.subject)
                    await msg.term()
                else:
                    log.exception("consumer.retry", durable=durable, subject=msg.subject, deliveries=deliveries)
                    await msg.nak(delay=min(2**deliveries, 60))
            else:
                await msg.ack()


def dumps(model: BaseModel) -> bytes:
    """Serialise a pydantic model to JSON bytes."""
    return model.model_dump_json().encode()


def loads(data: bytes) -> Any:
    """Parse JSON bytes."""
    return json.loads(data)
