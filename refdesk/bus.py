"""NATS helpers shared by every part: connecting, typed request/reply over
``nats.micro`` endpoints, JetStream streams and durable pull consumers.

Conventions (see ``docs/architecture.md``):

* an endpoint handler takes a validated pydantic request and returns a pydantic
  reply; it raises :class:`BusError` (or a subclass) to answer with an error code.
  Errors travel in the ``Nats-Service-Error``/``Nats-Service-Error-Code`` headers
  (ADR-32) and :func:`request` turns them back into :class:`BusError`;
* nats-py awaits a subscription callback one message at a time, so each endpoint
  hands requests to tasks bounded by its own semaphore (default 64 in flight): a
  saturated endpoint (slow password checks) only delays its own requests;
* :func:`request` sends the caller's deadline in the ``Rd-Deadline`` header (absolute,
  epoch seconds); an endpoint skips a request whose deadline passed while it waited
  (a paused or saturated service) and answers ``503`` instead of acting on it — the
  caller has already given up, so acting late would create "ghost" chats or
  overwrite newer data. Hosts' clocks must agree (NTP) to well under a timeout;
* events are published to JetStream with ``Nats-Msg-Id`` = event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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

DEADLINE_HEADER = "Rd-Deadline"
"""Request header: when the caller stops waiting, as epoch seconds (``"1767225600.250"``)."""

GAVE_UP = "The service was too busy and gave up waiting on this request; please try again."
"""The ``503`` sentence for a request skipped because its deadline had passed."""

HEADER_ROOM = 1024
"""Bytes of a NATS message's ``max_payload`` left for headers: a reply bigger than
``max_payload - HEADER_ROOM`` is answered ``500`` at once instead of never arriving."""


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


def seconds_late(headers: dict[str, str] | None, now: float) -> float | None:
    """How many seconds past its :data:`DEADLINE_HEADER` a request is at ``now``
    (epoch seconds), or ``None`` when it is not late — including when it carries no
    deadline or an unreadable one (such a request is served as before)."""
    raw = (headers or {}).get(DEADLINE_HEADER)
    if raw is None:
        return None
    try:
        deadline = float(raw)
    except ValueError:
        return None
    late = now - deadline
    return late if late > 0 else None


async def request(nc: Client, subject: str, payload: BaseModel, reply_type: type[R], *, timeout: float = 5.0) -> R:
    """Send a request to an endpoint and return its validated reply.

    The request carries its deadline (now + ``timeout`` seconds) in
    :data:`DEADLINE_HEADER`, so the endpoint does not act on it once this call has
    given up.

    Raises:
        BusError: the endpoint answered with an error (its code and message), or
            ``503`` when no instance of the service answers or it timed out.
    """
    headers = {DEADLINE_HEADER: f"{time.time() + timeout:.3f}"}
    try:
        msg = await nc.request(subject, payload.model_dump_json().encode(), timeout=timeout, headers=headers)
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


@dataclass(frozen=True)
class _Route:
    """One endpoint: its subject, request model, handler and in-flight slots."""

    subject: str
    request_type: type[BaseModel]
    handler: Handler
    slots: asyncio.Semaphore


class Endpoints:
    """A ``nats.micro`` service whose endpoints run concurrently, each bounded on its own.

    Usage::

        eps = Endpoints(nc, "queue", "0.1.0")
        eps.add("rd.queue.chat.claim", ClaimRequest, handle_claim)
        eps.add("rd.queue.operator.authenticate", AuthenticateRequest, check, max_in_flight=4)
        await eps.start()
        ...
        await eps.stop()   # unsubscribes, then waits for in-flight handlers

    A handler receives the validated request model and returns a reply model. A
    malformed payload answers ``400``; :class:`BusError` answers its code; any other
    exception answers ``500`` and is logged. A request whose :data:`DEADLINE_HEADER`
    passed before its handler could start answers ``503`` (:data:`GAVE_UP`) without
    running the handler, and is logged as ``endpoint.expired``.

    Each endpoint has its own subscription and its own semaphore: when
    ``max_in_flight`` of its requests are running, further requests to *that*
    endpoint wait (in its subscription's pending buffer), while the other endpoints
    keep answering.

    Args:
        max_in_flight: the default per-endpoint limit for :meth:`add`.
    """

    def __init__(self, nc: Client, name: str, version: str, *, max_in_flight: int = 64) -> None:
        self._nc = nc
        self._name = name
        self._version = version
        self._max_in_flight = max_in_flight
        self._routes: list[_Route] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._service: Service | None = None

    def add(self, subject: str, request_type: type[BaseModel], handler: Handler, *,
            max_in_flight: int | None = None) -> None:
        """Register ``handler`` for ``subject`` (must be called before :meth:`start`).

        Args:
            max_in_flight: how many of this endpoint's requests may run at once
                (default: the constructor's ``max_in_flight``); at least 1.
        """
        limit = self._max_in_flight if max_in_flight is None else max_in_flight
        if limit < 1:
            raise ValueError(f"max_in_flight must be at least 1 (got {limit} for {subject})")
        self._routes.append(_Route(subject, request_type, handler, asyncio.Semaphore(limit)))

    async def start(self) -> None:
        """Register the micro service and subscribe every endpoint (queue group ``q``)."""
        self._service = await add_service(self._nc, name=self._name, version=self._version)
        for route in self._routes:
            await self._service.add_endpoint(
                name=route.subject.replace(".", "-"), subject=route.subject, handler=self._dispatcher(route)
            )

    def _dispatcher(self, route: _Route) -> Callable[[MicroRequest], Awaitable[None]]:
        async def dispatch(req: MicroRequest) -> None:
            await route.slots.acquire()  # a full endpoint holds back its own subscription only
            task = asyncio.create_task(self._run(req, route))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return dispatch

    async def _run(self, req: MicroRequest, route: _Route) -> None:
        try:
            late = seconds_late(req.headers, time.time())
            if late is not None:
                log.warning("endpoint.expired", subject=req.subject, late_seconds=round(late, 3))
                await req.respond_error("503", GAVE_UP)
                return
            try:
                payload = route.request_type.model_validate_json(req.data or b"{}")
            except ValidationError as exc:
                await req.respond_error("400", _validation_message(exc))
                return
            try:
                reply = await route.handler(payload)
            except BusError as exc:
                await req.respond_error(exc.code, exc.message)
                return
            except Exception:  # noqa: BLE001 - every failure must answer
                log.exception("endpoint.failed", subject=req.subject)
                await req.respond_error("500", "internal error (logged by the service)")
                return
            data = reply.model_dump_json().encode()
            if len(data) > self._nc.max_payload - HEADER_ROOM:
                log.error("endpoint.reply_too_large", subject=req.subject, bytes=len(data))
                await req.respond_error("500", "The answer was too large to send.")
                return
            await req.respond(data)
        except Exception:  # the requester vanished or the connection closed
            log.warning("endpoint.respond_failed", subject=req.subject)
        finally:
            route.slots.release()

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
