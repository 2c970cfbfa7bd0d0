"""The whole operator shift in Chromium: a patron asks from the widget page, two
operators see the chat with an alert, one claims it, welcomes the patron with the
department's canned message, they chat with typing indicators, the operator ends the
chat, fills in the Reference Analytics form and closes it.

Real parts only: every service, the gateway, NATS, PostgreSQL and Debian's Chromium.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.analytics_api import operator_api
from tests.support import running_system

pytestmark = pytest.mark.e2e


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/dashboard/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill("librarian")
    await page.get_by_role("button", name="Sign in").click()
    # signing in puts the operator Online with their departments, as LibChat does
    await expect(page.get_by_test_id("status-select")).to_have_value("online")
    await expect(page.get_by_test_id("department-checkbox").first).to_be_checked()


async def test_operator_shift_end_to_end(servers, browser, tmp_path) -> None:
    async with running_system(servers) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        ana_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        ben_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        patron_ctx = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
        ana, ben, patron = await ana_ctx.new_page(), await ben_ctx.new_page(), await patron_ctx.new_page()

        # Operators sign in with the demo accounts and go online.
        await sign_in(ana, base, "ana")
        await sign_in(ben, base, "ben")

        # A wrong password is refused with a clear message.
        other = await ben_ctx.new_page()
        await other.goto(f"{base}/dashboard/")
        await other.get_by_label("Username").fill("ana")
        await other.get_by_label("Password").fill("not-the-password")
        await other.get_by_role("button", name="Sign in").click()
        await expect(other.get_by_text("Wrong username or password.")).to_be_visible()
        await other.close()

        # The patron asks a question from the widget page.
        await patron.goto(f"{base}/patron/?department=reference")
        await patron.get_by_test_id("patron-name").fill("Dana Reader")
        await patron.get_by_test_id("patron-email").fill("dana@example.org")
        await patron.get_by_test_id("patron-question").fill(
            "Do you have <b>Moby-Dick</b> in large print? I saw https://example.org/catalog/moby.")
        await patron.get_by_test_id("start-chat").click()
        await expect(patron.get_by_test_id("queue-position")).to_contain_text("1")

        # Both operators see it with name, question and waiting time, and hear the alert.
        for page in (ana, ben):
            row = page.get_by_test_id("chat-row").filter(has_text="Dana Reader")
            await expect(row).to_be_visible(timeout=3000)
            # the question is shown as text, never as markup
            await expect(row).to_contain_text("Do you have <b>Moby-Dick</b> in large print?")
            await expect(row).to_contain_text(re.compile(r"\d+:\d\d"))
        await expect(ana.locator("body")).to_have_attribute("data-alerts", re.compile(r"^[1-9]\d*$"))
        # the alert repeats while the chat is unclaimed (every 5 s)
        await expect(ana.locator("body")).to_have_attribute("data-alerts", re.compile(r"^([2-9]|\d\d+)$"), timeout=8000)

        # Ana claims; Ben sees who took it and the chat leaves his list; the patron sees Ana join.
        await ana.get_by_test_id("chat-row").filter(has_text="Dana Reader").get_by_test_id("claim-button").click()
        await expect(ben.get_by_text(re.compile("Claimed by Ana"))).to_be_visible()
        await expect(ben.get_by_test_id("chat-row").filter(has_text="Dana Reader")).to_have_count(0, timeout=10000)
        await expect(patron.get_by_test_id("message").filter(has_text="Ana joined the chat.")).to_be_visible()
        alerts_after_claim = await ana.locator("body").get_attribute("data-alerts")

        # Ana inserts the department's canned welcome, edits it, and sends it.
        await ana.get_by_test_id("canned-button").click()
        await ana.get_by_role("option", name=re.compile("Welcome", re.I)).first.click()
        reply = ana.get_by_test_id("reply-box")
        await expect(reply).to_have_value(re.compile(r"thanks for your question", re.I))
        await reply.press("End")
        await reply.type(" (Ana)")
        await ana.get_by_test_id("send-button").click()
        await expect(patron.get_by_test_id("message").filter(has_text="(Ana)")).to_be_visible()
        # a web address in a message is a link (and only the address, not the full stop)
        link = ana.get_by_test_id("message").get_by_role("link", name="https://example.org/catalog/moby")
        await expect(link).to_have_attribute("href", "https://example.org/catalog/moby")
        await expect(link).to_have_attribute("rel", "noopener noreferrer")
        await expect(reply).to_have_value("")

        # The patron types: Ana sees it; the patron answers; Ana reads it.
        patron_box = patron.get_by_test_id("reply-box")
        await patron_box.type("Yes plea")
        await expect(ana.get_by_test_id("typing")).to_be_visible()
        await patron_box.type("se, the large print one.")
        await patron.get_by_test_id("send-button").tap()  # on a phone Enter makes a new line
        await expect(ana.get_by_test_id("message").filter(has_text="Yes please, the large print one.")).to_be_visible()

        # Ana types: the patron sees "Ana is typing…"; Ana answers.
        await reply.type("One moment while I check the catalogue")
        await expect(patron.get_by_test_id("typing")).to_contain_text("Ana")
        await reply.press("Enter")
        await expect(patron.get_by_test_id("message").filter(has_text="One moment while I check the catalogue")).to_be_visible()

        # The messages are in the same order on both sides.
        patron_texts = await patron.get_by_test_id("message").all_inner_texts()
        assert [t for t in patron_texts if "(Ana)" in t or "large print one" in t or "One moment" in t] and \
            patron_texts.index(next(t for t in patron_texts if "(Ana)" in t)) < \
            patron_texts.index(next(t for t in patron_texts if "large print one" in t)) < \
            patron_texts.index(next(t for t in patron_texts if "One moment" in t))
        # no more alerts once claimed
        assert await ana.locator("body").get_attribute("data-alerts") == alerts_after_claim

        # Ana ends the chat: the patron sees it ended; Ana gets the Reference Analytics form.
        await ana.get_by_test_id("end-chat").click()
        await expect(patron.get_by_test_id("chat-ended")).to_be_visible()
        await expect(patron.get_by_test_id("reply-box")).to_be_disabled()
        form = ana.get_by_test_id("ra-form")
        await expect(form).to_be_visible()
        # a reload (or a fresh sign-in) brings the pending form back
        await ana.reload()
        await expect(form).to_be_visible()
        await expect(form.get_by_label(re.compile("Duration"))).to_have_value(re.compile(r"^[1-9]\d*$"))
        await expect(form.get_by_label("Question", exact=True)).to_have_value(re.compile("Moby-Dick"))
        mode = form.get_by_role("radiogroup", name=re.compile("Mode"))
        await expect(mode.get_by_role("radio", name="Chat")).to_be_checked()

        # Save refuses missing required fields (Location) with a clear message, then saves.
        await form.get_by_test_id("ra-save").click()
        alert = form.get_by_role("alert")
        await expect(alert).to_contain_text(re.compile(r"(Please|required)", re.I))
        await expect(alert).to_contain_text("Location")
        await form.get_by_label(re.compile("^Location")).select_option("Reference desk")
        await form.get_by_label(re.compile("Referred by")).select_option("Library website")
        await form.get_by_test_id("ra-save").click()
        await expect(form.get_by_text("Saved")).to_be_visible()
        await ana.get_by_test_id("close-chat").click()
        await expect(ana.get_by_test_id("ra-form")).to_have_count(0)
        await ana.screenshot(path=str(tmp_path / "dashboard-after-close.png"))

        # The analytics service stored the record and the chat's wait time and duration.
        async with await operator_api(stack, "ana") as client:  # Ana sees her own departments' data
            records = (await client.get("/api/records")).json()
            records = records.get("records", records) if isinstance(records, dict) else records
            assert len(records) == 1
            assert records[0]["values"]["location"] == "Reference desk"
            assert records[0]["values"]["mode"] == "Chat"
            assert records[0]["values"]["referred_by"] == "Library website"
            chat_id = records[0]["chat_id"]
            fact = (await client.get(f"/api/chats/{chat_id}")).json()
            assert fact["wait_seconds"] >= 5  # the chat waited through at least two alerts
            assert fact["duration_seconds"] > 0
