"""The dashboard's Reports tab in Chromium, over chats driven through the real gateway
and services: patrons start chats over HTTP, operators claim and end them over the
websocket, one chat is left unanswered. An admin then reads the reports: the heatmap
puts the chats in their weekday × hour cell of the library's time zone, the tables
count them by department, operator and mode, the filters narrow them, and "Download
CSV" gives a file whose rows match the table. With the analytics service down the tab
says so calmly and the rest of the dashboard keeps working.

Real parts only: every service, the gateway, NATS, PostgreSQL and Debian's Chromium.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect
from websockets.asyncio.client import ClientConnection, connect

from gateway.server import serve as serve_gateway
from tests.e2e.test_shift import sign_in
from tests.support import eventually, running, running_system, wait_for_http

pytestmark = pytest.mark.e2e

TIME_ZONE = "Pacific/Auckland"  # far from UTC: a chat's local weekday often differs from its UTC one
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class Socket:
    """A websocket to the gateway that answers requests and ignores pushed frames."""

    _refs = itertools.count(1)

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, token: str) -> Socket:
        socket = cls(await connect(url, compression=None))
        await socket.ws.send(json.dumps({"type": "hello", "token": token}))
        while json.loads(await socket.ws.recv())["type"] != "welcome":
            pass
        return socket

    async def ok(self, frame: dict[str, Any]) -> Any:
        """Send ``frame`` with a fresh ref; the reply's data (fails on an error frame)."""
        ref = f"t{next(self._refs)}"
        await self.ws.send(json.dumps({**frame, "ref": ref}))
        while True:
            answer = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if answer.get("ref") == ref and answer["type"] in ("reply", "error"):
                assert answer["type"] == "reply", answer
                return answer["data"]


def filled_form(dataset: dict[str, Any], mode: str) -> dict[str, Any]:
    """Values for every required live field of ``dataset`` (``mode`` = ``mode``)."""
    values: dict[str, Any] = {"mode": mode}
    for field in dataset["fields"]:
        if field.get("archived") or not field.get("required") or field["key"] in values:
            continue
        kind = field["kind"]
        if "choice" in kind:
            values[field["key"]] = [field["options"][0]] if kind == "multiple_choice" else field["options"][0]
        elif kind in ("number", "read_scale"):
            values[field["key"]] = 2
        elif kind == "datetime":
            values[field["key"]] = datetime.now().date().isoformat()
        else:
            values[field["key"]] = "Answered by chat."
    return values


def local_cell(queued_at: str) -> tuple[int, int]:
    """(weekday 0 = Monday, hour) of a UTC ISO time in the library's time zone."""
    local = datetime.fromisoformat(queued_at.replace("Z", "+00:00")).astimezone(ZoneInfo(TIME_ZONE))
    return local.weekday(), local.hour


async def start_chat(http: httpx.AsyncClient, department: str, name: str) -> dict[str, Any]:
    answer = await http.post("/api/patron/chats", json={"department_id": department, "name": name,
                                                       "question": f"A question from {name} about old maps."})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def login(http: httpx.AsyncClient, username: str) -> str:
    answer = await http.post("/api/auth/login", json={"username": username, "password": "librarian"})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


async def open_reports(page: Page) -> None:
    await page.get_by_role("tab", name="Reports").click()
    await expect(page.get_by_test_id("reports")).to_be_visible()


def row(page: Page, table: str, key: str):
    return page.get_by_test_id(table).locator(f'[data-testid="report-row"][data-key="{key}"]')


async def test_reports_tab_counts_the_chats(servers, browser, tmp_path) -> None:
    async with running_system(servers, time_zone=TIME_ZONE) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        ws_url = f"ws://127.0.0.1:{stack.settings.gateway_port}/ws"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            ana = await Socket.open(ws_url, await login(http, "ana"))
            ben = await Socket.open(ws_url, await login(http, "ben"))
            await ana.ok({"type": "status.set", "status": "online", "monitored": ["reference", "circulation"]})
            await ben.ok({"type": "status.set", "status": "online", "monitored": ["reference", "archives"]})

            # Ana answers two Reference chats and one Circulation chat, Ben one Reference chat.
            answered = [("reference", ana), ("reference", ana), ("circulation", ana), ("reference", ben)]
            queued_at = []
            for number, (department, operator) in enumerate(answered, 1):
                created = await start_chat(http, department, f"Patron {number}")
                queued_at.append(created["chat"]["queued_at"])
                await operator.ok({"type": "chat.claim", "chat_id": created["chat_id"]})
                await operator.ok({"type": "chat.end", "chat_id": created["chat_id"]})
                if number == 1:  # her first chat gets a Reference Analytics record (mode Chat)
                    form = await operator.ok({"type": "ra.form", "chat_id": created["chat_id"]})
                    await operator.ok({"type": "ra.save", "chat_id": created["chat_id"], "dataset_id": form["dataset"]["id"],
                                       "values": filled_form(form["dataset"], "Chat")})
            # An Archives patron gives up before anyone claims: a missed chat.
            missed = await start_chat(http, "archives", "Patron 5")
            queued_at.append(missed["chat"]["queued_at"])
            patron = await Socket.open(ws_url, missed["token"])
            await patron.ok({"type": "chat.end", "chat_id": missed["chat_id"]})
            for socket in (ana, ben, patron):
                await socket.ws.close()
            admin_token = await login(http, "cleo")

        # Analytics has folded every event in.
        reports = f"http://127.0.0.1:{stack.settings.analytics_port}/api/reports"
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {admin_token}"}) as client:
            async def settled() -> bool:
                summary = (await client.get(f"{reports}/summary")).raise_for_status().json()["rows"][0]
                modes = (await client.get(f"{reports}/by-mode")).raise_for_status().json()["rows"]
                return summary["chats"] == 5 and summary["answered"] == 4 and summary["missed"] == 1 and bool(modes)
            await eventually(settled, what="analytics to count the five chats and the record")

        # Cleo (an admin: every department) opens the Reports tab.
        context = await browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
        page = await context.new_page()
        await sign_in(page, base, "cleo")
        await open_reports(page)
        await expect(page.get_by_test_id("reports-zone")).to_contain_text(TIME_ZONE)
        headline = page.get_by_test_id("headline")
        await expect(headline.locator('[data-stat="chats"] dd')).to_have_text("5")
        await expect(headline.locator('[data-stat="answered"] dd')).to_have_text("4")
        await expect(headline.locator('[data-stat="missed_rate"] dd')).to_have_text("20.0%")

        # The heatmap puts each chat in its local weekday × hour cell, and nowhere else.
        expected = Counter(local_cell(moment) for moment in queued_at)
        cells = page.get_by_test_id("heatmap-cell")
        await expect(cells).to_have_count(7 * 24)
        for (weekday, hour), count in expected.items():
            cell = page.locator(f'[data-testid="heatmap-cell"][data-weekday="{weekday}"][data-hour="{hour}"]')
            await expect(cell).to_have_attribute("data-count", str(count))
            await expect(cell.locator("title")).to_have_text(
                f"{WEEKDAYS[weekday]} {hour:02d}:00–{hour + 1:02d}:00: {count} chat{'s' if count > 1 else ''}")
        counts = await cells.evaluate_all("cells => cells.map(cell => Number(cell.dataset.count))")
        assert sum(counts) == 5
        # … and says the same as a table.
        heatmap_card = page.locator('[data-testid="report-card"][data-report="heatmap"]')
        await heatmap_card.get_by_test_id("table-toggle").click()
        weekday, hour = next(iter(expected))
        table_row = heatmap_card.get_by_test_id("heatmap-table").locator("tbody tr").nth(weekday)
        await expect(table_row.locator("th")).to_have_text(WEEKDAYS[weekday])
        await expect(table_row.locator("td").nth(hour)).to_have_text(str(expected[(weekday, hour)]))
        await heatmap_card.get_by_test_id("table-toggle").click()
        await expect(heatmap_card.get_by_test_id("table-toggle")).to_have_text("Show as table")
        await expect(heatmap_card.get_by_test_id("heatmap-table")).to_have_count(0)

        # Tables by department, operator and mode, with names rather than ids.
        reference = row(page, "table-department", "reference")
        await expect(reference.locator("th")).to_have_text("Reference")
        await expect(reference.locator("td").first).to_have_text("3")
        await expect(row(page, "table-department", "circulation").locator("td").first).to_have_text("1")
        archives = row(page, "table-department", "archives")
        await expect(archives.locator("td").nth(0)).to_have_text("1")  # chats
        await expect(archives.locator("td").nth(2)).to_have_text("1")  # missed
        operators = page.get_by_test_id("table-operator")
        await expect(operators.get_by_test_id("report-row")).to_have_count(2)
        await expect(operators.get_by_test_id("report-row").filter(has_text="Ana Alvarez").locator("td").first).to_have_text("3")
        await expect(operators.get_by_test_id("report-row").filter(has_text="Ben Okafor").locator("td").first).to_have_text("1")
        await expect(row(page, "table-mode", "Chat").locator("td")).to_have_text("1")
        # The first row is the busiest department; a click on "Chats" puts the quietest first.
        departments = page.get_by_test_id("table-department")
        await expect(departments.get_by_test_id("report-row").first).to_have_attribute("data-key", "reference")
        await departments.locator('[data-testid="sort-button"][data-column="chats"]').click()
        await expect(departments.locator('th[data-column="chats"]')).to_have_attribute("aria-sort", "ascending")
        await expect(departments.get_by_test_id("report-row").last).to_have_attribute("data-key", "reference")

        # Volume by month and the wait-time distribution count the same chats.
        month_bars = page.get_by_test_id("months-chart").get_by_test_id("bar")
        assert sum(int(v) for v in await month_bars.evaluate_all("bars => bars.map(b => b.dataset.value)")) == 5
        await expect(page.get_by_test_id("wait-stats").locator('[data-stat="n"] dd')).to_have_text("4")
        wait_bars = page.get_by_test_id("wait-histogram").get_by_test_id("bar")
        await expect(wait_bars.first).to_have_attribute("data-label", "0–30 s")
        assert sum(int(v) for v in await wait_bars.evaluate_all("bars => bars.map(b => b.dataset.value)")) == 4

        # "Download CSV" of the department table: a file whose rows are the table's.
        card = page.locator('[data-testid="report-card"][data-report="departments"]')
        async with page.expect_download() as info:
            await card.get_by_test_id("download-csv").click()
        download = await info.value
        assert download.suggested_filename.startswith("refdesk-by-department-")
        assert download.suggested_filename.endswith(".csv")
        path = tmp_path / download.suggested_filename
        await download.save_as(path)
        with path.open(newline="", encoding="utf-8") as file:
            rows = {line["department_id"]: line for line in csv.DictReader(file)}
        assert {key: int(line["chats"]) for key, line in rows.items()} == {"reference": 3, "circulation": 1, "archives": 1}
        assert int(rows["archives"]["missed"]) == 1
        await expect(card.get_by_test_id("download-status")).to_contain_text(download.suggested_filename)

        await page.screenshot(path=str(tmp_path / "reports-1440.png"))
        await page.set_viewport_size({"width": 1024, "height": 768})
        await page.screenshot(path=str(tmp_path / "reports-1024.png"))

        # The department filter narrows every card.
        await page.get_by_test_id("filter-department").select_option("reference")
        await page.get_by_test_id("filter-apply").click()
        await expect(headline.locator('[data-stat="chats"] dd')).to_have_text("3")
        await expect(page.get_by_test_id("table-department").get_by_test_id("report-row")).to_have_count(1)
        await expect(page.locator('[data-testid="heatmap-cell"]:not([data-count="0"])')).to_have_count(
            len(Counter(local_cell(moment) for moment, (department, _) in zip(queued_at, answered) if department == "reference")))

        # A period that ends before it starts is refused before asking anything.
        await page.get_by_test_id("filter-from").fill("2026-05-10")
        await page.get_by_test_id("filter-to").fill("2026-05-01")
        await page.get_by_test_id("filter-apply").click()
        await expect(page.get_by_test_id("filter-error")).to_have_text("The start date must be on or before the end date.")

        # A period without chats says so.
        await page.get_by_test_id("filter-from").fill("2020-01-01")
        await page.get_by_test_id("filter-to").fill("2020-01-31")
        await page.get_by_test_id("filter-apply").click()
        await expect(page.get_by_test_id("filter-error")).to_be_hidden()
        await expect(heatmap_card.get_by_test_id("report-empty")).to_have_text("No chats in this period.")
        await expect(headline.locator('[data-stat="chats"] dd')).to_have_text("0")
        await context.close()


async def test_reports_tab_without_the_analytics_service(servers, browser) -> None:
    # every service but analytics, and the gateway: the reporting API does not answer
    async with running(servers, "queue", "chat", "tickets", patron_chat_limit=100_000) as stack:
        stop = asyncio.Event()
        task = asyncio.create_task(serve_gateway(stack.settings, stop))
        try:
            base = f"http://127.0.0.1:{stack.settings.gateway_port}"
            await wait_for_http(f"{base}/dashboard/", task)
            page = await browser.new_page(viewport={"width": 1024, "height": 768})
            await sign_in(page, base, "ana")
            await open_reports(page)
            unavailable = page.get_by_test_id("reports-unavailable")
            await expect(unavailable).to_contain_text("Reports are unavailable right now.")
            await expect(page.get_by_test_id("report-card").first).to_be_hidden()
            # Try again asks again, and still says so.
            await page.get_by_test_id("reports-retry").click()
            await expect(unavailable).to_be_visible()
            # The rest of the dashboard is untouched: back to Patron Chats, still Online.
            await page.get_by_role("tab", name="Patron Chats").click()
            await expect(page.get_by_test_id("queue-empty")).to_be_visible()
            await expect(page.get_by_test_id("status-select")).to_have_value("online")
            await page.close()
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
