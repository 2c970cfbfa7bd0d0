"""The patron's view of a chat is an allow-list: nothing between librarians (the
dismissal, the transfer note, operator ids) reaches a patron reply, at any depth; and
a replay never claims to cover seqs beyond the chat's real top."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.handlers import covered_seq
from gateway.patron_view import for_patron, patron_chat
from refdesk.contracts.queue import ChatView, Participant, TransferView

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def staff_chat() -> ChatView:
    transfer = TransferView(id="t1", state="pending", from_operator_id="ana-id", from_operator_name="Ana",
                            to_department_id="archives", to_department_name="Archives", note="Upset patron",
                            requested_at=NOW)
    return ChatView(id="c1", department_id="reference", department_name="Reference", state="closed",
                    patron_name="Pat", question="Hi", queued_at=NOW, claimed_by="ana-id", claimed_by_name="Ana",
                    dismissed_by="ana-id", dismissed_by_name="Ana", dismiss_note="rude", transfer=transfer,
                    participants=[Participant(operator_id="ben-id", nickname="Ben")])


def test_the_patron_chat_keeps_what_the_widget_shows_and_nothing_staff_only() -> None:
    shown = patron_chat(staff_chat()).model_dump(mode="json")
    text = str(shown)
    assert "rude" not in text and "Upset patron" not in text and "-id" not in text
    assert not {"dismissed_by", "dismissed_by_name", "dismiss_note", "claimed_by"} & shown.keys()
    assert shown["claimed_by_name"] == "Ana" and shown["participants"] == [{"nickname": "Ben"}]
    assert shown["transfer"]["to_department_name"] == "Archives" and shown["transfer"]["note"] == ""


def test_every_chat_in_a_reply_is_converted_at_any_depth() -> None:
    reply = {"chat": staff_chat(), "list": [staff_chat()], "transfer": staff_chat().transfer, "n": 1}
    text = str({key: getattr(value, "model_dump", lambda: value)() for key, value in for_patron(reply).items()})
    assert "rude" not in text and "Upset patron" not in text
    assert for_patron({"n": 1}) == {"n": 1}


def test_a_replay_never_covers_beyond_the_real_top() -> None:
    assert covered_seq(50, [], 1, False) == 1
    assert covered_seq(3, [], 7, False) == 7
    assert covered_seq(0, [type("M", (), {"seq": 4})()], 9, True) == 4
