"""Constants of the queue service."""

from __future__ import annotations

SCHEMA = "queue"
"""PostgreSQL schema the service owns."""

BOARD_MAX_CHATS = 500
"""Most chats one board answer lists (queued and active chats, oldest first); the
answer is also cut at :data:`refdesk.contracts.queue.BOARD_MAX_BYTES` of JSON."""

AUTHENTICATE_MAX_IN_FLIGHT = 4
"""Password checks (Argon2id: tens of ms of CPU and 64 MiB of memory each) running at
once; more sign-ins wait for their turn without holding up the other endpoints."""
