"""Latency benchmark of a reference shift through the real stack.

Starts embedded NATS + PostgreSQL, every service and the gateway in this process
(as the test suite does), then measures over websockets on loopback:

1. **queued → seen**: a patron's ``POST /api/patron/chats`` until an online operator
   monitoring the department receives the ``chat.update`` (target: under 1 s);
2. **send → ack**: ``chat.send`` until the sender's ``reply`` (stored, seq assigned);
3. **send → delivered**: ``chat.send`` until the other side receives the ``message``.

Run: ``.venv/bin/python -m benchmarks.shift_latency [--chats 50] [--messages 400] [--rate 50]``.
Prints p50 / p95 / p99 / max in milliseconds. Loopback only, bounded counts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from refdesk import embedded
from tests.support import Servers, running_system


def summary(name: str, samples_ms: list[float]) -> str:
    """One line: count, p50, p95, p99 and max of ``samples_ms`` (milliseconds)."""
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return (f"{name:<22} n={len(ordered):<5} p50={q[49]:7.1f} ms  p95={q[94]:7.1f} ms  "
            f"p99={q[98]:7.1f} ms  max={ordered[-1]:7.1f} ms")


class Socket:
    """A websocket client that routes frames to waiters by predicate."""

    refs = itertools.count(1)

    def __init__(self, ws) -> None:
        self.ws = ws
        self.waiters: list[tuple[object, asyncio.Future]] = []
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, token: str) -> "Socket":
        ws = await connect(url, max_size=2**20)
        await ws.send(json.dumps({"type": "hello", "token": token}))
        sock = cls(ws)
        await sock.wait(lambda f: f["type"] == "welcome")
        return sock

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                frame = json.loads(raw)
                for entry in list(self.waiters):
                    predicate, future = entry
                    if not future.done() and predicate(frame):
                        future.set_result(frame)
                        self.waiters.remove(entry)

    def waiter(self, predicate) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((predicate, future))
        return future

    async def wait(self, predicate, timeout: float = 10.0) -> dict:
        return await asyncio.wait_for(self.waiter(predicate), timeout)

    async def request(self, frame: dict) -> asyncio.Future:
        ref = f"r{next(self.refs)}"
        future = self.waiter(lambda f: f.get("ref") == ref and f["type"] in ("reply", "error"))
        await self.ws.send(json.dumps({**frame, "ref": ref}))
        return future

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def run(chats: int, messages: int, rate: float) -> None:
    state = Path(tempfile.mkdtemp(prefix="refdesk-bench-"))
    pg = embedded.start_postgres(state)
    started = [pg]

    def start_nats() -> str:
        started.append(embedded.start_nats(state / f"nats-{len(started)}"))
        return started[-1].url

    base_url = pg.url.rpartition("/")[0]
    try:
        async with running_system(Servers(start_nats(), f"{base_url}/postgres", start_nats)) as stack:
            base = f"http://127.0.0.1:{stack.settings.gateway_port}"
            ws_url = f"ws://127.0.0.1:{stack.settings.gateway_port}/ws"
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                token = (await http.post("/api/auth/login", json={"username": "cleo", "password": "librarian"})).json()["token"]
                operator = await Socket.open(ws_url, token)
                await (await operator.request({"type": "status.set", "status": "online", "monitored": ["reference"]}))

                seen_ms: list[float] = []
                last = None
                for n in range(chats):
                    name = f"Bench Patron {n}"  # the update can arrive before the HTTP answer
                    seen = operator.waiter(lambda f, name=name: f["type"] == "chat.update"
                                           and f["event"] == "queued" and f["chat"]["patron_name"] == name)
                    t0 = time.perf_counter()
                    body = {"department_id": "reference", "name": name, "question": "How late are you open?"}
                    created = (await http.post("/api/patron/chats", json=body)).json()
                    await asyncio.wait_for(seen, 10)
                    seen_ms.append((time.perf_counter() - t0) * 1000)
                    last = created
                print(summary("queued → seen", seen_ms))

                chat_id = last["chat_id"]
                await (await operator.request({"type": "chat.claim", "chat_id": chat_id}))
                await (await operator.request({"type": "chat.subscribe", "chat_id": chat_id, "after_seq": 0}))
                patron = await Socket.open(ws_url, last["token"])
                await (await patron.request({"type": "chat.subscribe", "chat_id": chat_id, "after_seq": 0}))

                ack_ms: list[float] = []
                delivered_ms: list[float] = []
                interval = 1.0 / rate

                async def one(n: int) -> None:
                    sender, receiver = (patron, operator) if n % 2 else (operator, patron)
                    cmid = f"bench-{n}"
                    arrived = receiver.waiter(lambda f: f["type"] == "message" and f["message"]["cmid"] == cmid)
                    t0 = time.perf_counter()
                    ack = await sender.request({"type": "chat.send", "chat_id": chat_id, "cmid": cmid, "body": f"message {n}"})
                    reply = await asyncio.wait_for(ack, 10)
                    ack_ms.append((time.perf_counter() - t0) * 1000)
                    assert reply["type"] == "reply", reply
                    await asyncio.wait_for(arrived, 10)
                    delivered_ms.append((time.perf_counter() - t0) * 1000)

                tasks = []
                t_start = time.perf_counter()
                for n in range(messages):
                    tasks.append(asyncio.create_task(one(n)))
                    await asyncio.sleep(max(0.0, t_start + (n + 1) * interval - time.perf_counter()))
                await asyncio.gather(*tasks)
                print(summary(f"send → ack @{rate:g}/s", ack_ms))
                print(summary(f"send → delivered @{rate:g}/s", delivered_ms))
                await patron.close()
                await operator.close()
    finally:
        for server in reversed(started):
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second")
    args = parser.parse_args()
    asyncio.run(run(args.chats, args.messages, args.rate))


if __name__ == "__main__":
    main()
