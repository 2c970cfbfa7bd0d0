"""Pure logic of chat facts and reports: the order-free fold, one definition per
metric (outcome, wait, first response, duration), statistics, local-time bucketing
across daylight-saving changes, coverage, CSV."""

from __future__ import annotations

import math
import statistics
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from refdesk.contracts.chat import Message
from refdesk.contracts.queue import ChatEvent, ChatView, Participant
from services.analytics import facts, report_csv, reports
from services.analytics.facts_store import StatusChange
from services.analytics.rebuild import Fold

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 3, 7, 15, 0, tzinfo=timezone.utc)


def view(state: str, **fields) -> ChatView:
    base = dict(id="c1", department_id="reference", department_name="Reference", patron_name="Pat",
                question="Atlas?", queued_at=T0, page_url="https://lib.example/atlas")
    return ChatView(state=state, **{**base, **fields})


def event(kind: str, seconds: float, chat: ChatView, ident: str | None = None) -> ChatEvent:
    return ChatEvent(event_id=ident or f"{kind}-{seconds}", type=kind, chat=chat,
                     occurred_at=T0 + timedelta(seconds=seconds))


def message(ident: str, seq: int, kind: str, seconds: float, *, internal: bool = False, author: str | None = None):
    return Message(id=ident, chat_id="c1", seq=seq, cmid=ident, author_kind=kind, author_id=author,
                   author_name="x", body="hi", sent_at=T0 + timedelta(seconds=seconds), internal=internal)


CLAIM = T0 + timedelta(seconds=30)  # the queue keeps the first claim time through a transfer
END = T0 + timedelta(seconds=400)

HISTORY = [
    event("queued", 0, view("queued")),
    event("claimed", 30, view("active", claimed_at=CLAIM, claimed_by="zoe")),
    event("transfer_requested", 100, view("active", claimed_at=CLAIM, claimed_by="zoe")),
    event("claimed", 200, view("active", claimed_at=CLAIM, claimed_by="ben", transfer_count=1,
                               participants=[Participant(operator_id="zoe", nickname="Zoe")])),
    event("ended", 400, view("ended", claimed_at=CLAIM, claimed_by="ben", transfer_count=1,
                             ended_at=END, ended_by="patron")),
    event("rated", 450, view("ended", claimed_at=CLAIM, claimed_by="ben", ended_at=END,
                             ended_by="patron", rating=4, rating_comment="Helpful")),
    message("m1", 1, "patron", 0),
    message("m2", 2, "system", 30),
    message("m3", 3, "operator", 40, internal=True, author="zoe"),
    message("m4", 4, "operator", 55, author="zoe"),
    message("m5", 5, "patron", 70),
    message("m6", 6, "operator", 210, author="ben"),
]


def fold(items) -> facts.ChatFacts:
    f = Fold()
    for item in items:
        f.add(item if isinstance(item, ChatEvent) else _posted(item))
    return f.facts["c1"]


def _posted(msg: Message):
    from refdesk.contracts.chat import MessagePosted

    return MessagePosted(event_id=f"ev-{msg.id}", message=msg)


def test_history_folds_into_every_fact() -> None:
    fact = fold(HISTORY)
    assert fact.department_id == "reference" and fact.page_url == "https://lib.example/atlas"
    assert fact.wait_seconds == 30.0
    assert fact.first_response_seconds == 25.0  # the internal note at +40 s is not a response
    assert fact.duration_seconds == 370.0
    # zoe claimed first; the claim that completed the transfer names ben (same claimed_at)
    assert (fact.first_operator_id, fact.operator_id) == ("zoe", "ben")
    assert fact.operators == ("ben", "zoe") and fact.transfers == 1
    assert (fact.messages_patron, fact.messages_operator, fact.messages_system, fact.internal_notes) == (2, 2, 1, 1)
    assert (fact.rating, fact.rating_comment) == (4, "Helpful")
    assert fact.outcome == "answered" and not fact.ticketed


@settings(deadline=None)
@given(st.permutations(HISTORY), st.lists(st.sampled_from(HISTORY), max_size=6))
def test_any_order_with_redeliveries_gives_the_same_fact(order, repeats) -> None:
    assert fold([*order, *repeats]) == fold(HISTORY)


def test_outcomes() -> None:
    queued = view("queued")
    assert fold([event("queued", 0, queued)]).outcome == "open"
    left = fold([event("queued", 0, queued), event("ended", 60, view("ended", ended_at=T0, ended_by="patron"))])
    assert left.outcome == "missed" and left.wait_seconds is None and left.duration_seconds is None
    dismissed = fold([event("queued", 0, queued),
                      event("dismissed", 9, view("closed", dismissed_by="ana", closed_at=T0))])
    assert dismissed.outcome == "dismissed" and dismissed.dismissed_by == "ana"
    ticketed = facts.apply_ticket(left, "t1", T0)
    assert ticketed.outcome == "missed" and ticketed.ticketed


@settings(deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=60))
def test_stats_agree_with_the_statistics_module(values) -> None:
    got = reports.stats(values)
    ordered = sorted(values)
    assert got["n"] == len(values)
    assert math.isclose(got["mean"], statistics.fmean(values), abs_tol=1e-3, rel_tol=1e-9)
    assert math.isclose(got["median"], statistics.median(values), abs_tol=1e-3)
    assert (got["min"], got["max"]) == (round(ordered[0], 3), round(ordered[-1], 3))
    # nearest rank: at least 90 % of the values are ≤ p90, and fewer than 90 % are < p90
    assert sum(v <= got["p90"] + 1e-3 for v in values) >= 0.9 * len(values)
    assert sum(v < got["p90"] - 1e-3 for v in values) < 0.9 * len(values)


def test_stats_of_nothing_and_a_known_p90() -> None:
    assert reports.stats([]) == {"n": 0, "mean": None, "median": None, "p90": None, "min": None, "max": None}
    assert reports.stats(range(1, 11))["p90"] == 9  # ceil(0.9 · 10) = 9th value
    assert reports.stats(range(1, 12))["p90"] == 10  # ceil(9.9) = 10th value


def chat_at(ident: str, queued_at: datetime, outcome: str = "answered") -> facts.ChatFacts:
    extra = {"answered": dict(claimed_at=queued_at + timedelta(seconds=10), state="ended"),
             "missed": dict(state="ended"), "open": dict(state="queued"),
             "dismissed": dict(state="closed", dismissed_by="ana")}[outcome]
    return facts.ChatFacts(chat_id=ident, department_id="reference", queued_at=queued_at, **extra)


def test_hours_on_daylight_saving_days_follow_local_time() -> None:
    period = reports.Period(date(2026, 3, 8), date(2026, 11, 1), NY)
    chats = [
        chat_at("spring-1h", datetime(2026, 3, 8, 6, 30, tzinfo=timezone.utc)),   # 01:30 EST
        chat_at("spring-3h", datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc)),   # 03:30 EDT (02:xx skipped)
        chat_at("fall-1h-a", datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)),  # 01:30 EDT
        chat_at("fall-1h-b", datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)),  # 01:30 EST (again)
    ]
    hours = {row["hour"]: row["chats"] for row in reports.by_hour(chats, period)}
    assert (hours[1], hours[2], hours[3]) == (3, 0, 1)
    days = {row["date"]: row["chats"] for row in reports.by_day(chats, period)}
    assert days[date(2026, 3, 8)] == 2 and days[date(2026, 11, 1)] == 2
    # The periods' bounds are local midnights: a 23-hour and a 25-hour day.
    spring = reports.Period(date(2026, 3, 8), date(2026, 3, 8), NY)
    fall = reports.Period(date(2026, 11, 1), date(2026, 11, 1), NY)
    assert spring.utc_end - spring.utc_start == timedelta(hours=23)
    assert fall.utc_end - fall.utc_start == timedelta(hours=25)


def test_a_chat_counts_on_its_local_queued_date_not_its_utc_date() -> None:
    late = chat_at("late", datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc))  # 23:00 EDT on the 9th
    assert reports.select([late], reports.Period(date(2026, 3, 9), date(2026, 3, 9), NY), reports.Filters()) == [late]
    assert reports.select([late], reports.Period(date(2026, 3, 10), date(2026, 3, 10), NY), reports.Filters()) == []


def test_counts_and_missed_rate_leave_dismissed_and_open_chats_out() -> None:
    chats = [chat_at(str(i), T0, o) for i, o in enumerate(["answered"] * 3 + ["missed", "dismissed", "open"])]
    got = reports.counts(chats)
    assert got == {"chats": 6, "answered": 3, "missed": 1, "dismissed": 1, "open": 1, "ticketed": 0,
                   "missed_rate": 0.25}
    assert reports.counts([])["missed_rate"] is None
    # time statistics use answered chats only
    assert reports.time_stats(chats)["wait"]["n"] == 3


def test_coverage_is_clipped_split_by_local_weekend_and_ends_at_the_next_change() -> None:
    period = reports.Period(date(2026, 3, 6), date(2026, 3, 7), NY)  # Friday, Saturday
    on = datetime(2026, 3, 6, 22, 0, tzinfo=NY).astimezone(timezone.utc)
    changes = [
        StatusChange("e1", "ana", on, "online", ("archives", "reference")),
        StatusChange("e2", "ana", on + timedelta(hours=3), "online", ("reference",)),  # 01:00 Saturday
        StatusChange("e3", "ana", on + timedelta(hours=5), "offline", ()),
        StatusChange("e0", "ben", on - timedelta(days=3), "online", ("reference",)),  # still online, clipped
    ]
    rows = reports.coverage(changes, period, now=period.utc_end + timedelta(days=9), filters=reports.Filters())
    got = {(r["operator_id"], r["department_id"]): (r["hours"], r["weekday_hours"], r["weekend_hours"]) for r in rows}
    assert got[("ana", "reference")] == (5.0, 2.0, 3.0)
    assert got[("ana", "archives")] == (3.0, 2.0, 1.0)
    assert got[("ben", "reference")] == (48.0, 24.0, 24.0)
    only_archives = reports.coverage(changes, period, now=period.utc_end,
                                     filters=reports.Filters(departments=frozenset({"archives"})))
    assert [(r["operator_id"], r["department_id"]) for r in only_archives] == [("ana", "archives")]


def test_csv_flattens_stats_and_hours_and_quotes_formulas() -> None:
    rows = [{"weekday": 1, "hours": list(range(24)), "wait": {"n": 1, "mean": 2.5}, "operators": ["a", "b"],
             "at": datetime(2026, 3, 8, 1, 59, tzinfo=NY), "comment": "=HYPERLINK()", "none": None}]
    lines = report_csv.render(rows).splitlines()
    assert lines[0].startswith("weekday,h00,h01") and "wait_n,wait_mean,operators,at,comment,none" in lines[0]
    assert lines[1].endswith("1,2.5,a;b,2026-03-08T01:59:00-05:00,'=HYPERLINK(),")
    assert report_csv.render([], ["a", "b"]).splitlines() == ["a,b"]


def test_field_counts_count_each_option_of_a_multiple_choice_and_blanks_last() -> None:
    got = reports.field_counts([["Maps", "Art"], "Maps", None, 3, ["Art"]])
    assert got == [{"value": "Art", "records": 2}, {"value": "Maps", "records": 2}, {"value": "3", "records": 1},
                   {"value": None, "records": 1}]
