"""Identifiers: time-ordered, URL- and NATS-subject-safe strings."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """Return a new 32-character lowercase hex id whose first 12 digits are the
    creation time in milliseconds (so ids sort by creation, like UUIDv7)."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"
