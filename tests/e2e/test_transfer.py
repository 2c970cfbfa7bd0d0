"""A transfer in Chromium, three people: the patron asks in the widget; Ana claims the
chat and transfers it to Ben with a note (talking to him is one click away); Ben sees
the offer with the note and the conversation so far, accepts and claims it; Ana stays
in the chat; the patron is told each step and keeps the whole conversation.

Real parts only: every service, the gateway, NATS, PostgreSQL and Debian's Chromium.
Screenshots of the dialog, the offer and the panes go to ``RD_SCREENSHOTS`` (or the
test's temporary folder).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_shift import sign_in
from tests.support import running_system

pytestmark = pytest.mark.e2e


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("RD_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def patron_message(patron: Page, text: str):
    return patron.get_by_test_id("message").filter(has_text=text)


async def test_ana_transfers_a_chat_to_ben_who_accepts_and_claims_it(servers, browser, tmp_path) -> None:
    folder = shots(tmp_path)
    async with running_system(servers) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        ana_ctx = await browser.new_context(viewport={"width": 1280, "height": 860})
        ben_ctx = await browser.new_context(viewport={"width": 1280, "height": 860})
        patron_ctx = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
        ana, ben, patron = await ana_ctx.new_page(), await ben_ctx.new_page(), await patron_ctx.new_page()
        await sign_in(ana, base, "ana")
        await sign_in(ben, base, "ben")

        await patron.goto(f"{base}/patron/?department=reference")
        await patron.get_by_test_id("patron-name").fill("Dana Reader")
        await patron.get_by_test_id("patron-question").fill("Do you have letters of the first mayor?")
        await patron.get_by_test_id("start-chat").click()

        await ana.get_by_test_id("chat-row").filter(has_text="Dana Reader").get_by_test_id("claim-button").click()
        await expect(patron_message(patron, "Ana joined the chat.")).to_be_visible()
        await patron.get_by_test_id("reply-box").fill("They were written around 1850.")
        await patron.get_by_test_id("send-button").tap()
        pane = ana.get_by_test_id("chat-pane").filter(has_text="Dana Reader")
        await expect(pane.get_by_test_id("message").filter(has_text="around 1850")).to_be_visible()

        # Ana opens Transfer: a modal dialog listing operators and departments
        await pane.get_by_test_id("transfer-chat").click()
        dialog = ana.get_by_test_id("transfer-dialog")
        await expect(dialog).to_be_visible()
        ben_option = dialog.get_by_test_id("transfer-target").filter(has_text="Ben Okafor")
        await expect(ben_option).to_have_attribute("data-status", "online")
        archives = dialog.locator("[data-testid=transfer-target][data-kind=department][data-target-id=archives]")
        await expect(archives).to_be_visible()
        # Cleo is offline: listed, not selectable, with the ticket suggestion
        cleo_option = dialog.get_by_test_id("transfer-target").filter(has_text="Cleo Park")
        await expect(cleo_option).to_contain_text("Create a ticket instead")
        await expect(cleo_option.get_by_role("radio")).to_be_disabled()
        # Esc closes it without transferring
        await ana.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)
        # talking to Ben first: Internal Chat opens, and the dialog keeps what was typed
        await pane.get_by_test_id("transfer-chat").click()
        await dialog.get_by_test_id("transfer-note").fill("Archives question: 1850s letters of Mayor Hill.")
        await ben_option.get_by_test_id("open-internal").click()
        await expect(dialog).to_have_count(0)
        await expect(ana.get_by_test_id("tab-internal")).to_have_attribute("aria-selected", "true")
        await ana.get_by_test_id("tab-patron").click()
        await pane.get_by_test_id("transfer-chat").click()
        note = "Archives question: 1850s letters of Mayor Hill."
        await expect(dialog.get_by_test_id("transfer-note")).to_have_value(note)
        await ben_option.get_by_role("radio").check()
        await dialog.get_by_test_id("transfer-stay").check()
        await ana.screenshot(path=str(folder / "transfer-dialog.png"))
        await dialog.get_by_test_id("transfer-submit").click()
        await expect(dialog).to_have_count(0)

        # Ana's reply box is locked, with Cancel transfer; the patron is told
        status = pane.get_by_test_id("transfer-status")
        await expect(status).to_have_attribute("data-state", "pending")
        await expect(status).to_contain_text("waiting for them to accept")
        await expect(pane.get_by_test_id("cancel-transfer")).to_be_visible()
        await expect(pane.get_by_test_id("reply-box")).to_be_disabled()
        await expect(patron_message(patron, "Ana is transferring your chat to Ben — please stay here.")).to_be_visible()
        await ana.screenshot(path=str(folder / "transfer-ana-pending.png"))

        # Ben gets the offer with the note and the conversation so far, and a chime
        offer = ben.get_by_test_id("transfer-offer").filter(has_text="Dana Reader")
        await expect(offer).to_be_visible()
        await expect(offer).to_contain_text("Transfer from Ana")
        await expect(offer.get_by_test_id("transfer-offer-note")).to_contain_text("1850s letters of Mayor Hill")
        await expect(offer.get_by_test_id("transfer-preview")).to_contain_text("They were written around 1850.")
        await expect(ben.locator("body")).to_have_attribute("data-alerts", re.compile(r"^[1-9]\d*$"))
        await ben.screenshot(path=str(folder / "transfer-offer.png"))
        # a reload brings the offer back, with its note and the conversation so far
        await ben.reload()
        await expect(offer.get_by_test_id("transfer-offer-note")).to_contain_text("1850s letters of Mayor Hill")
        await expect(offer.get_by_test_id("transfer-preview")).to_contain_text("They were written around 1850.")

        await offer.get_by_test_id("accept-transfer").click()
        await expect(status).to_have_attribute("data-state", "accepted")
        await expect(patron_message(patron, "Ben accepted the transfer and will join shortly.")).to_be_visible()
        claim = ben.get_by_test_id("transfer-offer").filter(has_text="Dana Reader").get_by_test_id("claim-transfer")
        await claim.click()

        ben_pane = ben.get_by_test_id("chat-pane").filter(has_text="Dana Reader")
        await expect(ben_pane).to_be_visible()
        await expect(ben_pane.get_by_test_id("message").filter(has_text="around 1850")).to_be_visible()
        await expect(patron_message(patron, "Ben joined the chat.")).to_be_visible()
        await ben_pane.get_by_test_id("reply-box").fill("Hi Dana, I'm Ben from Archives. We have them.")
        await ben_pane.get_by_test_id("send-button").click()
        await expect(patron_message(patron, "I'm Ben from Archives")).to_be_visible()

        await expect(ben_pane.get_by_test_id("transfer-status")).to_contain_text("Ana stayed in this chat with you")
        await expect(patron.get_by_text("Chatting with Ben and Ana")).to_be_visible()
        # Ana stayed: she can still write, but End Chat is Ben's
        await expect(status).to_have_attribute("data-state", "participant")
        await expect(pane.get_by_test_id("end-chat")).to_be_hidden()
        await expect(pane.get_by_test_id("message").filter(has_text="I'm Ben from Archives")).to_be_visible()
        await pane.get_by_test_id("reply-box").fill("Ben is our archivist — you're in good hands.")
        await pane.get_by_test_id("reply-box").press("Enter")
        await expect(patron_message(patron, "you're in good hands")).to_be_visible()
        await ana.screenshot(path=str(folder / "transfer-ana-participant.png"))
        await ben.screenshot(path=str(folder / "transfer-ben-pane.png"))
        await patron.screenshot(path=str(folder / "transfer-patron.png"))

        # the patron's conversation is whole and in order after a reload
        await patron.reload()
        await expect(patron_message(patron, "you're in good hands")).to_be_visible()
        texts = await patron.get_by_test_id("message").all_inner_texts()
        order = ["letters of the first mayor", "Ana joined the chat.", "around 1850", "transferring your chat to Ben",
                 "Ben accepted the transfer", "Ben joined the chat.", "I'm Ben from Archives", "good hands"]
        positions = [next(i for i, text in enumerate(texts) if needle in text) for needle in order]
        assert positions == sorted(positions), texts
        assert not any("Mayor Hill" in text for text in texts)  # the note never reaches the patron

        await ben_pane.get_by_test_id("end-chat").click()
        await expect(patron.get_by_test_id("chat-ended")).to_be_visible()
        await expect(ana.get_by_test_id("chat-pane").filter(has_text="Dana Reader")).to_have_count(0)


async def test_a_declined_or_cancelled_transfer_gives_the_chat_back(servers, browser, tmp_path) -> None:
    folder = shots(tmp_path)
    async with running_system(servers) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        ana = await (await browser.new_context(viewport={"width": 1280, "height": 860})).new_page()
        ben = await (await browser.new_context(viewport={"width": 1280, "height": 860})).new_page()
        patron = await (await browser.new_context(viewport={"width": 375, "height": 740})).new_page()
        await sign_in(ana, base, "ana")
        await sign_in(ben, base, "ben")
        await patron.goto(f"{base}/patron/?department=reference")
        await patron.get_by_test_id("patron-name").fill("Gil Reader")
        await patron.get_by_test_id("patron-question").fill("Can I book a study room?")
        await patron.get_by_test_id("start-chat").click()
        await ana.get_by_test_id("chat-row").filter(has_text="Gil Reader").get_by_test_id("claim-button").click()
        pane = ana.get_by_test_id("chat-pane").filter(has_text="Gil Reader")
        status = pane.get_by_test_id("transfer-status")

        async def transfer_to_archives() -> None:
            await pane.get_by_test_id("transfer-chat").click()
            dialog = ana.get_by_test_id("transfer-dialog")
            await dialog.locator("[data-kind=department][data-target-id=archives]").get_by_role("radio").check()
            await dialog.get_by_test_id("transfer-submit").click()
            await expect(status).to_have_attribute("data-state", "pending")
            await expect(pane.get_by_test_id("reply-box")).to_be_disabled()
            await expect(pane.get_by_test_id("end-chat")).to_be_disabled()

        # Ben monitors Archives: he declines; Ana sees it and can write again
        await transfer_to_archives()
        offer = ben.get_by_test_id("transfer-offer").filter(has_text="Gil Reader")
        await expect(offer).to_contain_text("to Archives")
        await offer.get_by_test_id("decline-transfer").click()
        await expect(status).to_have_attribute("data-state", "declined")
        await expect(status).to_contain_text("Archives declined the transfer")
        await expect(pane.get_by_test_id("reply-box")).to_be_enabled()
        await expect(patron_message(patron, "Ana is still with you.")).to_be_visible()
        await expect(ben.get_by_test_id("transfer-offer").filter(has_text="Gil Reader")).to_have_count(0, timeout=8000)
        await ana.screenshot(path=str(folder / "transfer-declined.png"))

        # Ana asks again, then takes it back herself: Ben's offer goes away
        await transfer_to_archives()
        await expect(ben.get_by_test_id("transfer-offer").filter(has_text="Gil Reader")).to_be_visible()
        await pane.get_by_test_id("cancel-transfer").click()
        await expect(status).to_be_hidden()
        await expect(pane.get_by_test_id("reply-box")).to_be_enabled()
        await expect(ben.get_by_test_id("transfer-offer").filter(has_text="Gil Reader")).to_contain_text(
            "cancelled or declined")
        await pane.get_by_test_id("reply-box").fill("I'll book it for you.")
        await pane.get_by_test_id("reply-box").press("Enter")
        await expect(patron_message(patron, "I'll book it for you.")).to_be_visible()
        texts = await patron.get_by_test_id("message").all_inner_texts()
        assert sum("Ana is still with you." in text for text in texts) == 2
