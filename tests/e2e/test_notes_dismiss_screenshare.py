"""Internal notes, Dismiss and screenshare in Chromium, asserting what each person
sees: the patron never sees a note (live or after a reload); a dismissed chat leaves a
second operator's list and the spammer's widget just says the chat ended; the consent
card comes first, and only after Accept do both sides have the meeting link.

Real parts only: every service, the gateway, NATS, PostgreSQL and Debian's Chromium.
Set ``RD_SHOTS`` to a folder to keep screenshots of the pane, the dialog and the card.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_shift import sign_in
from tests.gateway_client import gateway_stack, new_chat, online_operator
from tests.support import running_system

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]  # three browsers and a long story

TEMPLATE = "https://meet.example.org/library-{room}"
NOTE = "Checked: this patron asked the same last week (staff only)"


async def shot(page: Page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("RD_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"))


async def start_chat(page: Page, base: str, name: str, question: str) -> None:
    await page.goto(f"{base}/patron/?department=reference")
    await page.get_by_test_id("patron-name").fill(name)
    await page.get_by_test_id("patron-question").fill(question)
    await page.get_by_test_id("start-chat").click()
    await expect(page.get_by_test_id("queue-position")).to_contain_text("1")


async def test_notes_dismiss_and_screenshare_as_each_person_sees_them(servers, browser, tmp_path) -> None:
    async with running_system(servers, screenshare_url_template=TEMPLATE) as stack:
        base = f"http://127.0.0.1:{stack.settings.gateway_port}"
        ana_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        ben_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        patron_ctx = await browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
        spam_ctx = await browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
        ana, ben, patron, spammer = (await ana_ctx.new_page(), await ben_ctx.new_page(),
                                     await patron_ctx.new_page(), await spam_ctx.new_page())
        await sign_in(ana, base, "ana")
        await sign_in(ben, base, "ben")

        # --- internal notes ---------------------------------------------------------
        await start_chat(patron, base, "Dana Reader", "Can I get a scan of a 1923 map?")
        await ana.get_by_test_id("chat-row").filter(has_text="Dana Reader").get_by_test_id("claim-button").click()
        pane = ana.get_by_test_id("chat-pane")
        await expect(pane).to_be_visible()
        box = pane.get_by_test_id("reply-box")
        await expect(box).to_have_attribute("placeholder", "Type your reply…")

        # The toggle is a radio group: arrow keys move from "Message patron" to "Internal note".
        await pane.get_by_test_id("mode-patron").focus()
        await ana.keyboard.press("ArrowRight")
        await expect(pane.get_by_test_id("mode-note")).to_be_checked()
        await expect(box).to_have_attribute("placeholder", re.compile("internal note", re.I))
        await expect(pane.get_by_test_id("send-button")).to_have_text("Add note")
        await box.fill(NOTE)
        await shot(ana, "pane-writing-a-note", tmp_path)
        await box.press("Enter")
        note = pane.get_by_test_id("message").filter(has_text=NOTE)
        await expect(note).to_have_attribute("data-seq", re.compile(r"\d+"))
        await expect(note.get_by_test_id("internal-label")).to_have_text("Internal note — not seen by the patron")
        await expect(note).to_have_attribute("data-internal", "true")
        await pane.get_by_role("radio", name="Message patron").click()
        await expect(box).to_have_attribute("placeholder", "Type your reply…")
        await box.fill("Yes — which part of the map?")
        await box.press("Enter")
        await expect(patron.get_by_test_id("message").filter(has_text="which part of the map")).to_be_visible()
        await expect(patron.get_by_text(NOTE)).to_have_count(0)
        await expect(patron.get_by_test_id("internal-label")).to_have_count(0)
        # A reload replays the history: still no note, and the conversation continues.
        await patron.reload()
        await expect(patron.get_by_test_id("message").filter(has_text="which part of the map")).to_be_visible()
        await expect(patron.get_by_text(NOTE)).to_have_count(0)
        await patron.get_by_test_id("reply-box").fill("The harbour, please.")
        await patron.get_by_test_id("send-button").tap()
        await expect(pane.get_by_test_id("message").filter(has_text="The harbour, please.")).to_be_visible()
        await expect(patron.get_by_test_id("message").filter(has_text="The harbour, please.")).to_have_count(1)
        await shot(ana, "pane-with-note", tmp_path)

        # --- screenshare ---------------------------------------------------------------
        await expect(patron.get_by_test_id("screenshare-offer")).to_be_hidden()
        await pane.get_by_test_id("screenshare-button").click()
        await expect(pane.get_by_test_id("screenshare-status")).to_contain_text("Waiting for Dana Reader")
        card = patron.get_by_test_id("screenshare-offer")
        await expect(card).to_contain_text("Share your screen?")
        await expect(card).to_contain_text("Ana would like to see your screen")
        # No link anywhere before consent.
        await expect(patron.get_by_test_id("screenshare-link")).to_have_count(0)
        await expect(ana.get_by_test_id("screenshare-link")).to_have_count(0)
        await shot(patron, "patron-consent-card-390", tmp_path)
        # A reload brings the pending prompt back.
        await patron.reload()
        await expect(card).to_contain_text("Share your screen?")
        accept = card.get_by_test_id("screenshare-accept")
        await accept.focus()
        await patron.keyboard.press("Enter")
        patron_link = patron.get_by_test_id("screenshare-link")
        await expect(patron_link).to_have_attribute("href", re.compile(r"^https://meet\.example\.org/library-[\w-]{20,}$"))
        ana_link = ana.get_by_test_id("screenshare-link")
        await expect(ana_link).to_have_attribute("href", await patron_link.get_attribute("href"))
        decided = "Dana Reader accepted the screenshare request."
        await expect(patron.get_by_test_id("message").filter(has_text=decided)).to_be_visible()
        await expect(pane.get_by_test_id("message").filter(has_text=decided)).to_be_visible()
        await shot(patron, "patron-screenshare-ready-390", tmp_path)
        await shot(ana, "pane-screenshare-accepted", tmp_path)

        # --- dismiss ---------------------------------------------------------------------
        await start_chat(spammer, base, "Spam Bot", "cheap watches www.example.com")
        for page in (ana, ben):
            await expect(page.get_by_test_id("chat-row").filter(has_text="Spam Bot")).to_be_visible()
        row = ana.get_by_test_id("chat-row").filter(has_text="Spam Bot")
        await row.get_by_test_id("dismiss-button").click()
        dialog = ana.get_by_test_id("dismiss-dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_test_id("dismiss-note")).to_have_value("Dismissed by Ana")
        await expect(dialog.get_by_test_id("dismiss-note")).to_be_focused()
        await shot(ana, "dismiss-dialog", tmp_path)
        await ana.keyboard.press("Escape")  # Esc closes without dismissing
        await expect(dialog).to_have_count(0)
        await expect(row).to_be_visible()
        await row.get_by_test_id("dismiss-button").click()
        await dialog.get_by_test_id("dismiss-note").fill("Spam: advertising watches")
        await dialog.get_by_test_id("dismiss-confirm").click()
        await expect(row).to_have_count(0)
        await expect(ben.get_by_test_id("chat-row").filter(has_text="Spam Bot")).to_have_count(0, timeout=10000)
        await expect(spammer.get_by_test_id("chat-ended")).to_be_visible()
        await expect(spammer.get_by_text("This chat has ended.")).to_be_visible()
        await expect(spammer.get_by_text("Spam: advertising watches")).to_have_count(0)
        await expect(spammer.get_by_test_id("reply-box")).to_be_disabled()
        await shot(spammer, "patron-after-dismiss-390", tmp_path)
        # Ben's reloaded dashboard no longer lists it.
        await ben.reload()
        await expect(ben.get_by_test_id("queue-empty")).to_be_visible()

        # The owner dismisses the active chat from the pane; the patron's widget ends calmly.
        await pane.get_by_test_id("dismiss-chat").click()
        await expect(dialog.get_by_test_id("dismiss-note")).to_have_value("Dismissed by Ana")
        await dialog.get_by_test_id("dismiss-confirm").click()
        await expect(ana.get_by_test_id("chat-pane")).to_have_count(0)
        await expect(patron.get_by_test_id("chat-ended")).to_be_visible()
        await expect(patron.get_by_text("Dismissed by Ana")).to_have_count(0)

        # The record keeps both dismissals (the queue's view of the chats).
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/healthz")).status_code == 200


# The patron page's own socket client (gateway/static/js/socket.js), driven in Chromium
# against the real gateway, with the page's WebSocket wrapped to see what it sends and
# to drop the connection.
_HARNESS = """async ({token, chatId}) => {
  const sent = [], sockets = [], bodies = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); sockets.push(this); }
    send(data) { sent.push(JSON.parse(data)); super.send(data); }
  };
  const { RefdeskSocket } = await import("/static/js/socket.js");
  const socket = new RefdeskSocket(token);
  socket.addEventListener("message", (event) => bodies.push(event.detail.message.body));
  window.__t = { socket, sent, sockets, bodies, chatId };
  socket.subscribe(chatId);
  socket.start();
}"""

_WAIT_FOR_BODY = """async (body) => {
  const t = window.__t;
  while (!t.bodies.includes(body)) await new Promise((r) => setTimeout(r, 20));
}"""

_RECONNECT = """async () => {
  const t = window.__t;
  const before = t.sockets.length;
  t.sockets.at(-1).close();  // the connection drops; the client reconnects by itself
  while (t.sockets.length === before || t.socket.state !== "open") await new Promise((r) => setTimeout(r, 20));
  // One round trip after the new welcome: frames are answered in order, so the
  // re-subscribe sent on welcome has been answered (and its history applied) by then.
  await t.socket.request({ type: "screenshare.get", chat_id: t.chatId });
  return t.sent.filter((f) => f.type === "chat.subscribe").map((f) => f.after_seq);
}"""


async def test_the_patron_socket_resumes_past_notes_after_a_reconnect(servers, browser) -> None:
    async with gateway_stack(servers) as gw:
        base = str(gw.http.base_url).rstrip("/")
        ana = await online_operator(gw, "ana", ["reference"])
        created = await new_chat(gw, "reference", "Does my socket resume?")
        chat_id = created["chat_id"]
        await ana.ok({"type": "chat.claim", "chat_id": chat_id})
        one = await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "one", "body": "one"})

        page = await browser.new_page()
        await page.goto(f"{base}/patron/?department=reference")
        await page.evaluate(_HARNESS, {"token": created["token"], "chatId": chat_id})
        await page.evaluate(_WAIT_FOR_BODY, "one")

        # A note and a message arrive live: the patron's seqs now have a gap.
        await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "n", "body": "NOTE", "internal": True})
        two = await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "two", "body": "two"})
        await page.evaluate(_WAIT_FOR_BODY, "two")

        # First reconnect: asks from the last seq before the gap; the history's
        # top_seq then covers the gap …
        assert await page.evaluate(_RECONNECT) == [0, one["seq"]]
        # … so the next reconnect asks from the top: no re-fetching of the gap.
        assert await page.evaluate(_RECONNECT) == [0, one["seq"], two["seq"]]

        three = await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "three", "body": "three"})
        await page.evaluate(_WAIT_FOR_BODY, "three")
        assert await page.evaluate("() => window.__t.bodies") == ["Does my socket resume?", "Ana joined the chat.",
                                                                  "one", "two", "three"]
        assert three["seq"] == two["seq"] + 1
        await ana.close()
