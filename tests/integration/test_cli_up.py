"""``refdesk up``: one command starts everything on embedded defaults, prints where to
open it, stops cleanly on Ctrl-C, and a second start keeps the data."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets

from refdesk.embedded import free_port

pytestmark = pytest.mark.integration


def start_up(state: Path, gateway_port: int, analytics_port: int, **urls: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Run ``refdesk up`` until it says it is up; ``urls`` may set NATS_URL / DATABASE_URL."""
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL", "RD_NATS_URL", "RD_DATABASE_URL")}
    env.update(RD_STATE_DIR=str(state), RD_GATEWAY_PORT=str(gateway_port), RD_ANALYTICS_PORT=str(analytics_port), **urls)
    proc = subprocess.Popen(
        [sys.executable, "-m", "refdesk.cli", "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 90
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "Press Ctrl-C to stop" in line:
            return proc, lines
    proc.kill()
    raise AssertionError("refdesk up did not become ready:\n" + "\n".join(lines))


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    return out


def test_up_prints_urls_serves_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    gateway_port, analytics_port = free_port(), free_port()
    base = f"http://127.0.0.1:{gateway_port}"
    proc, lines = start_up(tmp_path, gateway_port, analytics_port)
    try:
        printed = "\n".join(lines)
        assert f"{base}/dashboard/" in printed
        assert f"{base}/demo/" in printed
        assert "ana" in printed and "librarian" in printed
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
        assert "refdesk" in httpx.get(f"{base}/dashboard/").text.lower()
        login = httpx.post(f"{base}/api/auth/login", json={"username": "ana", "password": "librarian"})
        assert login.status_code == 200
        created = httpx.post(f"{base}/api/patron/chats", json={
            "department_id": "reference", "name": "Rita", "question": "Opening hours on Sunday?"})
        assert created.status_code == 201
        chat_id = created.json()["chat_id"]
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert "Stopped." in out

    proc, _ = start_up(tmp_path, gateway_port, analytics_port)
    try:
        token = httpx.post(f"{base}/api/auth/login", json={"username": "ana", "password": "librarian"}).json()["token"]
        # the chat queued before the restart is still there, on the operator's board
        async def board() -> list[str]:
            async with websockets.connect(f"ws://127.0.0.1:{gateway_port}/ws") as ws:
                await ws.send(json.dumps({"type": "hello", "token": token}))
                await ws.send(json.dumps({"type": "status.set", "ref": "s", "status": "online", "monitored": ["reference"]}))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if frame["type"] == "board" and frame["chats"]:
                        return [c["id"] for c in frame["chats"]]

        assert chat_id in asyncio.run(board())
    finally:
        stop(proc)
    assert proc.returncode == 0


async def test_up_uses_external_servers_from_the_environment(servers, tmp_path: Path) -> None:
    nats_url = await servers.fresh_nats()
    database_url = servers.database_url.rpartition("/")[0] + f"/refdesk_external_{free_port()}"
    gateway_port = free_port()
    proc, lines = await asyncio.to_thread(
        start_up, tmp_path, gateway_port, free_port(), NATS_URL=nats_url, DATABASE_URL=database_url)
    try:
        printed = "\n".join(lines)
        assert f"using NATS at {nats_url}" in printed
        assert f"using PostgreSQL at {database_url}" in printed
        assert not (tmp_path / "nats").exists() and not (tmp_path / "postgres").exists()
        login = httpx.post(f"http://127.0.0.1:{gateway_port}/api/auth/login", json={"username": "ben", "password": "librarian"})
        assert login.status_code == 200
    finally:
        out = await asyncio.to_thread(stop, proc)
    assert proc.returncode == 0, out
