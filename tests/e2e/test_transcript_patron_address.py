"""The widget tells a patron why there is no transcript to email: a chat started
without an email address and ended before any librarian (Ana is online) answered
shows the reason,
not an address field (the gateway refuses such a request anyway).

Set ``RD_SCREENSHOTS=<folder>`` to keep a screenshot of the ended widget."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.test_shift import sign_in
from tests.e2e.test_transcript_email import shot
from tests.support import running_system

pytestmark = pytest.mark.e2e


async def test_an_unanswered_chat_without_an_address_explains_why_no_transcript(servers, browser) -> None:
    async with running_system(servers) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        staff = await browser.new_context(viewport={"width": 1280, "height": 800})
        await sign_in(await staff.new_page(), base, "ana")  # Ana is online: the widget offers a chat
        context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
        patron = await context.new_page()
        await patron.goto(f"{base}/patron/?department=reference")
        await patron.get_by_test_id("patron-name").fill("Your bank")
        await patron.get_by_test_id("patron-question").fill("Your account is locked: confirm your card number.")
        await patron.get_by_test_id("start-chat").click()
        await patron.get_by_test_id("end-chat").click()
        await patron.get_by_test_id("end-confirm-yes").click()
        await expect(patron.get_by_test_id("chat-ended")).to_be_visible()
        request = patron.get_by_test_id("transcript-request")
        await expect(request.get_by_test_id("transcript-hint")).to_have_text(
            "No librarian answered this chat and you gave no email address when it started, "
            "so there is no transcript to email.")
        await expect(request.get_by_test_id("transcript-email")).to_be_hidden()
        await expect(request.get_by_test_id("transcript-send")).to_be_hidden()
        await shot(patron, "widget-transcript-unanswered")
        await context.close()
        await staff.close()
