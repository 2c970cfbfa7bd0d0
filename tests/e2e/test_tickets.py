"""Tickets in Chromium: a patron leaves a question in the widget's offline form (nobody
monitors Archives) and sees a calm confirmation; Ben signs in, sees the ticket in the
Tickets tab with its badge, claims it, adds an internal note and replies as Pending —
the reply is emailed (a real aiosmtpd catcher) and never carries the note. Then Ben
files one of his chats as a ticket for another department from the chat pane.

Real parts only: every service, the gateway, NATS, PostgreSQL, SMTP and Chromium.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import expect

from tests.e2e.test_shift import sign_in
from tests.integration.test_tickets_flow import Outbox, body_of, subject
from tests.support import eventually, running_system

pytestmark = pytest.mark.e2e


async def test_offline_form_then_operator_claims_and_replies(servers, browser) -> None:
    outbox = Outbox()
    await outbox.start()
    try:
        async with running_system(servers, smtp_port=outbox.port) as stack:
            base = f"http://127.0.0.1:{stack.settings.gateway_port}"
            patron_ctx = await browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
            patron = await patron_ctx.new_page()

            # Nobody monitors Archives: the widget offers the offline form, email required.
            await patron.goto(f"{base}/patron/?department=archives")
            await expect(patron.get_by_test_id("offline-note")).to_be_visible()
            await expect(patron.get_by_test_id("start-chat")).to_have_text("Send question")
            await patron.get_by_test_id("patron-name").fill("Nora Quinn")
            await patron.get_by_test_id("patron-question").fill("Do you hold the mill's 1890s payroll ledgers?")
            await patron.get_by_test_id("start-chat").click()
            await expect(patron.get_by_text("Please give your email address so we can answer you.")).to_be_visible()
            await patron.get_by_test_id("patron-email").fill("nora@example.org")
            await patron.get_by_test_id("start-chat").click()
            await expect(patron.get_by_test_id("ticket-sent")).to_be_visible()
            await expect(patron.get_by_test_id("ticket-sent")).to_contain_text("We've received your question")
            await expect(patron.get_by_test_id("ticket-sent-email")).to_have_text("nora@example.org")
            confirmation = await eventually(lambda: asyncio.sleep(0, outbox.to("nora@example.org")), what="confirmation")
            assert subject(confirmation[0]).startswith("We've received your question")

            # Ben sees it in the Tickets tab, with the New + Open badge.
            ben_ctx = await browser.new_context(viewport={"width": 1280, "height": 860})
            ben = await ben_ctx.new_page()
            await sign_in(ben, base, "ben")
            badge = ben.get_by_test_id("tickets-count")
            await expect(badge).to_have_text(re.compile(r"^[1-9]\d*$"))  # the demo tickets and Nora's
            waiting = int(await badge.text_content() or "0")
            await ben.get_by_test_id("tab-tickets").click()
            row = ben.get_by_test_id("ticket-row").filter(has_text="Nora Quinn")
            await expect(row).to_contain_text("payroll ledgers")
            await expect(row).to_contain_text("New")
            await expect(row).to_contain_text("Unclaimed")

            # Preview (no claim), then Claim.
            await row.get_by_test_id("ticket-open").click()
            detail = ben.get_by_test_id("ticket-detail")
            await expect(detail).to_contain_text("nora@example.org")
            await expect(ben.get_by_test_id("ticket-owner")).to_have_text("Unclaimed")
            await ben.get_by_test_id("ticket-claim").click()
            await expect(ben.get_by_test_id("ticket-owner")).to_have_text("You")
            await expect(row).to_contain_text("You")

            # An internal note: shown in the note style, the ticket becomes Open.
            await ben.get_by_test_id("ticket-mode-note").check()
            await ben.get_by_test_id("ticket-body").fill("Ledgers are in box 14 — STAFF ONLY remark.")
            await ben.get_by_test_id("ticket-add-note").click()
            note = detail.locator("[data-testid=ticket-message][data-kind=internal_note]")
            await expect(note).to_contain_text("Internal note — never emailed")
            await expect(ben.get_by_test_id("ticket-status")).to_have_text("Open")

            # A reply submitted as Pending: emailed, shown as sent, status Pending everywhere.
            await ben.get_by_test_id("ticket-mode-reply").check()
            await ben.get_by_test_id("ticket-body").fill("Yes — you can see the ledgers in the reading room.")
            await ben.get_by_test_id("ticket-submit-pending").click()
            await expect(ben.get_by_test_id("ticket-status")).to_have_text("Pending")
            reply = detail.locator("[data-testid=ticket-message][data-kind=reply]")
            await expect(reply).to_contain_text("you can see the ledgers")
            await expect(reply).to_contain_text("Emailed", timeout=10000)
            await expect(ben.get_by_test_id("ticket-body")).to_have_value("")
            await expect(row).to_contain_text("Pending")
            mails = await eventually(lambda: asyncio.sleep(0, [m for m in outbox.to("nora@example.org")
                                                               if subject(m).startswith("Re:")]), what="reply email")
            assert "you can see the ledgers" in body_of(mails[0])
            assert all("STAFF ONLY" not in m.as_string() for m in outbox.received)
            await expect(badge).to_have_text(str(waiting - 1) if waiting > 1 else "")  # Nora's is Pending now

            # From the chat pane: a chat filed as a ticket for another department.
            await patron.goto(f"{base}/patron/?department=reference")
            await expect(patron.get_by_test_id("start-chat")).to_have_text("Start Chat")
            await patron.get_by_test_id("patron-name").fill("Sam Lee")
            await patron.get_by_test_id("patron-email").fill("sam@example.org")
            await patron.get_by_test_id("patron-question").fill("Who can date an old photograph?")
            await patron.get_by_test_id("start-chat").click()
            await ben.get_by_test_id("tab-patron").click()
            await ben.get_by_test_id("chat-row").filter(has_text="Sam Lee").get_by_test_id("claim-button").click()
            pane = ben.get_by_test_id("chat-pane").filter(has_text="Sam Lee")
            await pane.get_by_test_id("create-ticket").click()
            dialog = ben.get_by_test_id("ticket-dialog")
            await expect(dialog).to_contain_text("sam@example.org")
            await dialog.get_by_test_id("ticket-target-department").check()
            await dialog.get_by_test_id("ticket-department-select").select_option(label="Archives")
            await dialog.get_by_test_id("ticket-dialog-note").fill("Archives dates photographs.")
            await dialog.get_by_test_id("ticket-dialog-create").click()
            await expect(pane.get_by_test_id("ticket-created")).to_have_text("Ticket created in Archives.")
            await ben.get_by_test_id("tab-tickets").click()
            await expect(ben.get_by_test_id("ticket-row").filter(has_text="Sam Lee")).to_contain_text("Archives")
    finally:
        await outbox.stop()
