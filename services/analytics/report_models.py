"""Response models of the reports API (OpenAPI schemas; docs/analytics.md § Reports API).

Seconds are floats; timestamps ISO-8601 with the offset of the library's time zone;
dates are local dates of that zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

Row = TypeVar("Row", bound=BaseModel)


class Stats(BaseModel):
    """Statistics of a time metric in seconds over answered chats where it is known:
    ``n``; the others null when ``n`` is 0. ``p90``: nearest-rank 90th percentile."""

    n: int
    mean: float | None
    median: float | None
    p90: float | None
    min: float | None
    max: float | None


class Counts(BaseModel):
    """Chats by outcome (``answered + missed + dismissed + open = chats``),
    ``ticketed`` (overlaps), ``missed_rate = missed / (chats − dismissed − open)``."""

    chats: int
    answered: int
    missed: int
    dismissed: int
    open: int
    ticketed: int
    missed_rate: float | None


class TimeStats(BaseModel):
    """Wait time, first response time and duration statistics."""

    wait: Stats
    first_response: Stats
    duration: Stats


class RatingSummary(BaseModel):
    """Rated chats and their mean rating (null when none)."""

    rating_count: int
    rating_mean: float | None


class SummaryRow(RatingSummary, TimeStats, Counts):
    """The whole period in one row."""


class HourRow(Counts):
    """A local hour of the day (0–23)."""

    hour: int = Field(ge=0, le=23)


class WeekdayRow(Counts):
    """An ISO weekday, 1 = Monday … 7 = Sunday."""

    weekday: int = Field(ge=1, le=7)
    weekday_name: str


class DayRow(Counts):
    """A local date."""

    date: date


class MonthRow(Counts):
    """A month, ``YYYY-MM``."""

    month: str


class WeekdayHourRow(BaseModel):
    """Chats per local hour (index 0–23) on one ISO weekday."""

    weekday: int = Field(ge=1, le=7)
    weekday_name: str
    hours: list[int] = Field(min_length=24, max_length=24)
    total: int


class DepartmentRow(TimeStats, Counts):
    """A department (the one the chat was queued in)."""

    department_id: str


class OperatorRow(RatingSummary, TimeStats):
    """An operator: chats taken part in, claimed first, joined by transfer; time
    statistics over the answered chats they claimed first."""

    operator_id: str
    chats: int
    claimed: int
    transfers_in: int


class TimesRow(Stats):
    """One time metric."""

    metric: Literal["wait", "first_response", "duration"]


class RatingRow(BaseModel):
    """How many chats got this score."""

    rating: int
    count: int


class RatingComment(BaseModel):
    """A rating with a comment."""

    chat_id: str
    queued_at: datetime
    rating: int
    comment: str | None
    department_id: str | None
    operator_id: str | None


class CoverageRow(BaseModel):
    """Hours an operator was Online and monitoring a department."""

    operator_id: str
    department_id: str
    hours: float
    weekday_hours: float
    weekend_hours: float


class FieldValueRow(BaseModel):
    """Reference Analytics records with this value of the field (null: field blank)."""

    value: str | None
    records: int


class ChatRow(BaseModel):
    """One chat's facts (the export)."""

    chat_id: str
    department_id: str | None
    page_url: str | None
    queued_at: datetime
    claimed_at: datetime | None
    first_response_at: datetime | None
    ended_at: datetime | None
    local_date: date
    wait_seconds: float | None
    first_response_seconds: float | None
    duration_seconds: float | None
    outcome: Literal["answered", "missed", "dismissed", "open"]
    ticketed: bool
    first_operator_id: str | None
    operator_id: str | None
    operators: list[str]
    transfers: int
    messages_patron: int
    messages_operator: int
    messages_system: int
    internal_notes: int
    rating: int | None
    rating_comment: str | None
    ended_by: Literal["patron", "operator"] | None


class ReportFilters(BaseModel):
    """The filters a report was computed with."""

    department_id: str | None = None
    operator_id: str | None = None
    dataset_id: str | None = None
    field: str | None = None


class Report(BaseModel, Generic[Row]):
    """Every report's envelope."""

    report: str
    time_zone: str
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    filters: ReportFilters
    generated_at: datetime
    rows: list[Row]

    model_config = {"populate_by_name": True}


class RatingsReport(Report[RatingRow]):
    """Ratings: rows per score, plus the count, mean and comments."""

    count: int
    mean: float | None
    comments: list[RatingComment]


class RebuildOut(BaseModel):
    """What a rebuild folded."""

    events: int
    chats: int
    status_changes: int


class ErrorOut(BaseModel):
    """An error: one sentence to show."""

    detail: str
