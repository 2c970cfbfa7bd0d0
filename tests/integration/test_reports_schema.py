"""The analytics HTTP API checked against its own OpenAPI schema with schemathesis:
every operation, generated parameters (valid and invalid), an admin token, the real
service on real NATS and PostgreSQL with the generated history loaded. Bounded for CI:
a few dozen examples per operation."""

from __future__ import annotations

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from refdesk import auth
from refdesk.bus import request
from refdesk.contracts import queue
from tests.integration import reports_history
from tests.support import running

pytestmark = pytest.mark.integration

EXAMPLES = 15


def check_every_operation(base_url: str, token: str) -> list[str]:
    """Run schemathesis over every operation (in a thread: the server runs on the test's
    event loop); return the operations checked."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            # Every check but "schema-valid request accepted": a report range whose `from` is after
            # its `to`, or longer than the limit, is valid per schema yet refused with a 422 sentence.
            case.call_and_validate(base_url=base_url, headers=headers, excluded_checks=[positive_data_acceptance])

        check()
        checked.append(f"{operation.method.upper()} {operation.path}")
    return checked


@pytest.mark.timeout(400)  # ~22 operations × 15 examples on a shared 2-core machine
async def test_the_api_conforms_to_its_openapi_schema(servers) -> None:
    async with running(servers, "queue", "analytics", time_zone="America/New_York") as stack:
        await reports_history.publish(stack.nc, reports_history.build("s"))
        admin = await request(stack.nc, queue.AUTHENTICATE,
                              queue.AuthenticateRequest(username="cleo", password="librarian"), queue.OperatorProfile)
        token = auth.issue_token(stack.settings.jwt_secret, subject=admin.id, role="operator", name="Cleo",
                                 ttl_seconds=3600)
        base_url = f"http://127.0.0.1:{stack.settings.analytics_port}"
        checked = await asyncio.to_thread(check_every_operation, base_url, token)
        assert {"GET /api/reports/summary", "GET /api/reports/weekday-hour", "GET /api/reports/chats",
                "GET /api/reports/coverage", "POST /api/admin/rebuild"} <= set(checked)


