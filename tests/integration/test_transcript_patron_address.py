"""A patron's own transcript cannot make the library email strangers (every service +
the gateway over real NATS and PostgreSQL, mail caught by a real aiosmtpd server):

* a patron who gave an email address when the chat started gets the transcript only
  there;
* a patron who gave none may type an address only when a librarian claimed the chat
  — an unanswered chat (say a "Your bank" chat with phishing text, ended by its own
  "patron") is never emailed anywhere;
* still at most three per chat.
"""

from __future__ import annotations

import pytest

from tests.gateway_client import Client, online_operator
from tests.integration.test_transcripts import MailGateway, caught, gw, status  # noqa: F401 - gw is a fixture
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

PHISHING = "Your account is locked. Confirm your card number at http://bank-login.example to unlock it."


async def start_chat(gw: MailGateway, name: str, question: str, email: str | None = None) -> tuple[Client, str]:
    """A patron's chat in Reference started over HTTP (``email`` only when given); the
    patron's subscribed socket and the chat id."""
    body = {"department_id": "reference", "name": name, "question": question} | ({"email": email} if email else {})
    response = await gw.http.post("/api/patron/chats", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    patron, _ = await Client.open(gw, created["token"])
    await patron.ok({"type": "chat.subscribe", "chat_id": created["chat_id"]})
    return patron, created["chat_id"]


def mails_to(gw: MailGateway, address: str) -> list:
    return [m for m in gw.box.newest_first() if address in m.envelope_to]


async def test_an_unanswered_chat_without_an_address_is_never_emailed(gw: MailGateway) -> None:
    patron, chat_id = await start_chat(gw, "Your bank", PHISHING)
    try:
        await patron.ok({"type": "chat.end", "chat_id": chat_id})
        for _ in range(3):
            refused = await patron.request({"type": "transcript.email", "chat_id": chat_id,
                                            "to": "victim@example.org"})
            assert (refused["type"], refused["code"]) == ("error", "403")
            assert refused["message"] == ("No librarian answered this chat and you gave no email address when it "
                                          "started, so its transcript cannot be emailed.")
        assert (await patron.ok({"type": "transcript.mails", "chat_id": chat_id}))["mails"] == []
    finally:
        await patron.close()
    assert mails_to(gw, "victim@example.org") == []


async def test_a_patron_who_gave_an_address_gets_it_only_there(gw: MailGateway) -> None:
    patron, chat_id = await start_chat(gw, "Your bank", PHISHING, email="sender@example.org")
    try:
        await patron.ok({"type": "chat.end", "chat_id": chat_id})
        refused = await patron.request({"type": "transcript.email", "chat_id": chat_id, "to": "victim@example.org"})
        assert (refused["type"], refused["code"]) == ("error", "403")
        assert refused["message"] == ("The transcript can only be sent to the email address you gave when the chat "
                                      "started (sender@example.org).")
        queued = await patron.ok({"type": "transcript.email", "chat_id": chat_id})
        assert queued["to"] == ["sender@example.org"]
        await eventually(caught(gw, "sender@example.org", "Your chat with"), what="the patron's own transcript")
    finally:
        await patron.close()
    assert mails_to(gw, "victim@example.org") == []


async def test_a_claimed_chat_without_an_address_goes_to_the_typed_one_at_most_three_times(gw: MailGateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    patron, chat_id = await start_chat(gw, "Noor", "Can I renew a laptop loan?")
    try:
        await ana.ok({"type": "chat.claim", "chat_id": chat_id})
        await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "a1", "body": "Yes, once, at the desk."})
        await ana.ok({"type": "chat.end", "chat_id": chat_id})
        missing = await patron.request({"type": "transcript.email", "chat_id": chat_id})
        assert (missing["code"], missing["message"]) == ("422", "Enter the email address to send the transcript to.")
        bad = await patron.request({"type": "transcript.email", "chat_id": chat_id, "to": "nope"})
        assert bad["code"] == "422" and "is not an email address" in bad["message"]
        queued = await patron.ok({"type": "transcript.email", "chat_id": chat_id, "to": "noor@example.org"})
        assert queued["to"] == ["noor@example.org"]
        await patron.expect("mail.status", status(queued["id"], "sent"))
        for _ in range(2):
            await patron.ok({"type": "transcript.email", "chat_id": chat_id, "to": "noor@example.org"})
        limit = await patron.request({"type": "transcript.email", "chat_id": chat_id, "to": "noor@example.org"})
        assert (limit["code"], limit["message"]) == ("409", "You have already asked for 3 transcripts of this chat.")
    finally:
        await ana.close()
        await patron.close()
