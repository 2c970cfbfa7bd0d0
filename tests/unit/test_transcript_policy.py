"""Who may email a chat's transcript (gateway policy), and what a patron sees of a mail."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gateway.mail_status import route
from gateway.policy import PATRON_TRANSCRIPT_MAILS, check_patron_transcript, check_transcript_sender
from refdesk.bus import Conflict, Forbidden
from refdesk.contracts.mail import MailStatusEvent, MailView
from refdesk.contracts.queue import ChatView, OperatorProfile, Participant
from gateway.registry import Registry

NOW = datetime(2026, 1, 15, 13, 0, tzinfo=timezone.utc)


def chat(**changes: object) -> ChatView:
    fields = dict(id="c1", department_id="reference", department_name="Reference", state="ended",
                  patron_name="Pat", question="?", queued_at=NOW, claimed_by="ana", claimed_by_name="Ana")
    return ChatView(**{**fields, **changes})


def operator(op_id: str, *, admin: bool = False) -> OperatorProfile:
    return OperatorProfile(id=op_id, username=op_id, full_name=op_id.title(), nickname=op_id.title(), is_admin=admin)


def test_owner_participant_and_admin_may_send_others_not() -> None:
    check_transcript_sender(operator("ana"), chat())
    check_transcript_sender(operator("ben"), chat(participants=[Participant(operator_id="ben", nickname="Ben")]))
    check_transcript_sender(operator("cleo", admin=True), chat())
    with pytest.raises(Forbidden, match="Only the operators of this chat or an admin"):
        check_transcript_sender(operator("ben"), chat())


def test_patron_only_after_the_end_and_a_few_times() -> None:
    check_patron_transcript(chat(state="closed"), 0)
    with pytest.raises(Conflict, match="once the chat has ended"):
        check_patron_transcript(chat(state="active"), 0)
    with pytest.raises(Conflict, match="already asked"):
        check_patron_transcript(chat(), PATRON_TRANSCRIPT_MAILS)


class Peer:
    def __init__(self) -> None:
        self.frames: list[str] = []

    def send(self, frame: str) -> None:
        self.frames.append(frame)


class Msg:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.subject = "rd.ev.chat.mail.m1.failed"


def mail(**changes: object) -> MailView:
    fields = dict(id="m1", kind="transcript.patron", subject_ref="chat:c1", to=["pat@example.org"], subject="s",
                  status="failed", attempts=6, last_error="Could not connect to the mail server at 10.0.0.5:25.",
                  created_at=NOW)
    return MailView(**{**fields, **changes})


def test_status_goes_to_the_requesting_operator_or_the_patron_without_internals() -> None:
    registry = Registry()
    ana, patron = Peer(), Peer()
    registry.join_operator(ana, operator("ana"))
    registry.join_patron(patron, "c1")
    route(registry, Msg(MailStatusEvent(event_id="e1", type="failed", mail=mail(requested_by="ana")).model_dump_json().encode()))
    assert len(ana.frames) == 1 and "10.0.0.5" in ana.frames[0] and patron.frames == []
    ben = Peer()
    registry.join_operator(ben, operator("ben"))
    registry.open_feed(ben, "c1", "operator")  # Ben has the chat open
    route(registry, Msg(MailStatusEvent(event_id="e2", type="failed", mail=mail()).model_dump_json().encode()))
    assert len(patron.frames) == 1 and "10.0.0.5" not in patron.frames[0] and '"status":"failed"' in patron.frames[0]
    assert len(ben.frames) == 1 and "10.0.0.5" in ben.frames[0]  # staff see why it failed
    assert len(ana.frames) == 1
