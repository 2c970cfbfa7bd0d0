"""A client of the analytics HTTP reporting API signed in as a real demo operator
(services/queue/seed.py): the API looks the token's operator up in the queue service
to decide which departments they see, so the queue must be running."""

from __future__ import annotations

import httpx

from refdesk import auth
from refdesk.bus import request
from refdesk.contracts import queue
from services.queue.seed import DEMO_PASSWORD
from tests.support import Stack


async def operator_profile(stack: Stack, username: str) -> queue.OperatorProfile:
    """The profile of demo operator ``username`` (ana, ben, cleo — cleo is an admin)."""
    return await request(stack.nc, queue.AUTHENTICATE,
                         queue.AuthenticateRequest(username=username, password=DEMO_PASSWORD), queue.OperatorProfile)


async def operator_api(stack: Stack, username: str) -> httpx.AsyncClient:
    """An HTTP client of the reporting API carrying a fresh operator token of demo
    operator ``username``; use it as ``async with await operator_api(...) as api``."""
    profile = await operator_profile(stack, username)
    token = auth.issue_token(stack.settings.jwt_secret, subject=profile.id, role="operator",
                             name=profile.nickname, ttl_seconds=600)
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.analytics_port}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=10.0)
