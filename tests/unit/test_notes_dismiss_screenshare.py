"""Pure logic of internal notes, dismissal and screenshare: the patron filter, the
dismissal record, the queue's dismiss rules, the gateway's fan-out of notes and
screenshare requests, and the meeting-link providers (Zoom through
``httpx.MockTransport``: this machine cannot reach Zoom, so only the request building
and answer reading are tested here, never a real Zoom account)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest
from pydantic import ValidationError

from gateway import screenshare as fanout
from gateway.hub import Hub
from gateway.registry import Registry
from refdesk.bus import BusError, Conflict, Forbidden
from refdesk.contracts.chat import Message, Screenshare, SendRequest, patron_visible
from refdesk.contracts.queue import ChatView, DismissRequest
from refdesk.settings import Settings
from services.chat import domain
from services.chat import screenshare as providers
from services.queue import domain as queue_domain

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


def view(**chat: object) -> ChatView:
    return ChatView(id="c1", department_id="reference", department_name="Reference", state="queued",
                    patron_name="Maya", question="Is the library open on Sunday?", queued_at=T0).model_copy(update=chat)


def message(seq: int, *, internal: bool = False) -> Message:
    return Message(id=f"m{seq}", chat_id="c1", seq=seq, cmid=f"k{seq}", author_kind="operator",
                   author_name="Ana", body=f"text {seq}", sent_at=T0, internal=internal)


class Peer:
    def __init__(self) -> None:
        self.frames: list[dict] = []

    def send(self, frame: str) -> None:
        self.frames.append(json.loads(frame))


# --- internal notes --------------------------------------------------------------


def test_patron_visible_drops_only_internal_notes_and_keeps_the_order() -> None:
    messages = [message(1), message(2, internal=True), message(3), message(4, internal=True)]
    assert [m.seq for m in patron_visible(messages)] == [1, 3]


def test_a_patron_message_cannot_be_internal() -> None:
    with pytest.raises(ValidationError, match="a patron cannot write an internal note"):
        SendRequest(chat_id="c1", cmid="x", author_kind="patron", author_name="Maya", body="hi", internal=True)


def test_a_note_reaches_operator_feeds_and_only_passes_patron_feeds() -> None:
    hub = Hub(nc=None)  # type: ignore[arg-type]  # routing only, no subscriptions
    patron, operator = Peer(), Peer()
    patron_feed = hub.registry.open_feed(patron, "c1", "patron")
    operator_feed = hub.registry.open_feed(operator, "c1", "operator")
    patron_feed.go_live(0, [])
    operator_feed.go_live(0, [])
    for m in (message(1), message(2, internal=True), message(3)):
        hub.message_posted(m)
    assert [f["message"]["seq"] for f in patron.frames] == [1, 3]
    assert [f["message"]["seq"] for f in operator.frames] == [1, 2, 3]
    assert patron_feed.top_seq == 3  # the gap is passed, not waited for


def test_a_note_buffered_during_the_history_is_never_flushed_to_the_patron() -> None:
    registry = Registry()
    patron = Peer()
    feed = registry.open_feed(patron, "c1", "patron")
    feed.offer(5, None)  # a note arrives while the history is fetched
    feed.offer(6, '{"type": "message", "seq": 6}')
    feed.go_live(4, [4])
    assert patron.frames == [{"type": "message", "seq": 6}]


# --- dismiss ---------------------------------------------------------------------


def test_the_dismissal_is_a_staff_only_end_record() -> None:
    chat = view(state="closed", ended_at=T0, ended_by="operator", closed_at=T0, dismissed_by="op-ana",
                dismissed_by_name="Ana", dismiss_note="Spam")
    messages = domain.lifecycle_messages("dismissed", chat)
    assert [m.cmid for m in messages] == ["ev:question", "ev:dismissed"]
    record = messages[-1]
    assert record.internal and record.author_kind == "system"
    assert record.body == "Ana dismissed the chat. Note: Spam"
    assert domain.ends_chat(record)
    # A send carrying the closed chat records the same end first (never "ended the chat.").
    assert [m.cmid for m in domain.messages_before_send(chat)] == ["ev:question", "ev:dismissed"]


def test_transitions_without_a_message_record_nothing() -> None:
    assert domain.lifecycle_messages("transfer_requested", view(state="active")) == []


def test_dismiss_rules() -> None:
    queued = view()
    queue_domain.check_dismiss(queued, "op-ben", ["reference"])  # any member, queued
    with pytest.raises(Forbidden, match="not a member of the Reference department"):
        queue_domain.check_dismiss(queued, "op-ben", ["archives"])
    active = view(state="active", claimed_by="op-ana", claimed_by_name="Ana", claimed_at=T0)
    queue_domain.check_dismiss(active, "op-ana", ["reference"])
    with pytest.raises(Forbidden, match="Only Ana can dismiss it."):
        queue_domain.check_dismiss(active, "op-ben", ["reference"])
    with pytest.raises(Conflict, match="This chat has ended."):
        queue_domain.check_dismiss(view(state="ended", ended_at=T0, ended_by="patron"), "op-ana", ["reference"])


def test_the_dismiss_note_is_one_clean_line_with_a_default() -> None:
    assert DismissRequest(chat_id="c", operator_id="o", note="  spam\n bot ").note == "spam bot"
    assert DismissRequest(chat_id="c", operator_id="o", note="   ").note is None
    assert queue_domain.dismiss_note(None, "Ana") == "Dismissed by Ana"
    assert queue_domain.dismiss_note("Test chat", "Ana") == "Test chat"


# --- screenshare fan-out -----------------------------------------------------------


def request(state: str, **fields: object) -> Screenshare:
    return Screenshare(id="s1", chat_id="c1", state=state, operator_id="op-ana", operator_name="Ana",
                       requested_at=T0, **fields)


def test_the_patron_is_prompted_without_any_link_and_never_gets_the_host_link() -> None:
    registry = Registry()
    patron, operator = Peer(), Peer()
    registry.join_patron(patron, "c1")
    registry.open_feed(operator, "c1", "operator")
    fanout.deliver(registry, request("pending"))
    assert patron.frames[0]["type"] == "screenshare.offer" and patron.frames[0]["request"]["join_url"] is None
    accepted = request("accepted", answered_at=T0, join_url="https://j/1", host_url="https://h/secret", provider="zoom")
    fanout.deliver(registry, accepted)
    assert patron.frames[1]["type"] == "screenshare.update"
    assert patron.frames[1]["request"]["join_url"] == "https://j/1" and patron.frames[1]["request"]["host_url"] is None
    assert "secret" not in json.dumps(patron.frames)
    assert operator.frames[-1]["request"]["host_url"] == "https://h/secret"


# --- providers -------------------------------------------------------------------


def test_room_links_are_fresh_and_unguessable() -> None:
    first = providers.room_link("https://meet.jit.si/refdesk-{room}")
    second = providers.room_link("https://meet.jit.si/refdesk-{room}")
    assert first != second and first.startswith("https://meet.jit.si/refdesk-")
    assert len(first.removeprefix("https://meet.jit.si/refdesk-")) >= 22
    assert providers.room_link("https://meet.example.org/rooms/", "abc") == "https://meet.example.org/rooms/abc"


def test_the_provider_is_zoom_only_when_every_zoom_setting_is_set() -> None:
    assert isinstance(providers.provider_for(Settings(zoom_account_id="a", zoom_client_id="b")),
                      providers.RoomLinkProvider)
    zoom = Settings(zoom_account_id="a", zoom_client_id="b", zoom_client_secret="c")
    assert isinstance(providers.provider_for(zoom), providers.ZoomProvider)


class FakeZoom:
    """Zoom's two endpoints as an ``httpx.MockTransport`` handler (pure logic only)."""

    def __init__(self, meeting_status: int = 201) -> None:
        self.calls: list[httpx.Request] = []
        self.meeting_status = meeting_status

    def __call__(self, req: httpx.Request) -> httpx.Response:
        self.calls.append(req)
        if req.url.host == "zoom.us" and req.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok-1", "token_type": "bearer", "expires_in": 3599})
        if req.url.host == "api.zoom.us" and req.url.path == "/v2/users/me/meetings":
            if self.meeting_status != 201:
                return httpx.Response(self.meeting_status, json={"message": "Invalid access token."})
            return httpx.Response(201, json={"id": 1, "join_url": "https://zoom.us/j/1?pwd=x",
                                             "start_url": "https://zoom.us/s/1?zak=host"})
        return httpx.Response(404)


async def test_zoom_token_then_meeting_with_basic_auth_and_a_cached_token() -> None:
    fake = FakeZoom()
    zoom = providers.ZoomProvider("acct", "client", "secret", transport=httpx.MockTransport(fake))
    link = await zoom.create("Library screenshare with Maya")
    assert link == providers.MeetingLink(join_url="https://zoom.us/j/1?pwd=x",
                                         host_url="https://zoom.us/s/1?zak=host", provider="zoom")
    token_call, meeting_call = fake.calls
    assert token_call.method == "POST"
    assert dict(token_call.url.params) == {"grant_type": "account_credentials", "account_id": "acct"}
    assert token_call.headers["authorization"] == httpx.BasicAuth("client", "secret")._auth_header
    assert meeting_call.headers["authorization"] == "Bearer tok-1"
    body = json.loads(meeting_call.content)
    assert body["topic"] == "Library screenshare with Maya" and body["type"] == 1
    await zoom.create("again")
    assert [c.url.path for c in fake.calls[2:]] == ["/v2/users/me/meetings"]  # token reused


async def test_zoom_failures_read_as_a_503_and_a_rejected_token_is_forgotten() -> None:
    fake = FakeZoom(meeting_status=401)
    zoom = providers.ZoomProvider("acct", "client", "secret", transport=httpx.MockTransport(fake))
    with pytest.raises(BusError) as caught:
        await zoom.create("x")
    assert caught.value.code == "503" and caught.value.message == providers.UNAVAILABLE
    fake.meeting_status = 201
    await zoom.create("x")
    assert [c.url.path for c in fake.calls] == ["/oauth/token", "/v2/users/me/meetings",
                                                "/oauth/token", "/v2/users/me/meetings"]


async def test_a_zoom_answer_without_links_is_refused() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3599})
        return httpx.Response(201, json={"id": 1})

    zoom = providers.ZoomProvider("a", "b", "c", transport=httpx.MockTransport(handler))
    with pytest.raises(BusError):
        await zoom.create("x")
