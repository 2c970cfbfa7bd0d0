"""Internal Chat in Chromium, as two operators see it: the staff list with statuses and
active chat counts, a direct chat (unread badge, the Internal Chat sound, reading
clears it), department rooms only for their members, "Load earlier", a dropped
connection that lost messages (replayed once each after the reconnect), and the
``rd:open-internal`` event another part of the dashboard fires.

Real parts only: every service, the gateway, NATS, PostgreSQL and Debian's Chromium.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from refdesk import bus
from refdesk.contracts import chat as c
from refdesk.contracts.queue import OPERATORS_LIST, OperatorList, OperatorsListRequest
from tests.e2e.test_shift import sign_in
from tests.support import running_system

pytestmark = pytest.mark.e2e


class Link:
    """Ben's websocket, passed through the test: it can lose server frames and drop."""

    def __init__(self) -> None:
        self.losing = False
        self.current: WebSocketRoute | None = None

    def route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        server.on_message(lambda message: None if self.losing else ws.send(message))
        self.current = ws

    async def drop(self) -> None:
        self.losing = False
        assert self.current is not None
        await self.current.close(code=4000, reason="test drops the connection")


def room(page: Page, name: str):
    return page.get_by_test_id("internal-room").filter(has=page.locator(".rooms__name", has_text=re.compile(f"^{name}$")))


def staff(page: Page, name: str):
    return page.get_by_test_id("staff-entry").filter(has=page.locator(".staff__name", has_text=re.compile(f"^{name}$")))


async def say(page: Page, text: str) -> None:
    box = page.get_by_test_id("internal-room-view").get_by_test_id("reply-box")
    await box.fill(text)
    await box.press("Enter")


async def test_internal_chat_between_two_operators(servers, browser) -> None:
    async with running_system(servers) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        ana_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        ben_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        ana, ben = await ana_ctx.new_page(), await ben_ctx.new_page()
        link = Link()
        await ben.route_web_socket(re.compile(r"/ws$"), link.route)  # lets the test cut Ben's connection
        await sign_in(ana, base, "ana")
        await sign_in(ben, base, "ben")

        # Ben's staff list: Ana online with no active chats, Cleo offline; not himself.
        await ben.get_by_test_id("tab-internal").click()
        await expect(staff(ben, "Ana")).to_have_attribute("data-status", "online")
        await expect(staff(ben, "Ana").get_by_test_id("staff-active")).to_have_text("No active chats")
        await expect(staff(ben, "Cleo").get_by_test_id("staff-status")).to_have_text("Offline")
        await expect(staff(ben, "Ben")).to_have_count(0)

        # Ana claims a patron chat: Ben sees her count go up, live.
        async with httpx.AsyncClient(base_url=base) as http:
            created = await http.post("/api/patron/chats", json={
                "department_id": "circulation", "name": "Pat Reader", "question": "Can I renew my loans?"})
            assert created.status_code == 201, created.text
        await ana.get_by_test_id("chat-row").filter(has_text="Pat Reader").get_by_test_id("claim-button").click()
        await expect(staff(ben, "Ana").get_by_test_id("staff-active")).to_have_text("1 active chat")

        # Ana opens a direct chat with Ben from the staff list and writes.
        await ana.get_by_test_id("tab-internal").click()
        await staff(ana, "Ben").click()
        await expect(ana.get_by_test_id("internal-room-title")).to_have_text("Ben")
        await say(ana, "Hi Ben, can you cover the desk at 3?")
        await expect(ana.get_by_test_id("message").filter(has_text="cover the desk")).to_have_attribute(
            "data-seq", "1")

        # Ben, looking at the staff list, gets the unread badges and the Internal Chat sound.
        await expect(ben.get_by_test_id("internal-unread")).to_have_text("1")
        await expect(room(ben, "Ana").get_by_test_id("room-unread")).to_have_text("1")
        await expect(room(ben, "Ana").get_by_test_id("room-preview")).to_have_text(
            "Ana: Hi Ben, can you cover the desk at 3?")
        await expect(ben.locator("body")).to_have_attribute("data-internal-alerts", "1")
        assert await ben.locator("body").get_attribute("data-alerts") in (None, "0")  # not the patron chime

        # He opens it, reads it (badges clear) and answers; Ana, looking at the room, gets no badge.
        await room(ben, "Ana").click()
        await expect(ben.get_by_test_id("message").filter(has_text="cover the desk")).to_be_visible()
        await expect(ben.get_by_test_id("internal-unread")).to_have_text("")
        await expect(room(ben, "Ana").get_by_test_id("room-unread")).to_be_hidden()
        await say(ben, "Sure, I'll be there.")
        await expect(ana.get_by_test_id("message").filter(has_text="I'll be there")).to_be_visible()
        await expect(ana.get_by_test_id("internal-unread")).to_have_text("")
        assert await ana.locator("body").get_attribute("data-internal-alerts") is None
        # the read marker was stored: a reload shows no unread
        await ben.reload()
        await ben.get_by_test_id("tab-internal").click()
        await expect(room(ben, "Ana").get_by_test_id("room-preview")).to_have_text("You: Sure, I'll be there.")
        await expect(room(ben, "Ana").get_by_test_id("room-unread")).to_be_hidden()

        # Department rooms: each operator sees only their own departments'.
        await expect(room(ana, "Circulation")).to_be_visible()
        await expect(room(ben, "Circulation")).to_have_count(0)
        await expect(room(ben, "Archives")).to_be_visible()
        await expect(room(ana, "Archives")).to_have_count(0)
        await room(ben, "Reference").click()
        await say(ben, "Reference meeting at 4 in the workroom.")
        await expect(room(ana, "Reference").get_by_test_id("room-unread")).to_have_text("1")
        await expect(ana.get_by_test_id("internal-unread")).to_have_text("1")
        await room(ana, "Reference").click()
        await expect(ana.get_by_test_id("message").filter(has_text="Reference meeting")).to_contain_text("Ben")
        await expect(ana.get_by_test_id("internal-unread")).to_have_text("")

        # "Load earlier" in All Staff, after 55 messages.
        ids = {o.nickname: o.id for o in (await bus.request(
            stack.nc, OPERATORS_LIST, OperatorsListRequest(), OperatorList)).operators}
        cleo = {"operator_id": ids["Cleo"], "department_ids": ["archives", "circulation", "reference"]}
        all_staff = (await bus.request(stack.nc, c.INTERNAL_ROOMS, c.InternalRoomsRequest(**cleo),
                                       c.InternalRoomList)).rooms[0]
        for n in range(1, 56):
            await bus.request(stack.nc, c.INTERNAL_SEND, c.InternalSendRequest(
                **cleo, room_id=all_staff.id, cmid=f"note-{n}", author_name="Cleo", body=f"Notice {n}"),
                c.InternalSendAck)
        await expect(room(ben, "All Staff").get_by_test_id("room-unread")).to_have_text("55")
        await room(ben, "All Staff").click()
        view = ben.get_by_test_id("internal-room-view")
        await expect(view.get_by_test_id("message")).to_have_count(50)
        await expect(view.get_by_test_id("message").first).to_contain_text("Notice 6")
        await view.get_by_test_id("load-earlier").click()
        await expect(view.get_by_test_id("message")).to_have_count(55)
        await expect(view.get_by_test_id("message").first).to_contain_text("Notice 1")
        await expect(view.get_by_test_id("load-earlier")).to_be_hidden()
        await expect(ben.get_by_test_id("internal-unread")).to_have_text("")

        # Another part of the dashboard asks to open a room (the transfer dialog does).
        await ana.get_by_test_id("tab-patron").click()
        await ana.evaluate("""() => document.dispatchEvent(
            new CustomEvent("rd:open-internal", {detail: {departmentId: "circulation"}}))""")
        await expect(ana.get_by_test_id("tab-internal")).to_have_attribute("aria-selected", "true")
        await expect(ana.get_by_test_id("internal-room-title")).to_have_text("Circulation")
        await ana.get_by_test_id("tab-patron").click()
        await ana.evaluate(f"""() => document.dispatchEvent(
            new CustomEvent("rd:open-internal", {{detail: {{operatorId: "{ids['Ben']}"}}}}))""")
        await expect(ana.get_by_test_id("internal-room-title")).to_have_text("Ben")
        await expect(ana.get_by_test_id("message").filter(has_text="I'll be there")).to_be_visible()

        # Ben's connection silently loses two messages, then drops: after reconnecting he
        # gets exactly the missed ones (each once), from where he was.
        await room(ben, "Ana").click()
        link.losing = True
        await say(ana, "First while you were away")
        await say(ana, "Second while you were away")
        await expect(ana.get_by_test_id("message").filter(has_text="while you were away")).to_have_count(2)
        await expect(ben.get_by_test_id("message").filter(has_text="while you were away")).to_have_count(0)
        await link.drop()
        await expect(ben.get_by_test_id("connection")).to_be_hidden()
        view = ben.get_by_test_id("internal-room-view")
        await expect(view.get_by_test_id("message").filter(has_text="while you were away")).to_have_count(2)
        seqs = [int(s) for s in await view.get_by_test_id("message").evaluate_all("els => els.map(e => e.dataset.seq)")]
        assert seqs == sorted(set(seqs)) and seqs[-2:] == [3, 4]

        # Ana goes Offline: Ben's staff list says so.
        await ana.get_by_test_id("status-select").select_option("offline")
        await expect(staff(ben, "Ana").get_by_test_id("staff-status")).to_have_text("Offline")
        await ana_ctx.close()
        await ben_ctx.close()
