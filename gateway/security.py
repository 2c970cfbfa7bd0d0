"""Security headers on every HTTP response: a strict Content-Security-Policy and
``X-Content-Type-Options: nosniff`` — error responses included: an exception that
escapes the application is answered here, as JSON ``500`` with the headers, rather
than by the server's bare plain-text page.

The policy allows only the gateway's own scripts, styles and images (no inline
scripts or styles), websocket and fetch connections to the gateway and to the
analytics reporting API. Only the patron chat page (``/patron/``) may be framed by
other sites — the widget frames it on library pages; every other page only by the
gateway itself.
"""

from __future__ import annotations

import structlog
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from refdesk.settings import Settings

log = structlog.get_logger()

FRAMEABLE_PREFIX = "/patron"
INTERNAL_ERROR = "Something went wrong on our side; please try again."


def analytics_origin(settings: Settings) -> str:
    """``http://<analytics_host>:<analytics_port>``: where browsers reach the analytics
    reporting API (allowed by the CSP, told to the dashboard by ``GET /api/config``)."""
    return f"http://{settings.analytics_host}:{settings.analytics_port}"


def content_security_policy(analytics_origin: str, *, frame_ancestors: str) -> str:
    """The CSP header value.

    Args:
        analytics_origin: ``http://<analytics_host>:<analytics_port>``, allowed in
            ``connect-src`` so the dashboard can read reports.
        frame_ancestors: ``*`` for the patron page, ``'self'`` elsewhere.
    """
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"connect-src 'self' ws: wss: {analytics_origin}",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


class SecurityHeaders:
    """ASGI middleware adding the CSP and ``nosniff`` to every HTTP response
    (websockets pass through untouched). An exception raised before the response
    started is logged and answered ``500 {"detail": INTERNAL_ERROR}`` with the
    headers; one raised mid-response propagates (the status is already sent)."""

    def __init__(self, app: ASGIApp, *, analytics_origin: str) -> None:
        self.app = app
        self._framed = content_security_policy(analytics_origin, frame_ancestors="*")
        self._default = content_security_policy(analytics_origin, frame_ancestors="'self'")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        frameable = path == FRAMEABLE_PREFIX or path.startswith(FRAMEABLE_PREFIX + "/")
        policy = self._framed if frameable else self._default

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Content-Type-Options"] = "nosniff"
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            log.exception("http.failed", method=scope.get("method"), path=path)
            await JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)(scope, receive, send_with_headers)
