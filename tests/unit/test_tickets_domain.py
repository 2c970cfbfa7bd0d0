"""Pure rules of tickets: status transitions (LibAnswers New → Open → Pending →
Closed), claiming, reply addresses and Message-IDs, subjects, reading emailed answers
(quoted text stripped) and who may reach a ticket."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gateway.ticket_access import can_reach, check_reach, list_scope
from refdesk.bus import Conflict, Forbidden, Invalid
from refdesk.contracts.queue import Department, OperatorProfile
from refdesk.contracts.tickets import TicketView
from services.tickets import domain, emails
from services.tickets.inbound import html_to_text, read_mail, strip_quoted


@pytest.mark.parametrize(("current", "expected"), [("New", "Open"), ("Open", "Open"), ("Pending", "Pending"),
                                                   ("Closed", "Closed")])
def test_a_note_or_assignment_opens_only_a_new_ticket(current: str, expected: str) -> None:
    assert domain.after_staff_action(current) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "expected"), [("New", "New"), ("Open", "Open"), ("Pending", "Open"),
                                                   ("Closed", "Open")])
def test_a_patron_answer_reopens(current: str, expected: str) -> None:
    assert domain.after_patron_message(current) == expected  # type: ignore[arg-type]


def test_a_reply_sets_the_chosen_status_never_new() -> None:
    assert [domain.after_reply(s) for s in ("Pending", "Closed", "Open")] == ["Pending", "Closed", "Open"]
    with pytest.raises(Invalid):
        domain.after_reply("New")


def test_status_by_hand_cannot_go_back_to_new() -> None:
    assert domain.set_status("Open", "Closed") == "Closed"
    assert domain.set_status("New", "New") == "New"
    with pytest.raises(Invalid, match="cannot be set back to New"):
        domain.set_status("Pending", "New")


def test_claiming_rules() -> None:
    assert domain.check_claim(None, None, "ana") is True
    assert domain.check_claim("ana", "Ana", "ana") is False  # a repeated claim changes nothing
    with pytest.raises(Conflict, match="Already claimed by Ana."):
        domain.check_claim("ana", "Ana", "ben")
    domain.check_unclaim("ana", "ana", force=False)
    domain.check_unclaim("ana", "cleo", force=True)
    with pytest.raises(Forbidden):
        domain.check_unclaim("ana", "ben", force=False)
    with pytest.raises(Conflict):
        domain.check_unclaim(None, "ben", force=False)


def test_reply_addresses_round_trip_and_refuse_strangers() -> None:
    address = domain.reply_address("0a1b2c", "deadbeefcafe0001", "tickets.example.org")
    assert address == "ticket+0a1b2c.deadbeefcafe0001@tickets.example.org"
    assert domain.parse_reply_address(address.upper(), "tickets.example.org") == ("0a1b2c", "deadbeefcafe0001")
    assert domain.parse_reply_address(f"<{address}>", "tickets.example.org") == ("0a1b2c", "deadbeefcafe0001")
    assert domain.parse_reply_address(address, "elsewhere.org") is None
    assert domain.parse_reply_address("ticket+0a1b2c@tickets.example.org", "tickets.example.org") is None
    assert domain.secret_matches("abc", "abc") and not domain.secret_matches("abc", "abd")


def test_message_ids_name_their_ticket() -> None:
    mid = domain.message_id("0a1b", "ff00", "tickets.example.org")
    assert mid == "<ticket.0a1b.ff00@tickets.example.org>"


def test_subject_is_the_first_line_cut() -> None:
    assert domain.subject_of("\n  Where are the maps?\nMore detail") == "Where are the maps?"
    long = domain.subject_of("x" * 200)
    assert len(long) == domain.SUBJECT_CHARS and long.endswith("…")


def test_quoted_text_is_stripped() -> None:
    assert strip_quoted("Thanks!\n\nOn Tue, 1 Dec 2026, Ask a Librarian <ask@x.org> wrote:\n> Try the atlas.\n") == \
        "Thanks!"
    assert strip_quoted("Great.\nOn Tue, 1 Dec 2026 at 10:00, Ana\n<ask@x.org> wrote:\n> old") == "Great."
    assert strip_quoted("Yes please\n\n-----Original Message-----\nFrom: x\n") == "Yes please"
    assert strip_quoted("Sure\n\nFrom: Ask <ask@x.org>\nSent: Tuesday\nTo: me\n") == "Sure"
    assert strip_quoted("Reply\n-- \nMaya\nSent from my phone") == "Reply"
    assert strip_quoted("> only quoted\n> lines") == "> only quoted\n> lines"  # nothing new: keep it whole


def test_html_bodies_become_text_without_the_quote() -> None:
    html = "<html><head><style>p{}</style></head><body><p>Thank you!</p><p>Best, Maya</p>" \
           "<blockquote>earlier email</blockquote><script>x()</script></body></html>"
    assert html_to_text(html) == "Thank you!\n\nBest, Maya"


def test_read_mail_prefers_plain_text() -> None:
    raw = (b"From: Maya Chen <maya@example.org>\r\nTo: t@x\r\nMessage-ID: <m1@example.org>\r\n"
           b"In-Reply-To: <ticket.ab.cd@x>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n"
           b"<p>HTML version</p>\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain version\r\n"
           b"> quoted\r\n--b--\r\n")
    mail = read_mail(raw)
    assert (mail.author, mail.body, mail.message_id) == ("Maya Chen", "Plain version", "<m1@example.org>")
    assert "<ticket.ab.cd@x>" in mail.references


def _ticket(**changes: object) -> TicketView:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    fields = {"id": "t1", "department_id": "archives", "department_name": "Archives", "status": "New",
              "subject": "Maps", "patron_name": "Maya", "patron_email": "maya@example.org", "question": "Maps?",
              "created_at": now, "updated_at": now, **changes}
    return TicketView(**fields)  # type: ignore[arg-type]


def test_emails_carry_reply_to_and_message_id_and_only_the_reply() -> None:
    mail = emails.reply_email(_ticket(), "Try the atlas.", reply_to="ticket+t1.ab@x.org", message_id="<ticket.t1.1@x.org>",
                              in_reply_to="<ticket.t1.0@x.org>", requested_by="ana")
    assert (mail.reply_to, mail.header("Message-ID"), mail.header("In-Reply-To")) == (
        "ticket+t1.ab@x.org", "<ticket.t1.1@x.org>", "<ticket.t1.0@x.org>")
    assert mail.text.startswith("Try the atlas.") and "> Maps?" in mail.text
    confirmation = emails.confirmation_email(_ticket(), reply_to="ticket+t1.ab@x.org", message_id="<ticket.t1.2@x.org>")
    assert confirmation.header("Auto-Submitted") == "auto-generated" and "Archives" in confirmation.text


def _profile(departments: list[str], *, admin: bool = False, operator_id: str = "ben") -> OperatorProfile:
    return OperatorProfile(id=operator_id, username=operator_id, full_name=operator_id, nickname=operator_id,
                           is_admin=admin, departments=[Department(id=d, name=d.title()) for d in departments])


def test_who_reaches_a_ticket() -> None:
    ticket = _ticket(owner_operator_id="dora")
    assert can_reach(_profile(["archives"]), ticket)
    assert can_reach(_profile([], admin=True), ticket)
    assert can_reach(_profile(["reference"], operator_id="dora"), ticket)  # the owner, from elsewhere
    with pytest.raises(Forbidden, match="Archives queue"):
        check_reach(_profile(["reference"]), ticket)
    assert list_scope(_profile(["reference", "archives"])) == ["reference", "archives"]
    assert list_scope(_profile([], admin=True)) is None
