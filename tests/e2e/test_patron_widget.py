"""The patron widget on a shared library computer, in Chromium on a phone-sized screen:

* after the offline form, "Ask another question" shows an empty form (never the
  previous patron's name, email or question), and the form notices within ~10 s,
  without a reload, that a librarian came online;
* when the librarian ends a chat, the final answer stays readable above the
  "ended" / rating cards, and a message the patron typed but did not send stays in
  the (disabled) box with "The chat has ended — this message was not sent";
* "Start a new chat" again shows an empty form.

Real parts only: every service, the gateway, NATS, PostgreSQL and Chromium.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_shift import sign_in
from tests.support import running_system

pytestmark = pytest.mark.e2e

FINAL = "FINAL ANSWER: the 1890 county atlas is in the map room, drawer 12."


async def expect_blank_form(page: Page) -> None:
    for field in ("patron-name", "patron-email", "patron-question"):
        await expect(page.get_by_test_id(field)).to_have_value("")


async def test_shared_computer_widget_forms_start_blank_and_ended_chat_stays_readable(servers, browser) -> None:
    async with running_system(servers) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        patron_ctx = await browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
        patron = await patron_ctx.new_page()

        # Nobody monitors Archives: the first patron leaves a question by email.
        await patron.goto(f"{base}/patron/?department=archives")
        await expect(patron.get_by_test_id("start-chat")).to_have_text("Send question")
        await patron.get_by_test_id("patron-name").fill("Nora Quinn")
        await patron.get_by_test_id("patron-email").fill("nora@example.org")
        await patron.get_by_test_id("patron-question").fill("Do you hold the mill's payroll ledgers?")
        await patron.get_by_test_id("start-chat").click()
        await expect(patron.get_by_test_id("ticket-sent-email")).to_have_text("nora@example.org")

        # The next person at this computer gets an empty form, also after a reload.
        await patron.get_by_test_id("ticket-again").click()
        await expect_blank_form(patron)
        await patron.reload()
        await expect_blank_form(patron)

        # Ben (Archives) comes online: the open form notices without a reload (checks every ~10 s).
        ben_ctx = await browser.new_context(viewport={"width": 1280, "height": 860})
        ben = await ben_ctx.new_page()
        await sign_in(ben, base, "ben")
        await expect(patron.get_by_test_id("start-chat")).to_have_text("Start Chat", timeout=14_000)
        await expect(patron.get_by_test_id("department-status")).to_have_attribute("data-state", "online")
        await expect(patron.get_by_test_id("offline-note")).to_be_hidden()

        # A second patron chats with Ben; Ben answers at length and ends the chat.
        await patron.get_by_test_id("patron-name").fill("Sam Lee")
        await patron.get_by_test_id("patron-question").fill("Where are the county atlases?")
        await patron.get_by_test_id("start-chat").click()
        row = ben.get_by_test_id("chat-row").filter(has_text="Sam Lee")
        await row.get_by_test_id("claim-button").click()
        reply = ben.get_by_test_id("reply-box")
        for text in ("Let me look that up for you.", "The atlases are catalogued under G1408.",
                     "Most are reference-only, so they stay in the library.", FINAL):
            await reply.fill(text)
            await reply.press("Enter")
            await expect(patron.get_by_test_id("message").filter(has_text=text)).to_be_visible()
        box = patron.get_by_test_id("reply-box")
        await box.fill("Thanks! And the 1900 edition")  # typed, never sent
        await ben.get_by_test_id("end-chat").click()

        ended = patron.get_by_test_id("chat-ended")
        await expect(ended).to_be_visible()
        # the unsent text stays readable, with a calm note, and cannot be sent
        await expect(box).to_have_value("Thanks! And the 1900 edition")
        await expect(box).to_be_disabled()
        await expect(patron.get_by_test_id("unsent-note")).to_have_text(
            "The chat has ended — this message was not sent.")
        # the final answer is on screen, above the ended card (never covered by it)
        final = patron.get_by_test_id("message").filter(has_text=FINAL)
        await expect(final).to_be_in_viewport()
        final_box, card_box = await final.bounding_box(), await ended.bounding_box()
        assert final_box is not None and card_box is not None
        assert final_box["y"] + final_box["height"] <= card_box["y"] + 1, (final_box, card_box)
        # the rating is reachable below it
        stars = patron.get_by_test_id("rating")
        await stars.scroll_into_view_if_needed()
        await expect(stars).to_be_in_viewport()

        # "Start a new chat": an empty form again.
        await patron.get_by_test_id("new-chat").click()
        await expect_blank_form(patron)
        await expect(patron.get_by_test_id("start-chat")).to_have_text("Start Chat")
