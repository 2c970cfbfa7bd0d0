"""Transcripts by email in the browser: the operator emails a patron transcript from
the chat pane and sees it Sent; the mail appears on the mail catcher's page (linked
from the dashboard) without the internal note; the patron asks for their own
transcript from the widget once the chat ended and is told it was sent.

Set ``RD_SCREENSHOTS=<folder>`` to keep screenshots of the dialog, the widget and the
catcher page."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from refdesk import mailcatcher
from refdesk.embedded import free_port
from refdesk.settings import Settings
from tests.e2e.test_shift import sign_in
from tests.support import running_system, wait_for_http

pytestmark = pytest.mark.e2e

NOTE = "Staff only: asked the same last week"


async def shot(page: Page, name: str) -> None:
    folder = os.environ.get("RD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


@contextlib.asynccontextmanager
async def catcher(tmp_path: Path):
    settings = Settings(smtp_port=free_port(), mailcatcher_port=free_port(), state_dir=tmp_path / "catcher",
                        inbound_smtp_port=free_port())
    stop = asyncio.Event()
    task = asyncio.create_task(mailcatcher.serve(settings, stop))
    url = f"http://127.0.0.1:{settings.mailcatcher_port}/"
    try:
        await wait_for_http(f"{url}healthz", task)
        yield settings, url
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def test_operator_and_patron_email_transcripts(servers, browser, tmp_path) -> None:
    async with catcher(tmp_path) as (mail_settings, mail_url), running_system(
        servers, smtp_port=mail_settings.smtp_port, mailcatcher_url=mail_url, time_zone="Europe/Berlin",
    ) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        ana_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        patron_ctx = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
        ana, patron = await ana_ctx.new_page(), await patron_ctx.new_page()
        await sign_in(ana, base, "ana")
        mail_link = ana.get_by_test_id("mail-link")
        await expect(mail_link).to_be_visible()
        await expect(mail_link).to_have_attribute("href", mail_url)

        await patron.goto(f"{base}/patron/?department=reference")
        await patron.get_by_test_id("patron-name").fill("Dana <Reader>")
        await patron.get_by_test_id("patron-email").fill("dana@example.org")
        await patron.get_by_test_id("patron-question").fill("Do you have <b>atlases</b>?")
        await patron.get_by_test_id("start-chat").click()
        await ana.get_by_test_id("chat-row").filter(has_text="Dana <Reader>").get_by_test_id("claim-button").click()
        await expect(patron.get_by_test_id("message").filter(has_text="Ana joined the chat.")).to_be_visible()
        reply = ana.get_by_test_id("reply-box")
        await reply.fill("Yes — floor 2 & the map room.")
        await ana.get_by_test_id("send-button").click()
        await expect(patron.get_by_test_id("message").filter(has_text="floor 2 & the map room")).to_be_visible()
        await ana.get_by_test_id("mode-note").check()
        await reply.fill(NOTE)
        await ana.get_by_test_id("send-button").click()
        await expect(ana.get_by_test_id("message").filter(has_text=NOTE)).to_be_visible()

        # The operator emails the patron transcript: a small dialog, then the status.
        await ana.get_by_test_id("email-transcript").click()
        dialog = ana.get_by_test_id("transcript-dialog")
        await expect(dialog).to_be_visible()
        to = dialog.get_by_test_id("transcript-to")
        await expect(to).to_have_value("dana@example.org")  # prefilled with the patron's address
        await expect(dialog.get_by_test_id("transcript-kind-patron")).to_be_checked()
        await to.fill("not an address")
        await dialog.get_by_test_id("transcript-send").click()
        await expect(dialog.get_by_test_id("transcript-error")).to_contain_text("is not an email address")
        await to.fill("desk-copy@example.org")
        await shot(ana, "transcript-dialog")
        await dialog.get_by_test_id("transcript-send").click()
        await expect(dialog).to_have_count(0)
        item = ana.get_by_test_id("mail-status-item").filter(has_text="desk-copy@example.org")
        await expect(item).to_have_attribute("data-status", "sent", timeout=10000)
        await expect(item).to_contain_text(re.compile(r"Patron transcript to desk-copy@example.org: Sent at"))
        await shot(ana, "transcript-status")

        # The mail is on the catcher's page, linked from the dashboard.
        async with ana_ctx.expect_page() as opened:
            await mail_link.click()
        mail_page = await opened.value
        row = mail_page.get_by_test_id("mail-row").filter(has_text="desk-copy@example.org")
        await expect(row).to_contain_text("Your chat with Ask a Librarian")
        await shot(mail_page, "catcher-list")
        await row.get_by_role("link").click()
        text = mail_page.get_by_test_id("mail-text")
        await expect(text).to_contain_text("Ana: Yes — floor 2 & the map room.")
        await expect(text).to_contain_text("Do you have <b>atlases</b>?")
        await expect(text).not_to_contain_text(NOTE)
        await expect(text).not_to_contain_text("joined the chat")
        html = mail_page.frame_locator("[data-testid=mail-html]")
        await expect(html.get_by_text("Do you have <b>atlases</b>?")).to_be_visible()  # escaped: shown as text
        await shot(mail_page, "catcher-mail")

        # The chat ends; the patron emails themselves the transcript from the widget.
        await ana.get_by_test_id("end-chat").click()
        await expect(patron.get_by_test_id("chat-ended")).to_be_visible()
        request = patron.get_by_test_id("transcript-request")
        await expect(request).to_be_visible()
        await expect(request.get_by_test_id("transcript-email")).to_have_value("dana@example.org")
        await request.scroll_into_view_if_needed()
        await shot(patron, "widget-transcript-form")
        await expect(request.get_by_label("Email me a transcript")).to_be_visible()
        await request.get_by_test_id("transcript-send").click()
        result = patron.get_by_test_id("transcript-result")
        await expect(result).to_contain_text("Transcript sent to dana@example.org", timeout=10000)
        await shot(patron, "widget-transcript")
        # The operator, who still has the ended chat open, sees the patron's request too.
        own = ana.get_by_test_id("mail-status-item").filter(has_text="Patron's own transcript")
        await expect(own).to_have_attribute("data-status", "sent")
        await expect(own).to_contain_text("dana@example.org: Sent at")
        await shot(ana, "transcript-status-ended")

        await mail_page.goto(mail_url)
        mine = mail_page.get_by_test_id("mail-row").filter(has_text="dana@example.org")
        await expect(mine).to_have_count(1)
        await mine.get_by_role("link").click()
        await expect(mail_page.get_by_test_id("mail-text")).not_to_contain_text(NOTE)
        await ana_ctx.close()
        await patron_ctx.close()
