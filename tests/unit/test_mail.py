"""Pure parts of the mail outbox: the mail model, the retry schedule, MIME building,
error classification, and the mail catcher's parsing and patron reply."""

from __future__ import annotations

from datetime import datetime, timezone

import aiosmtplib
import pytest
from pydantic import ValidationError

from refdesk.mail import (
    DEFAULT_RETRY_SECONDS, OutgoingMail, build_message, classify_error, make_message_id, retry_delay,
)
from refdesk.mailcatcher import parse_mail, reply_message
from refdesk.settings import Settings


def mail(**changes: object) -> OutgoingMail:
    fields = {"to": "pat@example.org", "subject": "Your chat", "text": "Hello", "kind": "transcript.patron",
              "subject_ref": "chat:abc"}
    return OutgoingMail(**{**fields, **changes})


def test_retry_schedule_is_the_documented_one() -> None:
    assert DEFAULT_RETRY_SECONDS == (10, 60, 300, 900, 3600)
    assert [retry_delay(n) for n in range(1, 7)] == [10, 60, 300, 900, 3600, None]
    assert retry_delay(1, [0.5]) == 0.5 and retry_delay(2, [0.5]) is None
    with pytest.raises(ValueError):
        retry_delay(0)


def test_one_address_becomes_a_list_and_names_are_allowed() -> None:
    assert mail().to == ["pat@example.org"]
    assert mail(to=["A <a@example.org>", "b@x.localhost"]).to == ["A <a@example.org>", "b@x.localhost"]


@pytest.mark.parametrize("bad", [
    {"to": "not an address"}, {"to": []}, {"to": "a@example.org\r\nBcc: x@example.org"},
    {"subject": "two\nlines"}, {"headers": {"Bcc": "x@example.org"}}, {"headers": {"X-Id": "a\r\nb"}},
    {"headers": {"bad name": "x"}}, {"reply_to": "nobody"}, {"kind": ""},
])
def test_malformed_mails_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        mail(**bad)


def test_message_has_text_and_html_alternatives_and_headers() -> None:
    built = build_message(
        mail(html="<p>Hello</p>", reply_to="ticket+1@t.example.org", cc=["c@example.org"],
             headers={"Message-ID": "<m1@example.org>", "In-Reply-To": "<m0@example.org>"}),
        "Ask <ask@example.org>", date=datetime(2026, 3, 8, 12, tzinfo=timezone.utc),
    )
    assert built["From"] == "Ask <ask@example.org>" and built["To"] == "pat@example.org"
    assert built["Cc"] == "c@example.org" and built["Reply-To"] == "ticket+1@t.example.org"
    assert built["Message-ID"] == "<m1@example.org>" and built["In-Reply-To"] == "<m0@example.org>"
    assert built["Date"] == "Sun, 08 Mar 2026 12:00:00 +0000"
    assert built.get_body(("plain",)).get_content().strip() == "Hello"
    assert built.get_body(("html",)).get_content().strip() == "<p>Hello</p>"


def test_text_only_message_is_plain() -> None:
    built = build_message(mail(), "ask@example.org")
    assert built.get_content_type() == "text/plain"


def test_message_id_uses_the_senders_domain() -> None:
    first, second = make_message_id("Ask <ask@lib.example.org>"), make_message_id("ask@lib.example.org")
    assert first.startswith("<") and first.endswith("@lib.example.org>") and first != second


def test_errors_are_sentences_and_5xx_is_permanent() -> None:
    refused = classify_error(aiosmtplib.SMTPResponseException(550, "no such user"), "h", 25)
    assert refused.permanent and "550 no such user" in refused.reason
    busy = classify_error(aiosmtplib.SMTPResponseException(451, "try later"), "h", 25)
    assert not busy.permanent
    down = classify_error(ConnectionRefusedError(111, "Connection refused"), "127.0.0.1", 1025)
    assert not down.permanent and down.reason.startswith("Could not connect to the mail server at 127.0.0.1:1025")
    timeout = classify_error(aiosmtplib.SMTPTimeoutError("slow"), "h", 25)
    assert not timeout.permanent and "did not answer in time" in timeout.reason


def test_catcher_parses_what_the_relay_builds_and_replies_in_thread() -> None:
    built = build_message(
        mail(html="<b>x</b>", reply_to="ticket+1.s@t.example.org", headers={"Message-ID": "<m1@example.org>"}),
        "Ask <ask@example.org>",
    )
    caught = parse_mail(built.as_bytes(), "ask@example.org", ["pat@example.org"])
    assert caught.subject == "Your chat" and caught.text.strip() == "Hello" and caught.html.strip() == "<b>x</b>"
    assert caught.reply_to == "ticket+1.s@t.example.org" and caught.message_id == "<m1@example.org>"
    reply = reply_message(caught, "Thanks!", Settings())
    assert reply["To"] == "ticket+1.s@t.example.org" and reply["From"] == "pat@example.org"
    assert reply["Subject"] == "Re: Your chat"
    assert reply["In-Reply-To"] == "<m1@example.org>" and reply["References"] == "<m1@example.org>"
