"""Test session fixtures: real NATS (JetStream) and PostgreSQL.

``NATS_URL`` / ``DATABASE_URL`` in the environment point the tests at external
servers; otherwise the embedded servers from the project's own dependencies start in
a temporary folder (no Docker, no system services needed). Integration tests that use
embedded NATS get a fresh server each, so JetStream state never leaks between tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from refdesk import embedded
from tests.support import Servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    started: list[embedded.Server] = []
    state = Path(tmp_path_factory.mktemp("refdesk-state"))
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        pg = embedded.start_postgres(state)
        started.append(pg)
        base, _, _ = pg.url.rpartition("/")
        database_url = f"{base}/postgres"
    external_nats = os.environ.get("NATS_URL")
    counter = iter(range(10_000))

    def start_nats() -> str:
        if external_nats:
            return external_nats
        server = embedded.start_nats(state / f"nats-{next(counter)}")
        started.append(server)
        return server.url

    try:
        yield Servers(start_nats() if not external_nats else external_nats, database_url, start_nats)
    finally:
        for server in reversed(started):
            server.stop()
