"""Structured logging for every refdesk process (structlog over the stdlib logger)."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(service: str, *, level: str = "INFO", fmt: str = "console") -> structlog.stdlib.BoundLogger:
    """Set up structlog for this process and return a logger bound to ``service``.

    Args:
        service: name shown on every line (``queue``, ``gateway`` …).
        level: stdlib level name.
        fmt: ``console`` for humans, ``json`` for log shippers.
    """
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    return structlog.get_logger().bind(service=service)
