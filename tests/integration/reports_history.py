"""A generated event history for the reports' golden and replay tests, in the library
zone America/New_York around both daylight-saving changes of 2026 (spring forward
Sunday 2026-03-08 02:00 EST → 03:00 EDT; fall back Sunday 2026-11-01 02:00 EDT →
01:00 EST). Built from the contract models — the read model's real input — and
published straight to JetStream, shuffled, with some events published twice.

The chats (local queue times; +N = seconds after queued):

====  ===========  ============================  ====================================================
chat  department   queued (local)                what happens
====  ===========  ============================  ====================================================
c0    reference    Fri 2026-03-06 23:59 EST      answered (ana +10, ended +70); local date before
                                                 the spring range (UTC date 03-07)
c1    reference    Sat 2026-03-07 23:50 EST      ana claims +20, replies +50, ends 00:20 EST next day
                                                 (spans midnight)
c2    reference    Sun 2026-03-08 01:30 EST      ben claims +60, internal note +70, replies +105, ends +660
c3    reference    Sun 2026-03-08 03:15 EDT      missed (patron leaves +120); a ticket is created from it
c4    circulation  Sun 2026-03-08 10:00 EDT      dismissed by ana +30, never claimed
c5    reference    Mon 2026-03-09 09:00 EDT      ana claims +10, replies +20, transfers to ben (claims
                                                 +300, ana stays), ends +900; rated 5 "Great"
c6    archives     Sat 2026-10-31 22:00 EDT      ben claims +120, replies +150, ends +14400 (01:00 EST
                                                 next day, spans midnight); rated 2
c7    reference    Sun 2026-11-01 01:30 EDT      ana claims +40, replies +100, ends +340
c8    reference    Sun 2026-11-01 01:30 EST      ana claims +5, never replies, ends +65
c9    reference    Mon 2026-11-02 08:00 EST      still queued
c10   reference    Mon 2026-11-02 12:00 EST      missed (patron leaves +300)
====  ===========  ============================  ====================================================

Status changes (coverage): ana Online monitoring reference + circulation at Sat
2026-03-07 20:00 EST, reference only at Sun 2026-03-08 04:00 EDT, Offline at Mon
2026-03-09 10:00 EDT; ben Online monitoring archives at Sat 2026-10-31 23:00 EDT,
Offline at Sun 2026-11-01 03:00 EST.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from nats.aio.client import Client
from pydantic import BaseModel

from refdesk.bus import ensure_stream
from refdesk.contracts import chat, queue, tickets
from refdesk.contracts.queue import ChatEvent, ChatView, OperatorProfile, OperatorStatusEvent, Participant

NY = ZoneInfo("America/New_York")
DEPARTMENT_NAMES = {"reference": "Reference", "circulation": "Circulation", "archives": "Archives"}


def local(text: str, fold: int = 0) -> datetime:
    """A New York wall-clock time (``2026-03-08 01:30``) as an aware UTC datetime;
    ``fold=1`` picks the second of a repeated hour."""
    return datetime.fromisoformat(text).replace(tzinfo=NY, fold=fold).astimezone(timezone.utc)


@dataclass
class Chat:
    """One generated chat: its id, department and queue time; ``events`` and
    ``messages`` are filled by the builders."""

    id: str
    department: str
    queued: datetime

    def at(self, seconds: float) -> datetime:
        return self.queued + timedelta(seconds=seconds)

    def view(self, state: str, **fields) -> ChatView:
        return ChatView(id=self.id, department_id=self.department, department_name=DEPARTMENT_NAMES[self.department],
                        state=state, patron_name=f"Patron {self.id}", question="Where is the 1910 atlas?",
                        page_url=f"https://library.example/{self.department}", queued_at=self.queued, **fields)


class History:
    """Events of the generated history, in the order they happened."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.events: list[tuple[str, BaseModel]] = []
        self._n = 0

    def _id(self) -> str:
        self._n += 1
        return f"{self.prefix}-ev-{self._n}"

    def chat_event(self, c: Chat, kind: str, seconds: float, view: ChatView) -> None:
        self.events.append((queue.chat_event_subject(c.id, kind),
                            ChatEvent(event_id=self._id(), type=kind, chat=view, occurred_at=c.at(seconds))))

    def message(self, c: Chat, seq: int, kind: str, seconds: float, author: str | None = None,
                internal: bool = False) -> None:
        msg = chat.Message(id=f"{c.id}-m{seq}", chat_id=c.id, seq=seq, cmid=f"{c.id}-m{seq}", author_kind=kind,
                           author_id=author, author_name=author or "Patron", body="…", sent_at=c.at(seconds),
                           internal=internal)
        self.events.append((chat.message_event_subject(c.id),
                            chat.MessagePosted(event_id=self._id(), message=msg, occurred_at=c.at(seconds))))

    def status(self, operator_id: str, when: datetime, status: str, monitored: list[str]) -> None:
        profile = OperatorProfile(id=operator_id, username=operator_id, full_name=operator_id, nickname=operator_id,
                                  status=status, monitored=monitored)
        self.events.append((queue.operator_event_subject(operator_id),
                            OperatorStatusEvent(event_id=self._id(), operator=profile, occurred_at=when)))

    def ticket(self, c: Chat, seconds: float) -> None:
        view = tickets.TicketView(
            id=f"{c.id}-ticket", department_id=c.department, department_name=DEPARTMENT_NAMES[c.department],
            status="New", subject="Atlas", patron_name=f"Patron {c.id}", question="Where is the 1910 atlas?",
            chat_id=c.id, created_at=c.at(seconds), updated_at=c.at(seconds))
        self.events.append((tickets.ticket_event_subject(view.id, "created"),
                            tickets.TicketEvent(event_id=self._id(), type="created", ticket=view,
                                                occurred_at=c.at(seconds))))

    # -- shapes of chats ------------------------------------------------------------------

    def answered(self, c: Chat, op: str, claim: float, end: float, replies: list[float], *,
                 ended_by: str = "operator") -> None:
        """Queued, claimed by ``op`` at +claim, operator replies at +replies, ended at +end."""
        claimed = dict(claimed_at=c.at(claim), claimed_by=op)
        self.chat_event(c, "queued", 0, c.view("queued"))
        self.message(c, 1, "patron", 0)
        self.chat_event(c, "claimed", claim, c.view("active", **claimed))
        self.message(c, 2, "system", claim)
        for seq, seconds in enumerate(replies, start=3):
            self.message(c, seq, "operator", seconds, author=op)
        self.chat_event(c, "ended", end, c.view("ended", **claimed, ended_at=c.at(end), ended_by=ended_by))
        self.chat_event(c, "closed", end + 30,
                        c.view("closed", **claimed, ended_at=c.at(end), ended_by=ended_by, closed_at=c.at(end + 30)))

    def missed(self, c: Chat, leave: float) -> None:
        """Queued, then the patron leaves at +leave."""
        self.chat_event(c, "queued", 0, c.view("queued"))
        self.message(c, 1, "patron", 0)
        self.chat_event(c, "ended", leave, c.view("ended", ended_at=c.at(leave), ended_by="patron"))


def build(prefix: str) -> History:
    """The whole generated history (chat ids ``<prefix>-c0`` … ``<prefix>-c10``)."""
    h = History(prefix)

    def mk(n: int, department: str, when: datetime) -> Chat:
        return Chat(f"{prefix}-c{n}", department, when)

    h.answered(mk(0, "reference", local("2026-03-06 23:59")), "ana", 10, 70, [30])
    h.answered(mk(1, "reference", local("2026-03-07 23:50")), "ana", 20, 1800, [50], ended_by="patron")
    c2 = mk(2, "reference", local("2026-03-08 01:30"))
    h.answered(c2, "ben", 60, 660, [105])
    h.message(c2, 9, "operator", 70, author="ben", internal=True)  # an internal note: not a response
    c3 = mk(3, "reference", local("2026-03-08 03:15"))
    h.missed(c3, 120)
    h.ticket(c3, 400)
    c4 = mk(4, "circulation", local("2026-03-08 10:00"))
    h.chat_event(c4, "queued", 0, c4.view("queued"))
    h.chat_event(c4, "dismissed", 30, c4.view("closed", dismissed_by="ana", dismissed_by_name="Ana",
                                              dismiss_note="Test chat", closed_at=c4.at(30)))
    c5 = mk(5, "reference", local("2026-03-09 09:00"))
    first = dict(claimed_at=c5.at(10), claimed_by="ana")
    # The claim completing the transfer keeps the first claim's time (as the queue does).
    after = dict(claimed_at=c5.at(10), claimed_by="ben", transfer_count=1,
                 participants=[Participant(operator_id="ana", nickname="Ana")])
    h.chat_event(c5, "queued", 0, c5.view("queued"))
    h.message(c5, 1, "patron", 0)
    h.chat_event(c5, "claimed", 10, c5.view("active", **first))
    h.message(c5, 2, "operator", 20, author="ana")
    h.chat_event(c5, "transfer_requested", 200, c5.view("active", **first))
    h.chat_event(c5, "claimed", 300, c5.view("active", **after))
    h.message(c5, 3, "operator", 320, author="ben")
    h.message(c5, 4, "patron", 330)
    ended = dict(after, ended_at=c5.at(900), ended_by="operator")
    h.chat_event(c5, "ended", 900, c5.view("ended", **ended))
    h.chat_event(c5, "rated", 960, c5.view("ended", **ended, rating=5, rating_comment="Great"))
    c6 = mk(6, "archives", local("2026-10-31 22:00"))
    h.answered(c6, "ben", 120, 14400, [150])
    h.chat_event(c6, "rated", 14500, c6.view("closed", claimed_at=c6.at(120), claimed_by="ben",
                                             ended_at=c6.at(14400), ended_by="operator", closed_at=c6.at(14430),
                                             rating=2))
    h.answered(mk(7, "reference", local("2026-11-01 01:30", fold=0)), "ana", 40, 340, [100])
    h.answered(mk(8, "reference", local("2026-11-01 01:30", fold=1)), "ana", 5, 65, [])
    c9 = mk(9, "reference", local("2026-11-02 08:00"))
    h.chat_event(c9, "queued", 0, c9.view("queued"))
    h.missed(mk(10, "reference", local("2026-11-02 12:00")), 300)

    h.status("ana", local("2026-03-07 20:00"), "online", ["circulation", "reference"])
    h.status("ana", local("2026-03-08 04:00"), "online", ["reference"])
    h.status("ana", local("2026-03-09 10:00"), "offline", [])
    h.status("ben", local("2026-10-31 23:00"), "online", ["archives"])
    h.status("ben", local("2026-11-01 03:00"), "offline", [])
    return h


async def publish(nc: Client, history: History, *, seed: int = 7) -> None:
    """Publish the history shuffled (streams interleaved, events out of order), with
    every fifth event published a second time under another ``Nats-Msg-Id`` (a
    redelivery JetStream cannot de-duplicate)."""
    for name, subjects in ((queue.STREAM, queue.STREAM_SUBJECTS), (chat.STREAM, chat.STREAM_SUBJECTS),
                           (tickets.STREAM, tickets.STREAM_SUBJECTS)):
        await ensure_stream(nc, name, subjects)
    items = list(history.events)
    random.Random(seed).shuffle(items)
    js = nc.jetstream()
    for index, (subject, event) in enumerate(items):
        payload = event.model_dump_json().encode()
        await js.publish(subject, payload, headers={"Nats-Msg-Id": event.event_id})
        if index % 5 == 0:
            await js.publish(subject, payload, headers={"Nats-Msg-Id": f"{event.event_id}-again"})
