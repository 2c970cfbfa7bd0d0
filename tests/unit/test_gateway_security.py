"""The security headers middleware: every HTTP response carries the CSP and nosniff,
including the 500 answering an exception that escaped the application."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from gateway.security import INTERNAL_ERROR, SecurityHeaders

ANALYTICS = "http://127.0.0.1:8081"


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")


async def failing_mid_response(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    raise RuntimeError("the body could not be produced")


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"fine"})


def client(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=SecurityHeaders(app, analytics_origin=ANALYTICS), raise_app_exceptions=True)
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def test_an_escaped_exception_is_a_json_500_with_the_security_headers() -> None:
    async with client(failing_app) as http:
        for path in ("/api/patron/chats", "/patron/"):
            response = await http.post(path)
            assert response.status_code == 500
            assert response.json() == {"detail": INTERNAL_ERROR}
            assert "default-src 'self'" in response.headers["content-security-policy"]
            assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors *" in response.headers["content-security-policy"]


async def test_an_exception_after_the_response_started_still_propagates() -> None:
    async with client(failing_mid_response) as http:
        with pytest.raises(RuntimeError):
            await http.get("/")


async def test_ordinary_responses_get_the_headers() -> None:
    async with client(ok_app) as http:
        response = await http.get("/dashboard/")
    assert response.text == "fine"
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
