"""Constants of the queue service."""

from __future__ import annotations

SCHEMA = "queue"
"""PostgreSQL schema the service owns."""

BOARD_MAX_CHATS = 500
"""Most chats one board answer lists (queued and active chats, oldest first)."""
