"""Every report, computed from chat facts (and operator status changes, and Reference
Analytics record values) by pure functions. No I/O.

One definition per metric, used by every report (docs/analytics.md, *Definitions*):
the outcome, wait / first response / duration come from
:class:`services.analytics.facts.ChatFacts`; :func:`counts`, :func:`stats` and the
bucketing by the library's local time (:class:`Period`) are defined once here.
A chat belongs to the local date, hour and weekday its ``queued_at`` falls on in the
library's time zone (``zoneinfo``: daylight saving applied, so a spring-forward day
has 23 hours and a fall-back day 25 — both 01:00 hours count in hour 1).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .facts import ChatFacts
from .facts_store import StatusChange

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIME_METRICS = ("wait", "first_response", "duration")
_METRIC_VALUE: dict[str, Callable[[ChatFacts], float | None]] = {
    "wait": lambda f: f.wait_seconds,
    "first_response": lambda f: f.first_response_seconds,
    "duration": lambda f: f.duration_seconds,
}


@dataclass(frozen=True)
class Period:
    """Local dates ``start`` … ``end`` (inclusive) in time zone ``tz``."""

    start: date
    end: date
    tz: ZoneInfo

    def local_midnight(self, day: date) -> datetime:
        """The instant (aware, UTC) the local ``day`` begins."""
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(timezone.utc)

    @property
    def utc_start(self) -> datetime:
        """First instant of the period (UTC)."""
        return self.local_midnight(self.start)

    @property
    def utc_end(self) -> datetime:
        """First instant after the period (UTC): the local midnight after ``end``."""
        return self.local_midnight(self.end + timedelta(days=1))

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the library's zone (with its offset)."""
        return moment.astimezone(self.tz)

    def days(self) -> list[date]:
        """Every local date of the period."""
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def contains(self, fact: ChatFacts) -> bool:
        """The chat was queued on a local date of the period."""
        return fact.queued_at is not None and self.start <= self.local(fact.queued_at).date() <= self.end



@dataclass(frozen=True)
class Filters:
    """Which chats a report covers besides the period: ``departments`` (None: every
    department), ``operator_id`` (only chats that operator took part in)."""

    departments: frozenset[str] | None = None
    operator_id: str | None = None

    def keep(self, fact: ChatFacts) -> bool:
        """Whether ``fact`` passes the filters."""
        if self.departments is not None and fact.department_id not in self.departments:
            return False
        return self.operator_id is None or self.operator_id in fact.operators


def select(facts: Iterable[ChatFacts], period: Period, filters: Filters) -> list[ChatFacts]:
    """The chats a report counts: queued on a local date of ``period`` and passing
    ``filters``, oldest first."""
    chosen = [f for f in facts if period.contains(f) and filters.keep(f)]
    return sorted(chosen, key=lambda f: (f.queued_at, f.chat_id))


# -- the two building blocks --------------------------------------------------------------


def counts(facts: Sequence[ChatFacts]) -> dict[str, Any]:
    """``chats`` and the number of each outcome (``answered + missed + dismissed +
    open = chats``), ``ticketed`` (overlaps the outcomes) and ``missed_rate = missed
    / (chats − dismissed − open)`` rounded to 4 places, None when that is 0."""
    outcomes = Counter(f.outcome for f in facts)
    decided = len(facts) - outcomes["dismissed"] - outcomes["open"]
    return {
        "chats": len(facts),
        "answered": outcomes["answered"],
        "missed": outcomes["missed"],
        "dismissed": outcomes["dismissed"],
        "open": outcomes["open"],
        "ticketed": sum(f.ticketed for f in facts),
        "missed_rate": round(outcomes["missed"] / decided, 4) if decided else None,
    }


def percentile_nearest_rank(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the
    values ≤ it, i.e. ``ordered[ceil(share · n) − 1]`` of the sorted values.

    Raises:
        ValueError: no values.
    """
    if not ordered:
        raise ValueError("no values")
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


def stats(values: Iterable[float]) -> dict[str, Any]:
    """``n, mean, median, p90, min, max`` of ``values`` (seconds), rounded to 3 places;
    all but ``n`` None when there are none. ``median`` is the middle value (mean of
    the two middle ones for an even n); ``p90`` is the nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0, "mean": None, "median": None, "p90": None, "min": None, "max": None}
    return {
        "n": len(ordered),
        "mean": round(statistics.fmean(ordered), 3),
        "median": round(statistics.median(ordered), 3),
        "p90": round(percentile_nearest_rank(ordered, 0.9), 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
    }


def time_values(facts: Iterable[ChatFacts], metric: str) -> list[float]:
    """The ``metric`` (``wait``, ``first_response``, ``duration``) of the *answered*
    chats where it is known: missed, dismissed and open chats never enter time
    statistics."""
    value = _METRIC_VALUE[metric]
    return [v for f in facts if f.outcome == "answered" and (v := value(f)) is not None]


def time_stats(facts: Sequence[ChatFacts]) -> dict[str, Any]:
    """``{"wait": stats, "first_response": stats, "duration": stats}``."""
    return {metric: stats(time_values(facts, metric)) for metric in TIME_METRICS}


def rating_summary(facts: Iterable[ChatFacts]) -> dict[str, Any]:
    """``rating_count`` (rated chats) and ``rating_mean`` (rounded to 3, None if none)."""
    ratings = [f.rating for f in facts if f.rating is not None]
    return {"rating_count": len(ratings), "rating_mean": round(statistics.fmean(ratings), 3) if ratings else None}


# -- reports over chats -----------------------------------------------------------------


def summary(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """One row: counts, time statistics and the rating summary."""
    return [{**counts(facts), **time_stats(facts), **rating_summary(facts)}]


def by_hour(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """24 rows, local hour 0–23 of ``queued_at``."""
    groups = _group(facts, lambda f: period.local(f.queued_at).hour)
    return [{"hour": hour, **counts(groups.get(hour, []))} for hour in range(24)]


def by_weekday(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """7 rows, ISO weekday 1 (Monday) – 7 (Sunday) of the local queued date."""
    groups = _group(facts, lambda f: period.local(f.queued_at).isoweekday())
    return [{"weekday": d, "weekday_name": WEEKDAYS[d - 1], **counts(groups.get(d, []))} for d in range(1, 8)]


def by_day(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """One row per local date of the period, empty days included."""
    groups = _group(facts, lambda f: period.local(f.queued_at).date())
    return [{"date": day, **counts(groups.get(day, []))} for day in period.days()]


def by_month(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """One row per month (``YYYY-MM``) the period touches."""
    groups = _group(facts, lambda f: period.local(f.queued_at).strftime("%Y-%m"))
    months = list(dict.fromkeys(day.strftime("%Y-%m") for day in period.days()))
    return [{"month": month, **counts(groups.get(month, []))} for month in months]


def weekday_hour(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """7 rows (ISO weekday), each with ``hours``: 24 chat counts by local hour."""
    matrix = [[0] * 24 for _ in range(7)]
    for f in facts:
        local = period.local(f.queued_at)
        matrix[local.isoweekday() - 1][local.hour] += 1
    return [{"weekday": d + 1, "weekday_name": WEEKDAYS[d], "hours": row, "total": sum(row)}
            for d, row in enumerate(matrix)]


def by_department(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """One row per department with chats (by id): counts and time statistics."""
    groups = _group(facts, lambda f: f.department_id or "")
    return [{"department_id": dep, **counts(g), **time_stats(g)} for dep, g in sorted(groups.items())]


def by_operator(facts: Sequence[ChatFacts], period: Period, operator_id: str | None = None) -> list[dict]:
    """One row per operator who took part in a chat (only ``operator_id`` if given):
    ``chats`` they took part in, ``claimed`` (they claimed first), ``transfers_in``
    (took part without claiming first: joined by a transfer), time statistics over
    the answered chats they claimed first, the rating summary of the chats they took
    part in."""
    operators = sorted({op for f in facts for op in f.operators} | {f.first_operator_id for f in facts
                                                                      if f.first_operator_id})
    rows = []
    for op in operators:
        if operator_id is not None and op != operator_id:
            continue
        took_part = [f for f in facts if op in f.operators or f.first_operator_id == op]
        claimed = [f for f in took_part if f.first_operator_id == op]
        rows.append({"operator_id": op, "chats": len(took_part), "claimed": len(claimed),
                     "transfers_in": len(took_part) - len(claimed), **time_stats(claimed),
                     **rating_summary(took_part)})
    return rows


def times(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """Three rows: ``metric`` wait, first_response, duration with their statistics."""
    return [{"metric": metric, **stats(time_values(facts, metric))} for metric in TIME_METRICS]


def ratings(facts: Sequence[ChatFacts], period: Period) -> dict[str, Any]:
    """``rows`` (``rating``, ``count``) for each score given, ``count``, ``mean`` and the
    ``comments`` (chat, local queued time, rating, comment, department, last owner)."""
    rated = [f for f in facts if f.rating is not None]
    by_score = Counter(f.rating for f in rated)
    return {
        "rows": [{"rating": score, "count": by_score[score]} for score in sorted(by_score)],
        "count": len(rated),
        "mean": round(statistics.fmean(f.rating for f in rated), 3) if rated else None,
        "comments": [{"chat_id": f.chat_id, "queued_at": period.local(f.queued_at), "rating": f.rating,
                      "comment": f.rating_comment, "department_id": f.department_id, "operator_id": f.operator_id}
                     for f in rated if f.rating_comment],
    }


def chat_rows(facts: Sequence[ChatFacts], period: Period) -> list[dict]:
    """The facts export: one row per chat, times in the library's zone."""

    def local(moment: datetime | None) -> datetime | None:
        return period.local(moment) if moment else None

    return [{
        "chat_id": f.chat_id, "department_id": f.department_id, "page_url": f.page_url,
        "queued_at": local(f.queued_at), "claimed_at": local(f.claimed_at),
        "first_response_at": local(f.first_response_at), "ended_at": local(f.ended_at),
        "local_date": period.local(f.queued_at).date(),
        "wait_seconds": f.wait_seconds, "first_response_seconds": f.first_response_seconds,
        "duration_seconds": f.duration_seconds, "outcome": f.outcome, "ticketed": f.ticketed,
        "first_operator_id": f.first_operator_id, "operator_id": f.operator_id, "operators": list(f.operators),
        "transfers": f.transfers, "messages_patron": f.messages_patron, "messages_operator": f.messages_operator,
        "messages_system": f.messages_system, "internal_notes": f.internal_notes,
        "rating": f.rating, "rating_comment": f.rating_comment, "ended_by": f.ended_by,
    } for f in facts]


CHAT_REPORTS: dict[str, Callable[[Sequence[ChatFacts], Period], list[dict]]] = {
    "summary": summary, "by-hour": by_hour, "by-weekday": by_weekday, "by-day": by_day, "by-month": by_month,
    "weekday-hour": weekday_hour, "by-department": by_department, "times": times, "chats": chat_rows,
}
"""Reports that are a function of the selected chats and the period alone."""


def _group(facts: Iterable[ChatFacts], key: Callable[[ChatFacts], Any]) -> dict[Any, list[ChatFacts]]:
    groups: dict[Any, list[ChatFacts]] = defaultdict(list)
    for f in facts:
        groups[key(f)].append(f)
    return groups


# -- coverage -----------------------------------------------------------------------------


def coverage(changes: Sequence[StatusChange], period: Period, now: datetime, filters: Filters) -> list[dict]:
    """Hours each operator was Online and monitoring each department, within the
    period (and before ``now``), split into weekday and weekend hours by local date.

    An interval starts at a status change to ``online`` with the department among
    ``monitored`` and lasts until the operator's next status change (any: going
    offline, changing what they monitor, a presence timeout) or ``now``. One row per
    operator × department with time covered, by operator then department; hours
    rounded to 4 places.
    """
    end = min(period.utc_end, now)
    seconds: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_operator = _group_changes(changes)
    for operator_id, ordered in by_operator.items():
        if filters.operator_id is not None and operator_id != filters.operator_id:
            continue
        for change, following in zip(ordered, [*ordered[1:], None]):
            if change.status != "online":
                continue
            start, stop = max(change.occurred_at, period.utc_start), min(following.occurred_at if following else now, end)
            if stop <= start:
                continue
            weekday, weekend = _split_weekend(start, stop, period)
            for department in change.monitored:
                if filters.departments is not None and department not in filters.departments:
                    continue
                seconds[(operator_id, department)][0] += weekday
                seconds[(operator_id, department)][1] += weekend
    return [{"operator_id": op, "department_id": dep, "hours": round((wd + we) / 3600, 4),
             "weekday_hours": round(wd / 3600, 4), "weekend_hours": round(we / 3600, 4)}
            for (op, dep), (wd, we) in sorted(seconds.items())]


def _group_changes(changes: Iterable[StatusChange]) -> dict[str, list[StatusChange]]:
    grouped: dict[str, list[StatusChange]] = defaultdict(list)
    for change in changes:
        grouped[change.operator_id].append(change)
    return {op: sorted(c, key=lambda c: (c.occurred_at, c.event_id)) for op, c in grouped.items()}


def _split_weekend(start: datetime, stop: datetime, period: Period) -> tuple[float, float]:
    """Seconds of ``[start, stop)`` on local weekdays and on local Saturdays/Sundays."""
    weekday = weekend = 0.0
    day = period.local(start).date()
    while True:
        day_start, day_end = period.local_midnight(day), period.local_midnight(day + timedelta(days=1))
        overlap = (min(stop, day_end) - max(start, day_start)).total_seconds()
        if overlap > 0:
            if day.isoweekday() >= 6:
                weekend += overlap
            else:
                weekday += overlap
        if day_end >= stop:
            return weekday, weekend
        day += timedelta(days=1)


# -- Reference Analytics record values ------------------------------------------------------


def field_counts(values: Iterable[Any]) -> list[dict]:
    """Records per value of one Reference Analytics field: a multiple-choice list
    counts once under each option; records without the field count under None.
    Rows by count, most first, then by value."""
    tally: Counter = Counter()
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            tally[None if item is None else str(item)] += 1
    return [{"value": value, "records": n}
            for value, n in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))]
