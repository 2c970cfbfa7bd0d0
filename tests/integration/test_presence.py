"""Operator presence: an Online operator whose dashboards are all gone is set
Offline after the presence timeout, so patrons are not told someone is there."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect

from refdesk import bus
from refdesk.contracts.queue import (
    AUTHENTICATE, OPERATOR_GET, OPERATOR_STATUS, PRESENCE, AuthenticateRequest, OperatorProfile, OperatorRef, PresenceHeartbeat, SetStatusRequest,
)
from tests.support import eventually, running, running_system

pytestmark = pytest.mark.integration

FAST = {"presence_timeout_seconds": 1.0, "presence_heartbeat_seconds": 0.2}


async def operator_id(nc, username: str) -> str:
    return (await bus.request(nc, AUTHENTICATE, AuthenticateRequest(username=username, password="librarian"),
                              OperatorProfile)).id


async def status(nc, op: str) -> str:
    return (await bus.request(nc, OPERATOR_GET, OperatorRef(operator_id=op), OperatorProfile)).status


async def test_heartbeats_keep_an_operator_online_and_silence_sets_them_offline(servers) -> None:
    async with running(servers, "queue", **FAST) as stack:
        nc = stack.nc
        ana, ben = await operator_id(nc, "ana"), await operator_id(nc, "ben")
        seen: list[dict] = []

        async def collect(msg) -> None:
            seen.append(json.loads(msg.data)["operator"])

        await nc.subscribe("rd.ev.queue.operator.*.status", cb=collect)
        for op in (ana, ben):
            await bus.request(nc, OPERATOR_STATUS, SetStatusRequest(operator_id=op, status="online"), OperatorProfile)
        # a gateway keeps listing Ana, never Ben, for three timeouts
        for _ in range(15):
            await nc.publish(PRESENCE, PresenceHeartbeat(operator_ids=[ana]).model_dump_json().encode())
            await nc.flush()
            await asyncio.sleep(0.2)
        assert await status(nc, ana) == "online"
        assert await status(nc, ben) == "offline"
        # Ben went Offline through the usual status event, his departments kept for next time
        offline = [p for p in seen if p["id"] == ben and p["status"] == "offline"]
        assert offline and offline[-1]["monitored"] == ["archives", "reference"]
        # silence for Ana too: she goes Offline
        await eventually(lambda: _is(nc, ana, "offline"), timeout=10, what="Ana offline")


async def _is(nc, op: str, wanted: str) -> bool:
    return await status(nc, op) == wanted


async def test_closing_the_last_dashboard_takes_the_department_offline_for_patrons(servers) -> None:
    async with running_system(servers, **FAST) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        async with httpx.AsyncClient(base_url=base) as http:
            token = (await http.post("/api/auth/login", json={"username": "ben", "password": "librarian"})).json()["token"]

            async def archives_online() -> bool:
                departments = (await http.get("/api/departments")).json()["departments"]
                return next(d["online"] for d in departments if d["id"] == "archives")

            async with connect(f"ws://127.0.0.1:{stack.settings.gateway_port}/ws") as ws:
                await ws.send(json.dumps({"type": "hello", "token": token}))
                await ws.send(json.dumps({"type": "status.set", "ref": "s", "status": "online"}))
                await eventually(archives_online, timeout=5, what="Archives online")
                # with the dashboard open, Ben stays Online well past the timeout
                await asyncio.sleep(2.5)
                assert await archives_online()
            # the tab is closed: after the timeout the widget says nobody is there
            await eventually(lambda: _not(archives_online), timeout=10, what="Archives offline")


async def _not(probe) -> bool:
    return not await probe()
