"""Bus helpers (refdesk.bus) and the outbox relay against real NATS + PostgreSQL."""

import asyncio
import time

import nats
import pytest

from refdesk import bus, db
from refdesk.contracts.common import EventEnvelope, Ok, Reply, Request
from refdesk.outbox import OutboxRelay, enqueue
from tests.support import eventually

pytestmark = pytest.mark.integration


class Echo(Request):
    text: str
    delay: float = 0.0


class Echoed(Reply):
    text: str


async def echo(req: Echo) -> Echoed:
    await asyncio.sleep(req.delay)
    if req.text == "conflict":
        raise bus.Conflict("Already claimed by Ana.")
    if req.text == "crash":
        raise ZeroDivisionError
    return Echoed(text=req.text)


@pytest.fixture
async def nc(servers):
    client = await bus.connect(await servers.fresh_nats(), "test")
    yield client
    await client.drain()


@pytest.fixture
async def endpoints(nc):
    eps = bus.Endpoints(nc, "echo", "0.1.0")
    eps.add("rd.test.echo", Echo, echo)
    await eps.start()
    yield eps
    await eps.stop()


async def test_request_returns_the_typed_reply(nc, endpoints) -> None:
    assert await bus.request(nc, "rd.test.echo", Echo(text="hi"), Echoed) == Echoed(text="hi")


async def test_errors_keep_their_code_and_message(nc, endpoints) -> None:
    with pytest.raises(bus.BusError) as conflict:
        await bus.request(nc, "rd.test.echo", Echo(text="conflict"), Echoed)
    assert (conflict.value.code, conflict.value.message) == ("409", "Already claimed by Ana.")
    with pytest.raises(bus.BusError) as crash:
        await bus.request(nc, "rd.test.echo", Echo(text="crash"), Echoed)
    assert crash.value.code == "500" and "ZeroDivisionError" not in crash.value.message  # logged, never sent


async def test_malformed_request_answers_400_naming_the_field(nc, endpoints) -> None:
    msg = await nc.request("rd.test.echo", b'{"text": 5}', timeout=2)
    assert msg.headers["Nats-Service-Error-Code"] == "400"
    assert "text" in msg.headers["Nats-Service-Error"]


async def test_a_slow_request_does_not_hold_up_the_others(nc, endpoints) -> None:
    slow = asyncio.create_task(bus.request(nc, "rd.test.echo", Echo(text="slow", delay=1.5), Echoed))
    await asyncio.sleep(0.05)
    fast = await asyncio.wait_for(bus.request(nc, "rd.test.echo", Echo(text="fast"), Echoed), 1.0)
    assert fast.text == "fast" and not slow.done()
    assert (await slow).text == "slow"


async def test_missing_service_is_503(nc) -> None:
    with pytest.raises(bus.BusError) as missing:
        await bus.request(nc, "rd.test.nobody", Echo(text="x"), Ok, timeout=1)
    assert missing.value.code == "503"


async def test_micro_discovery_answers_ping(nc, endpoints) -> None:
    reply = await nc.request("$SRV.PING.echo", b"", timeout=1)
    assert b'"name":"echo"' in reply.data.replace(b" ", b"")


async def test_outbox_publishes_committed_events_once_in_order(servers, nc, tmp_path) -> None:
    (tmp_path / "0001_nothing.sql").write_text("SELECT 1;")  # the runner itself creates the outbox table
    dsn = await servers.fresh_database()
    await db.migrate(dsn, "box", tmp_path)
    pool = await db.create_pool(dsn, schema="box")
    await bus.ensure_stream(nc, "TEST_EVENTS", ["rd.ev.test.>"])
    sub = await nc.jetstream().subscribe("rd.ev.test.>", ordered_consumer=True)
    async with pool.acquire() as conn, conn.transaction():
        for n in range(5):
            await enqueue(conn, f"rd.ev.test.{n}", EventEnvelope(event_id=f"e{n}", type="t"))
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, "rd.ev.test.rolledback", EventEnvelope(event_id="never", type="t"))
            raise RuntimeError("rolled back")
    relay = OutboxRelay(pool, nc, "box")
    relay.start()
    relay.wake()
    received = [await sub.next_msg(timeout=5) for _ in range(5)]
    await relay.stop()
    assert [m.subject for m in received] == [f"rd.ev.test.{n}" for n in range(5)]
    with pytest.raises(nats.errors.TimeoutError):
        await sub.next_msg(timeout=0.5)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    await pool.close()


async def test_consumer_waits_for_its_stream_skips_unreadable_events_and_retries_failures(nc) -> None:
    stop = asyncio.Event()
    seen: list[str] = []
    failed_once: set[str] = set()

    async def handler(event: EventEnvelope) -> None:
        if event.event_id == "flaky" and "flaky" not in failed_once:
            failed_once.add("flaky")
            raise RuntimeError("database hiccup")
        seen.append(event.event_id)

    task = asyncio.create_task(bus.consume(
        nc, stream="LATE_EVENTS", durable="test", subjects=["rd.ev.late.>"],
        event_type=EventEnvelope, handler=handler, stop=stop,
    ))
    await asyncio.sleep(0.5)  # the consumer starts before the stream exists
    await bus.ensure_stream(nc, "LATE_EVENTS", ["rd.ev.late.>"])
    js = nc.jetstream()
    await js.publish("rd.ev.late.1", b"not json")
    for event_id in ("first", "flaky", "last"):
        await js.publish("rd.ev.late.1", EventEnvelope(event_id=event_id, type="t").model_dump_json().encode())
    deadline = asyncio.get_running_loop().time() + 15
    while sorted(seen) != ["first", "flaky", "last"] and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sorted(seen) == ["first", "flaky", "last"]
    assert failed_once == {"flaky"}


# --- per-endpoint concurrency and deadlines --------------------------------------------


class Gate:
    """A handler that holds every request until ``open`` is set, counting how many run at once."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.started: list[str] = []
        self.running = 0
        self.most = 0

    async def handle(self, req: Echo) -> Echoed:
        self.started.append(req.text)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.open.wait()
        finally:
            self.running -= 1
        return Echoed(text=req.text)

    async def started_count(self, n: int) -> bool:
        return len(self.started) == n


@pytest.fixture
async def gated(nc):
    """Endpoints ``rd.test.gated`` (a :class:`Gate`, 2 in flight) and ``rd.test.free`` (echo)."""
    gate = Gate()
    eps = bus.Endpoints(nc, "gated", "0.1.0", max_in_flight=2)
    eps.add("rd.test.gated", Echo, gate.handle)
    eps.add("rd.test.free", Echo, echo)
    await eps.start()
    yield gate
    gate.open.set()
    await eps.stop()


async def test_a_saturated_endpoint_holds_up_only_its_own_requests(nc, gated: Gate) -> None:
    held = [asyncio.create_task(bus.request(nc, "rd.test.gated", Echo(text=f"g{i}"), Echoed, timeout=30))
            for i in range(5)]
    await eventually(lambda: gated.started_count(2), what="two gated requests running")
    assert (await bus.request(nc, "rd.test.free", Echo(text="free"), Echoed, timeout=5)).text == "free"
    assert len(gated.started) == 2  # the other three wait for a slot of their own endpoint
    gated.open.set()
    assert sorted(reply.text for reply in await asyncio.gather(*held)) == [f"g{i}" for i in range(5)]
    assert gated.most == 2


async def test_a_request_whose_caller_gave_up_is_never_run(nc) -> None:
    gate = Gate()
    eps = bus.Endpoints(nc, "single", "0.1.0")
    eps.add("rd.test.single", Echo, gate.handle, max_in_flight=1)
    await eps.start()
    try:
        first = asyncio.create_task(bus.request(nc, "rd.test.single", Echo(text="first"), Echoed, timeout=30))
        await eventually(lambda: gate.started_count(1), what="the first request running")
        with pytest.raises(bus.BusError) as timed_out:  # waits behind the first one past its deadline
            await bus.request(nc, "rd.test.single", Echo(text="ghost"), Echoed, timeout=0.3)
        assert timed_out.value.code == "503"
        gate.open.set()
        assert (await first).text == "first"
        # requests of one endpoint are taken in order: once "after" answers, "ghost" was dealt with
        assert (await bus.request(nc, "rd.test.single", Echo(text="after"), Echoed)).text == "after"
        assert gate.started == ["first", "after"]
    finally:
        gate.open.set()
        await eps.stop()


async def test_a_late_request_is_answered_503_and_an_unreadable_deadline_is_ignored(nc, endpoints) -> None:
    payload = Echo(text="hi").model_dump_json().encode()
    late = await nc.request("rd.test.echo", payload, timeout=2, headers={bus.DEADLINE_HEADER: f"{time.time() - 1:.3f}"})
    assert (late.headers["Nats-Service-Error-Code"], late.headers["Nats-Service-Error"]) == ("503", bus.GAVE_UP)
    for header in ({bus.DEADLINE_HEADER: "soon"}, {}):
        served = await nc.request("rd.test.echo", payload, timeout=2, headers=header or None)
        assert Echoed.model_validate_json(served.data).text == "hi"


def test_seconds_late_reads_the_deadline_header() -> None:
    assert bus.seconds_late({bus.DEADLINE_HEADER: "100.5"}, 101.0) == pytest.approx(0.5)
    assert bus.seconds_late({bus.DEADLINE_HEADER: "100.5"}, 100.0) is None
    assert bus.seconds_late({bus.DEADLINE_HEADER: "nan-ish"}, 100.0) is None
    assert bus.seconds_late(None, 100.0) is None


async def test_a_reply_too_big_for_nats_is_answered_500_at_once(nc) -> None:
    async def huge(req: Echo) -> Echoed:
        return Echoed(text=req.text * (nc.max_payload + 1))

    eps = bus.Endpoints(nc, "huge", "0.1.0")
    eps.add("rd.test.huge", Echo, huge)
    await eps.start()
    try:
        with pytest.raises(bus.BusError) as too_big:
            await bus.request(nc, "rd.test.huge", Echo(text="x"), Echoed, timeout=5)
        assert (too_big.value.code, too_big.value.message) == ("500", "The answer was too large to send.")
    finally:
        await eps.stop()


def test_max_in_flight_must_be_positive(nc) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        bus.Endpoints(nc, "x", "0.1.0").add("rd.test.x", Echo, echo, max_in_flight=0)
