"""``GET /api/config``: where the staff dashboard finds the analytics reporting API and
the library's time zone — for operators only — and the CSP that lets the dashboard
call exactly that origin. Real gateway, services, NATS and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from tests.support import running_system

pytestmark = pytest.mark.integration


async def test_config_tells_operators_where_reports_are(servers) -> None:
    async with running_system(servers, time_zone="Europe/Lisbon", analytics_host="127.0.0.1") as stack:
        settings = stack.settings
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.gateway_port}", timeout=10) as http:
            login = await http.post("/api/auth/login", json={"username": "ana", "password": "librarian"})
            token = login.json()["token"]

            answer = await http.get("/api/config", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
            origin = f"http://127.0.0.1:{settings.analytics_port}"
            assert answer.json()["analytics_url"] == origin
            assert answer.json()["time_zone"] == "Europe/Lisbon"
            # the dashboard page may connect to exactly that origin
            page = await http.get("/dashboard/")
            connect_src = next(part for part in page.headers["content-security-policy"].split("; ")
                               if part.startswith("connect-src"))
            assert origin in connect_src.split()

            # the reporting API answers the dashboard's origin, with the token, and lets it read the file name
            async with httpx.AsyncClient(timeout=10) as analytics:
                reports = await analytics.get(
                    f"{origin}/api/reports/summary", params={"format": "csv"},
                    headers={"Authorization": f"Bearer {token}", "Origin": f"http://127.0.0.1:{settings.gateway_port}"})
            assert reports.status_code == 200
            assert reports.headers["access-control-allow-origin"] == f"http://127.0.0.1:{settings.gateway_port}"
            assert "content-disposition" in reports.headers["access-control-expose-headers"].lower()

            # operators only
            missing = await http.get("/api/config")
            assert missing.status_code == 401
            assert missing.json()["detail"] == "Sign in first."
            patron = await http.post("/api/patron/chats", json={"department_id": "reference", "name": "Pat",
                                                                "question": "Where is the atlas?"})
            refused = await http.get("/api/config", headers={"Authorization": f"Bearer {patron.json()['token']}"})
            assert refused.status_code == 403
            assert refused.json()["detail"] == "Only library staff can do that."
