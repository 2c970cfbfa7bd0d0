"""Rendering transcript emails: patron vs librarian content, HTML escaping, and times
in the library's time zone (including both sides of a DST change)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from refdesk.contracts.chat import Message
from refdesk.contracts.queue import ChatView
from services.chat.transcript import render, span

T0 = datetime(2026, 1, 15, 13, 0, tzinfo=timezone.utc)  # 14:00 CET in Berlin


def chat(start: datetime = T0, **changes: object) -> ChatView:
    fields = dict(id="c1", department_id="reference", department_name="Reference & <Research>", state="ended",
                  patron_name="Pat <script>alert(1)</script>", patron_email="pat@example.org",
                  question="Where are the maps?", queued_at=start, claimed_at=start + timedelta(seconds=75),
                  ended_at=start + timedelta(minutes=11, seconds=15), claimed_by="op-ana", claimed_by_name="Ana",
                  ended_by="operator")
    return ChatView(**{**fields, **changes})


def messages(start: datetime = T0) -> list[Message]:
    rows = [
        ("patron", None, "Pat <script>alert(1)</script>", "Where are the <b>maps</b>?", False),
        ("system", None, "refdesk", "Ana joined the chat.", False),
        ("operator", "op-ana", "Ana", "Hi! Floor 2 & the map room.", False),
        ("operator", "op-ana", "Ana", "SECRET NOTE: patron asked twice before", True),
        ("patron", None, "Pat <script>alert(1)</script>", "Thanks\nbye", False),
        ("system", None, "refdesk", "Ana ended the chat.", False),
    ]
    return [Message(id=f"m{seq}", chat_id="c1", seq=seq, cmid=f"x{seq}", author_kind=kind, author_id=author_id,
                    author_name=name, body=body, sent_at=start + timedelta(minutes=seq), internal=internal)
            for seq, (kind, author_id, name, body, internal) in enumerate(rows, start=1)]


NAMES = {"op-ana": "Ana Lima-Okafor"}


def patron(start: datetime = T0, zone: str = "Europe/Berlin"):
    return render(chat(start), messages(start), "patron", time_zone=zone, library="Ask a Librarian",
                  full_names=NAMES)


def librarian(start: datetime = T0, zone: str = "Europe/Berlin"):
    return render(chat(start), messages(start), "librarian", time_zone=zone, library="Ask a Librarian",
                  full_names=NAMES)


def test_patron_transcript_has_no_notes_no_system_messages_and_nicknames_only() -> None:
    mail = patron()
    for part in (mail.text, mail.html):
        assert "SECRET NOTE" not in part
        assert "joined the chat" not in part and "ended the chat" not in part
        assert "Ana Lima-Okafor" not in part and "Internal note" not in part
        assert "pat@example.org" not in part
    assert "[14:03 CET] Ana: Hi! Floor 2 & the map room." in mail.text
    assert "Answered by: Ana" in mail.text
    assert "Wait: 1 min 15 s" in mail.text and "Duration: 10 min 0 s" in mail.text
    assert "Date: Thursday 15 January 2026" in mail.text
    assert mail.subject == "Your chat with Ask a Librarian on 15 January 2026"


def test_librarian_transcript_has_full_names_system_messages_and_marked_notes() -> None:
    mail = librarian()
    assert "[14:04 CET] [Internal note] Ana Lima-Okafor: SECRET NOTE: patron asked twice before" in mail.text
    assert "[14:02 CET] * Ana joined the chat." in mail.text
    assert "[14:06 CET] * Ana ended the chat." in mail.text
    assert "Answered by: Ana Lima-Okafor (Ana)" in mail.text
    assert "Patron email: pat@example.org" in mail.text
    assert "Internal note — Ana Lima-Okafor:" in mail.html and "SECRET NOTE" in mail.html
    assert "Ana joined the chat." in mail.html
    assert mail.subject.startswith("Librarian transcript: chat with Pat")


def test_every_user_text_is_escaped_in_html() -> None:
    for mail in (patron(), librarian()):
        assert "<script>" not in mail.html and "<b>maps</b>" not in mail.html
        assert "Pat &lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
        assert "Where are the &lt;b&gt;maps&lt;/b&gt;?" in mail.html
        assert "Reference &amp; &lt;Research&gt;" in mail.html
        assert "Thanks<br>\nbye" in mail.html
        # the plain text keeps the text as typed
        assert "Where are the <b>maps</b>?" in mail.text


def test_times_follow_the_library_zone_across_daylight_saving() -> None:
    summer = datetime(2026, 3, 29, 10, 0, tzinfo=timezone.utc)  # the day Berlin moves to CEST (at 01:00 UTC)
    assert "[12:03 CEST] Ana:" in patron(summer).text
    assert "Started: 12:00 CEST" in patron(summer).text
    winter = datetime(2026, 3, 28, 10, 0, tzinfo=timezone.utc)
    assert "Started: 11:00 CET" in patron(winter).text
    # Los Angeles falls back at 09:00 UTC on 1 November 2026: 01:30 happens twice
    first, second = datetime(2026, 11, 1, 8, 30, tzinfo=timezone.utc), datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)
    assert "Started: 01:30 PDT" in patron(first, "America/Los_Angeles").text
    assert "Started: 01:30 PST" in patron(second, "America/Los_Angeles").text
    assert "Started: 09:30 UTC" in patron(second, "UTC").text


def test_open_and_unanswered_chats_say_so() -> None:
    waiting = chat(claimed_at=None, claimed_by=None, claimed_by_name=None, ended_at=None, state="queued")
    mail = render(waiting, [], "patron", time_zone="UTC", library="Ask")
    assert "Wait: not answered" in mail.text and "Duration: in progress" in mail.text
    assert "(no messages)" in mail.text


def test_span_is_readable() -> None:
    assert [span(None), span(5), span(200), span(3900)] == ["—", "5 s", "3 min 20 s", "1 h 5 min"]


def test_header_names_the_department_and_the_patron_copy_says_replies_are_not_read() -> None:
    mail, staff = patron(), librarian()
    assert "Department: Reference & <Research>" in mail.text and "Library:" not in mail.text
    assert "Ask a Librarian —" not in mail.text
    assert mail.text.rstrip().endswith("This is an automatic message; replies are not read.")
    assert "This is an automatic message; replies are not read." in mail.html
    assert "replies are not read" not in staff.text and "replies are not read" not in staff.html
