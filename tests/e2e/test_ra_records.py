"""Reference Analytics in Chromium: the operator ends a chat, finds the form prefilled
from it, records two questions ("Save" keeps the choices, "Save & clear" resets),
corrects and deletes a record; records a desk question by hand from the top bar,
backdated; the admin edits a dataset; the patron rates the chat in the widget on a
phone-sized screen.

Real parts only: every service, the gateway, NATS, PostgreSQL and Debian's Chromium.
Screenshots go to ``RD_SHOTS`` (default: the test's tmp dir).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.analytics_api import operator_api
from tests.e2e.test_shift import sign_in
from tests.support import running_system

pytestmark = pytest.mark.e2e


def shots_dir(tmp_path: Path) -> Path:
    path = Path(os.environ.get("RD_SHOTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


async def start_chat(patron: Page, base: str, question: str) -> None:
    await patron.goto(f"{base}/patron/?department=reference")
    await patron.get_by_test_id("patron-name").fill("Dana Reader")
    await patron.get_by_test_id("patron-question").fill(question)
    await patron.get_by_test_id("start-chat").click()
    await expect(patron.get_by_test_id("queue-position")).to_be_visible()


async def test_reference_analytics_records_and_the_patron_rating(servers, browser, tmp_path) -> None:
    shots = shots_dir(tmp_path)
    async with running_system(servers) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        ana_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
        patron_ctx = await browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
        ana, patron = await ana_ctx.new_page(), await patron_ctx.new_page()
        await sign_in(ana, base, "ana")

        # A chat: the patron asks, Ana claims, answers and ends it.
        await start_chat(patron, base, "Where are the city atlases from 1910?")
        await ana.get_by_test_id("chat-row").filter(has_text="Dana Reader").get_by_test_id("claim-button").click()
        reply = ana.get_by_test_id("reply-box")
        await reply.fill("They are in the map room on the second floor.")
        await reply.press("Enter")
        await expect(patron.get_by_test_id("message").filter(has_text="map room")).to_be_visible()
        await ana.get_by_test_id("end-chat").click()

        # The form is prefilled from the chat.
        form = ana.get_by_test_id("ra-form")
        await expect(form).to_be_visible()
        question = form.get_by_label("Question", exact=True)
        await expect(question).to_have_value("Where are the city atlases from 1910?")
        await expect(form.get_by_label("Answer", exact=True)).to_have_value(re.compile(r"Ana: They are in the map room"))
        mode = form.get_by_role("radiogroup", name=re.compile("Mode"))
        await expect(mode.get_by_role("radio", name="Chat")).to_be_checked()
        await expect(form.get_by_label(re.compile("Duration"))).to_have_value(re.compile(r"^[1-9]\d*$"))
        await expect(form.get_by_test_id("ra-answered-at")).to_have_value(re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d$"))
        read = form.get_by_role("radiogroup", name=re.compile("READ scale"))
        await expect(read.get_by_role("radio")).to_have_count(6)

        # Location is required: Save says so; then the first question is recorded.
        await form.get_by_test_id("ra-save").click()
        await expect(form.get_by_test_id("ra-error")).to_contain_text("Location")
        await form.get_by_label(re.compile("^Location")).select_option("Chat")
        await form.get_by_label(re.compile("^Question type")).select_option("Ready reference")
        await read.get_by_text("2 · Some knowledge").click()
        await form.get_by_test_id("ra-save").click()
        await expect(form.get_by_test_id("ra-saved")).to_have_text("Saved")
        records = form.get_by_test_id("ra-record")
        await expect(records).to_have_count(1)
        # Save keeps the choices for the next question and clears the text.
        await expect(form.get_by_label(re.compile("^Location"))).to_have_value("Chat")
        await expect(mode.get_by_role("radio", name="Chat")).to_be_checked()
        await expect(read.get_by_role("radio", name="2 · Some knowledge")).to_be_checked()
        await expect(question).to_have_value("")
        pane = ana.get_by_test_id("chat-pane")
        await pane.screenshot(path=str(shots / "ra-form.png"))
        await records.first.scroll_into_view_if_needed()
        await pane.screenshot(path=str(shots / "ra-form-records.png"))

        # The second question of the same chat, with "Save & clear": everything resets.
        await question.fill("Can I photocopy one of them?")
        await form.get_by_test_id("ra-save-clear").click()
        await expect(records).to_have_count(2)
        await expect(form.get_by_label(re.compile("^Location"))).to_have_value("")
        await expect(mode.get_by_role("radio", name="Chat")).not_to_be_checked()
        await expect(read.get_by_role("radio", name="2 · Some knowledge")).not_to_be_checked()

        # Edit the first record (the older one is listed last) and delete the newer one.
        await records.filter(has_text="1910").get_by_test_id("ra-record-edit").click()
        await expect(question).to_have_value("Where are the city atlases from 1910?")
        await expect(form.get_by_test_id("ra-save")).to_have_text("Save changes")
        await read.get_by_text("3 · Reference skill").click()
        await form.get_by_test_id("ra-save").click()
        await expect(form.get_by_test_id("ra-saved")).to_have_text("Saved changes")
        first = records.filter(has_text="1910")
        await expect(first).to_contain_text("READ 3")
        await first.get_by_test_id("ra-record-history").click()
        trail = first.get_by_test_id("ra-history").get_by_role("listitem")
        await expect(trail).to_have_count(2)
        await expect(trail.nth(0)).to_contain_text("Recorded by Ana")
        await expect(trail.nth(1)).to_contain_text("Changed by Ana: READ scale")
        newer = records.filter(has_text="photocopy")
        await newer.get_by_test_id("ra-record-delete").click()
        await newer.get_by_test_id("ra-delete-confirm").click()
        await expect(records).to_have_count(1)

        # The patron rates the chat in the widget: stars, a comment, Send, thanks.
        rating = patron.get_by_test_id("rating")
        await expect(rating).to_be_visible()
        await expect(rating.get_by_role("group", name="How was this chat?")).to_be_visible()
        await rating.get_by_test_id("rating-send").click()
        await expect(rating.get_by_test_id("rating-error")).to_have_text("Please choose from 1 to 5 stars.")
        await rating.get_by_text("4 stars: Very good").click(force=True)
        await expect(rating.get_by_role("radio", name="4 stars: Very good")).to_be_checked()
        await rating.get_by_test_id("rating-comment").fill("Very helpful, thank you!")
        await patron.screenshot(path=str(shots / "widget-rating.png"))
        await rating.get_by_test_id("rating-send").click()
        await expect(patron.get_by_test_id("rating-thanks")).to_have_text("Thank you for your feedback.")
        await patron.screenshot(path=str(shots / "widget-rating-thanks.png"))
        await ana.get_by_test_id("close-chat").click()
        await expect(ana.get_by_test_id("ra-form")).to_have_count(0)

        # A desk question recorded by hand from the top bar, backdated by two hours.
        await ana.get_by_test_id("record-question").click()
        dialog = ana.get_by_test_id("ra-dialog")
        await expect(dialog).to_be_visible()
        hand = dialog.get_by_test_id("ra-form")
        when = hand.get_by_test_id("ra-answered-at")
        await expect(when).to_have_value(re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d$"))
        earlier = await ana.evaluate("""() => { const d = new Date(Date.now() - 2 * 3600e3);
            const p = (n) => String(n).padStart(2, "0");
            return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`; }""")
        await when.fill(earlier)
        await hand.get_by_label("Department").select_option(label="Reference")
        await hand.get_by_label(re.compile("^Location")).select_option("Reference desk")
        await hand.get_by_role("radiogroup", name=re.compile("Mode")).get_by_role("radio", name="In person").check()
        await hand.get_by_label(re.compile("Duration")).fill("5")
        await hand.get_by_label("Question", exact=True).fill("Where is the printer?")
        await dialog.screenshot(path=str(shots / "ra-hand-entry.png"))
        await hand.get_by_test_id("ra-save").click()
        await expect(hand.get_by_test_id("ra-saved")).to_have_text("Saved")
        await expect(hand.get_by_test_id("ra-record").filter(has_text="Where is the printer?")).to_be_visible()
        await ana.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(ana.get_by_test_id("record-question")).to_be_focused()
        await expect(ana.get_by_test_id("datasets-button")).to_be_hidden()  # Ana is not an admin

        # The analytics service holds Ana's two live records, the hand entry backdated.
        async with await operator_api(stack, "ana") as client:  # Ana sees her own departments' records
            listed = (await client.get("/api/records")).json()["records"]
        assert [(r["values"].get("question"), r["values"].get("read_scale")) for r in listed] == [
            ("Where are the city atlases from 1910?", 3), ("Where is the printer?", None)]
        by_hand = listed[1]
        assert by_hand["chat_id"] is None and by_hand["values"]["mode"] == "In person"
        assert by_hand["department_id"] == "reference"
        ago = datetime.now(timezone.utc) - datetime.fromisoformat(by_hand["answered_at"])
        assert timedelta(hours=1, minutes=58) < ago < timedelta(hours=2, minutes=2)

        # Cleo, an admin, adds a field to a new dataset in the editor.
        cleo_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
        cleo = await cleo_ctx.new_page()
        await sign_in(cleo, base, "cleo")
        await cleo.locator("header.topbar").screenshot(path=str(shots / "topbar-admin.png"))
        await cleo.get_by_test_id("datasets-button").click()
        editor = cleo.get_by_test_id("ds-editor")
        await expect(editor.get_by_test_id("ds-field")).to_have_count(9)
        await expect(editor.get_by_test_id("ds-name")).to_have_value("Reference Analytics")
        await cleo.get_by_test_id("datasets-dialog").screenshot(path=str(shots / "dataset-editor.png"))
        await editor.get_by_test_id("ds-new").click()
        await editor.get_by_test_id("ds-name").fill("Roving")
        await editor.get_by_test_id("ds-add-field").click()
        field = editor.get_by_test_id("ds-field").last
        await field.get_by_test_id("ds-label").fill("Zone")
        await expect(field.get_by_test_id("ds-key")).to_have_value("zone")
        await field.get_by_test_id("ds-options").fill("Stacks\nComputer lab\nCafé")
        await field.get_by_test_id("ds-required").check()
        await editor.get_by_test_id("ds-save").click()
        await expect(editor.get_by_test_id("ds-saved")).to_have_text("Saved")
        await expect(editor.get_by_test_id("ds-pick")).to_have_value("roving")
        await cleo.get_by_test_id("datasets-dialog").screenshot(path=str(shots / "dataset-editor-saved.png"))
        await cleo.keyboard.press("Escape")
        # The new dataset can be picked in the hand-entry form.
        await cleo.get_by_test_id("record-question").click()
        picker = cleo.get_by_test_id("ra-dialog").get_by_test_id("ra-dataset")
        await expect(picker).to_be_visible()
        await picker.select_option("roving")
        await expect(cleo.get_by_test_id("ra-dialog").get_by_role("radiogroup", name=re.compile("Zone"))).to_be_visible()
        for ctx in (ana_ctx, patron_ctx, cleo_ctx):
            await ctx.close()
