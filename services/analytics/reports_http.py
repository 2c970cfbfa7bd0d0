"""The reports API: ``GET /api/reports/<name>`` for every report, the facts export
and ``POST /api/admin/rebuild`` (docs/analytics.md § Reports API).

Every report takes ``from``/``to`` (local dates, inclusive) in the library's time zone,
``department_id``, ``operator_id`` and ``format=json|csv``. Admins see every
department; operators only their own (their departments from the queue service).
"""


from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from refdesk.contracts.analytics import DEFAULT_DATASET_ID

from . import report_csv, reports
from . import report_models as m
from .access import Access, visible as _visible
from .config import DEFAULT_REPORT_DAYS, ID_PATTERN, MAX_REPORT_DAYS
from .facts_store import FactsStore, record_field_values
from .rebuild import RebuildResult

#: Reference Analytics reports: path name → dataset field key.
FIELD_REPORTS = {"by-location": "location", "by-mode": "mode", "by-question-type": "question_type",
                 "by-read-level": "read_scale"}

_ROW_MODELS: dict[str, type] = {
    "summary": m.SummaryRow, "by-hour": m.HourRow, "by-weekday": m.WeekdayRow, "by-day": m.DayRow,
    "by-month": m.MonthRow, "weekday-hour": m.WeekdayHourRow, "by-department": m.DepartmentRow,
    "by-operator": m.OperatorRow, "times": m.TimesRow, "ratings": m.RatingRow, "coverage": m.CoverageRow, "chats": m.ChatRow,
    **{name: m.FieldValueRow for name in FIELD_REPORTS}, "by-field": m.FieldValueRow,
}
_SUMMARIES = {
    "summary": "Counts by outcome, wait / first response / duration statistics and ratings in one row.",
    "by-hour": "Chats per local hour of the day (24 rows).",
    "by-weekday": "Chats per ISO weekday (7 rows, Monday first).",
    "by-day": "Chats per local date of the range (every date).",
    "by-month": "Chats per month the range touches.",
    "weekday-hour": "Weekday × hour matrix of chat counts.",
    "by-department": "Counts and time statistics per department.",
    "by-operator": "Chats, claims, transfers in, time statistics and ratings per operator.",
    "times": "Wait, first response and duration statistics (n, mean, median, p90, min, max).",
    "ratings": "Chats per rating score, the mean rating and the comments.",
    "coverage": "Hours each operator was Online and monitoring each department.",
    "chats": "The facts export: one row per chat.",
    "by-field": "Reference Analytics records per value of one dataset field (`field`).",
    **{name: f"Reference Analytics records per value of field `{key}`." for name, key in FIELD_REPORTS.items()},
}


@dataclass(frozen=True)
class Query_:
    """A report request's common parameters, checked."""

    period: reports.Period
    department_id: str | None
    operator_id: str | None
    format: Literal["json", "csv"]


def _period(tz: ZoneInfo, start: date | None, end: date | None) -> reports.Period:
    if end is None:
        end = datetime.now(tz).date() if start is None else start + timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if start is None:
        start = end - timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if not date(1970, 1, 2) <= start <= date(9000, 1, 1) or not date(1970, 1, 2) <= end <= date(9000, 1, 1):
        raise HTTPException(422, "Dates must lie between 1970-01-02 and 9000-01-01.")
    if start > end:
        raise HTTPException(422, f"'from' ({start}) must not be after 'to' ({end}).")
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        raise HTTPException(422, f"A report covers at most {MAX_REPORT_DAYS} days; choose a shorter range.")
    return reports.Period(start=start, end=end, tz=tz)


def reports_router(pool: asyncpg.Pool, tz_name: str, access: Callable[..., Awaitable[Access]],
                   rebuild: Callable[[], Awaitable[RebuildResult]] | None) -> APIRouter:
    """The router of ``/api/reports/*`` and ``/api/admin/rebuild``. ``access`` is the
    shared who-sees-what dependency (:func:`.access.access_guard`); ``rebuild`` runs
    a rebuild."""
    tz = ZoneInfo(tz_name)
    store = FactsStore(pool)
    router = APIRouter(tags=["Reports"])

    def params(
        from_: Annotated[date | None, Query(alias="from", description="First local date, inclusive (default: `to` − 29 days).")] = None,
        to: Annotated[date | None, Query(description="Last local date, inclusive (default: today in the library's zone).")] = None,
        department_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only chats queued in this department.")] = None,
        operator_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only chats this operator took part in.")] = None,
        format: Annotated[Literal["json", "csv"], Query(description="`json` or `csv`.")] = "json",
    ) -> Query_:
        return Query_(_period(tz, from_, to), department_id, operator_id, format)

    def answer(name: str, q: Query_, rows: list[dict], extra: dict[str, Any] | None = None,
               filters: dict[str, Any] | None = None) -> Any:
        if q.format == "csv":
            filename = f"refdesk-{name}-{q.period.start}-{q.period.end}.csv"
            return Response(report_csv.render(rows, report_csv.columns_of(_ROW_MODELS[name])),
                            media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        return {
            "report": name, "time_zone": tz_name, "from": q.period.start, "to": q.period.end,
            "filters": {"department_id": q.department_id, "operator_id": q.operator_id, **(filters or {})},
            "generated_at": datetime.now(tz), "rows": rows, **(extra or {}),
        }

    async def chats(q: Query_, who: Access) -> list:
        departments = _visible(who, q.department_id)
        facts = await store.queued_between(q.period.utc_start, q.period.utc_end, departments)
        return reports.select(facts, q.period, reports.Filters(departments, q.operator_id))

    def add(name: str, model: type, handler: Callable) -> None:
        router.add_api_route(
            f"/reports/{name}", handler, methods=["GET"], response_model=model, summary=_SUMMARIES[name],
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "The report (JSON, or CSV with `format=csv`)."},
                       403: {"model": m.ErrorOut, "description": "A department that is not yours."},
                       422: {"description": "Bad dates or parameters."}},
        )

    def chat_report(name: str) -> Callable:
        compute = reports.CHAT_REPORTS[name]

        async def handler(q: Annotated[Query_, Depends(params)], who: Annotated[Access, Depends(access)]) -> Any:
            return answer(name, q, compute(await chats(q, who), q.period))

        return handler

    for name in reports.CHAT_REPORTS:
        add(name, m.Report[_ROW_MODELS[name]], chat_report(name))

    async def by_operator(q: Annotated[Query_, Depends(params)], who: Annotated[Access, Depends(access)]) -> Any:
        return answer("by-operator", q, reports.by_operator(await chats(q, who), q.period, q.operator_id))

    add("by-operator", m.Report[m.OperatorRow], by_operator)

    async def ratings(q: Annotated[Query_, Depends(params)], who: Annotated[Access, Depends(access)]) -> Any:
        result = reports.ratings(await chats(q, who), q.period)
        if q.format == "csv":
            return answer("ratings", q, result["rows"])
        return answer("ratings", q, result.pop("rows"), extra=result)

    add("ratings", m.RatingsReport, ratings)

    async def coverage(q: Annotated[Query_, Depends(params)], who: Annotated[Access, Depends(access)]) -> Any:
        now = datetime.now(timezone.utc)
        changes = await store.status_changes(min(q.period.utc_end, now))
        filters = reports.Filters(_visible(who, q.department_id), q.operator_id)
        return answer("coverage", q, reports.coverage(changes, q.period, now, filters))

    add("coverage", m.Report[m.CoverageRow], coverage)

    async def field_rows(name: str, q: Query_, who: Access, dataset_id: str, key: str) -> Any:
        values = await record_field_values(
            pool, dataset_id=dataset_id, field=key, start=q.period.utc_start, end=q.period.utc_end,
            departments=_visible(who, q.department_id), operator_id=q.operator_id, viewer_id=who.operator_id,
        )
        return answer(name, q, reports.field_counts(values), filters={"dataset_id": dataset_id, "field": key})

    DatasetParam = Annotated[str, Query(pattern=ID_PATTERN, description="The Reference Analytics dataset.")]

    def field_report(name: str, key: str) -> Callable:
        async def handler(q: Annotated[Query_, Depends(params)], who: Annotated[Access, Depends(access)],
                          dataset_id: DatasetParam = DEFAULT_DATASET_ID) -> Any:
            return await field_rows(name, q, who, dataset_id, key)

        return handler

    for name, key in FIELD_REPORTS.items():
        add(name, m.Report[m.FieldValueRow], field_report(name, key))

    async def by_field(q: Annotated[Query_, Depends(params)], who: Annotated[Access, Depends(access)],
                       field: Annotated[str, Query(pattern=ID_PATTERN, description="The field's key.")],
                       dataset_id: DatasetParam = DEFAULT_DATASET_ID) -> Any:
        return await field_rows("by-field", q, who, dataset_id, field)

    add("by-field", m.Report[m.FieldValueRow], by_field)

    @router.post("/admin/rebuild", response_model=m.RebuildOut, tags=["Admin"],
                 responses={403: {"model": m.ErrorOut, "description": "Not an admin."}})
    async def rebuild_model(who: Annotated[Access, Depends(access)]) -> m.RebuildOut:
        """Replay the event streams from the start into the chat-facts read model and
        swap it in (admins only)."""
        if not who.is_admin:
            raise HTTPException(403, "Only an admin can rebuild the analytics read model.")
        if rebuild is None:
            raise HTTPException(503, "Rebuilding is not available in this process.")
        result = await rebuild()
        return m.RebuildOut(events=result.events, chats=result.chats, status_changes=result.status_changes)

    return router
