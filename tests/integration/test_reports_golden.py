"""Golden test of the reports API: a generated event history (tests/integration/
reports_history.py — chats across both 2026 daylight-saving changes in
America/New_York, chats spanning midnight, missed, dismissed, transferred, ticketed
and rated chats, status changes) is published to JetStream shuffled and partly
twice; every report's numbers are checked against values worked out by hand below
(never by calling the code under test)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from refdesk import auth
from refdesk.bus import request
from refdesk.contracts import analytics as an
from refdesk.contracts import queue
from tests.integration import reports_history
from tests.support import Stack, eventually, running

pytestmark = pytest.mark.integration

ZONE = "America/New_York"
RANGE = {"from": "2026-03-07", "to": "2026-11-02"}
P = "g"  # chat id prefix


def stats(n, mean, median, p90, lo, hi) -> dict:
    return {"n": n, "mean": mean, "median": median, "p90": p90, "min": lo, "max": hi}


NONE = stats(0, None, None, None, None, None)
# Answered chats in the range: c1, c2, c5, c6, c7, c8.
WAIT = stats(6, 42.5, 30.0, 120.0, 5.0, 120.0)            # 20, 60, 10, 120, 40, 5
FIRST_RESPONSE = stats(5, 35.0, 30.0, 60.0, 10.0, 60.0)    # 30, 45, 10, 30, 60 (c8 never replied)
DURATION = stats(6, 2985.0, 745.0, 14280.0, 60.0, 14280.0)  # 1780, 600, 890, 14280, 300, 60
SUMMARY = {"chats": 10, "answered": 6, "missed": 2, "dismissed": 1, "open": 1, "ticketed": 1, "missed_rate": 0.25,
           "wait": WAIT, "first_response": FIRST_RESPONSE, "duration": DURATION,
           "rating_count": 2, "rating_mean": 3.5}
COVERAGE = [  # hours (real elapsed time: the spring night is an hour shorter, the fall night longer)
    {"operator_id": "ana", "department_id": "circulation", "hours": 7.0, "weekday_hours": 0.0, "weekend_hours": 7.0},
    {"operator_id": "ana", "department_id": "reference", "hours": 37.0, "weekday_hours": 10.0, "weekend_hours": 27.0},
    {"operator_id": "ben", "department_id": "archives", "hours": 5.0, "weekday_hours": 0.0, "weekend_hours": 5.0},
]


def api(stack: Stack, operator_id: str) -> httpx.AsyncClient:
    token = auth.issue_token(stack.settings.jwt_secret, subject=operator_id, role="operator", name="T",
                             ttl_seconds=600)
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.analytics_port}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=10.0)


async def operator_id(stack: Stack, username: str) -> str:
    profile = await request(stack.nc, queue.AUTHENTICATE,
                            queue.AuthenticateRequest(username=username, password="librarian"), queue.OperatorProfile)
    return profile.id


async def rows(client: httpx.AsyncClient, name: str, **params) -> list[dict]:
    response = await client.get(f"/api/reports/{name}", params={**RANGE, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["report"] == name and body["time_zone"] == ZONE
    return body["rows"]


def by(rows_: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows_}


def counts(row: dict) -> tuple:
    return row["chats"], row["answered"], row["missed"], row["dismissed"], row["open"], row["ticketed"]


async def test_every_report_matches_the_hand_computed_values(servers) -> None:
    async with running(servers, "queue", "analytics", time_zone=ZONE) as stack:
        await reports_history.publish(stack.nc, reports_history.build(P))
        admin_id, ana_id = await operator_id(stack, "cleo"), await operator_id(stack, "ana")
        async with api(stack, admin_id) as admin, api(stack, ana_id) as ana:

            async def settled() -> bool:
                summary = (await admin.get("/api/reports/summary", params=RANGE)).json()["rows"][0]
                export = by((await admin.get("/api/reports/chats", params=RANGE)).json()["rows"], "chat_id")
                coverage = (await admin.get("/api/reports/coverage", params=RANGE)).json()["rows"]
                c2, c5 = export.get(f"{P}-c2", {}), export.get(f"{P}-c5", {})
                return (summary == SUMMARY and coverage == COVERAGE and c2.get("internal_notes") == 1
                        and c5.get("messages_patron") == 2 and c5.get("messages_operator") == 2)

            await eventually(settled, timeout=30, what="the generated history to be folded")

            # -- counts by local hour: both 01:30s of 2026-11-01 and the 01:30 EST of 03-08 in hour 1;
            #    hour 2 of the spring-forward day does not exist.
            hours = by(await rows(admin, "by-hour"), "hour")
            assert len(hours) == 24
            expected_hours = {1: 3, 3: 1, 8: 1, 9: 1, 10: 1, 12: 1, 22: 1, 23: 1}
            assert {h: r["chats"] for h, r in hours.items()} == {h: expected_hours.get(h, 0) for h in range(24)}
            assert counts(hours[1]) == (3, 3, 0, 0, 0, 0)
            assert counts(hours[3]) == (1, 0, 1, 0, 0, 1) and hours[3]["missed_rate"] == 1.0
            assert counts(hours[10]) == (1, 0, 0, 1, 0, 0) and hours[10]["missed_rate"] is None

            weekdays = by(await rows(admin, "by-weekday"), "weekday")
            assert [(d, r["weekday_name"], r["chats"]) for d, r in weekdays.items()] == [
                (1, "Monday", 3), (2, "Tuesday", 0), (3, "Wednesday", 0), (4, "Thursday", 0), (5, "Friday", 0),
                (6, "Saturday", 2), (7, "Sunday", 5)]

            matrix = by(await rows(admin, "weekday-hour"), "weekday")
            sunday = [0] * 24
            sunday[1], sunday[3], sunday[10] = 3, 1, 1
            saturday, monday = [0] * 24, [0] * 24
            saturday[22] = saturday[23] = 1
            monday[8] = monday[9] = monday[12] = 1
            assert (matrix[7]["hours"], matrix[6]["hours"], matrix[1]["hours"]) == (sunday, saturday, monday)
            assert [matrix[d]["total"] for d in range(1, 8)] == [3, 0, 0, 0, 0, 2, 5]

            # -- by local date (c1 spans midnight: it counts on 03-07; c0 is 03-07 in UTC but 03-06 here)
            days = by(await rows(admin, "by-day"), "date")
            assert len(days) == 241  # 2026-03-07 … 2026-11-02, every date
            non_empty = {d: r["chats"] for d, r in days.items() if r["chats"]}
            assert non_empty == {"2026-03-07": 1, "2026-03-08": 3, "2026-03-09": 1, "2026-10-31": 1,
                                 "2026-11-01": 2, "2026-11-02": 2}
            assert counts(days["2026-03-08"]) == (3, 1, 1, 1, 0, 1) and days["2026-03-08"]["missed_rate"] == 0.5
            assert counts(days["2026-11-02"]) == (2, 0, 1, 0, 1, 0) and days["2026-11-02"]["missed_rate"] == 1.0
            spring = by(await rows(admin, "by-day", **{"from": "2026-03-06", "to": "2026-03-06"}), "date")
            assert spring["2026-03-06"]["chats"] == 1  # c0 belongs to its local date

            months = by(await rows(admin, "by-month"), "month")
            assert {m: r["chats"] for m, r in months.items()} == {
                "2026-03": 5, "2026-04": 0, "2026-05": 0, "2026-06": 0, "2026-07": 0, "2026-08": 0, "2026-09": 0,
                "2026-10": 1, "2026-11": 4}

            # -- departments, operators
            departments = by(await rows(admin, "by-department"), "department_id")
            assert {d: counts(r) for d, r in departments.items()} == {
                "archives": (1, 1, 0, 0, 0, 0), "circulation": (1, 0, 0, 1, 0, 0), "reference": (8, 5, 2, 0, 1, 1)}
            assert departments["reference"]["missed_rate"] == pytest.approx(2 / 7, abs=1e-4)
            assert departments["reference"]["wait"] == stats(5, 27.0, 20.0, 60.0, 5.0, 60.0)  # 20, 60, 10, 40, 5
            assert departments["circulation"]["wait"] == NONE  # a dismissed chat has no wait time

            operators = by(await rows(admin, "by-operator"), "operator_id")
            assert set(operators) == {"ana", "ben"}
            ana_row, ben_row = operators["ana"], operators["ben"]
            assert (ana_row["chats"], ana_row["claimed"], ana_row["transfers_in"]) == (4, 4, 0)  # c1 c5 c7 c8
            assert ana_row["wait"] == stats(4, 18.75, 15.0, 40.0, 5.0, 40.0)
            assert ana_row["first_response"] == stats(3, 33.333, 30.0, 60.0, 10.0, 60.0)
            assert ana_row["duration"] == stats(4, 757.5, 595.0, 1780.0, 60.0, 1780.0)
            assert (ana_row["rating_count"], ana_row["rating_mean"]) == (1, 5.0)
            assert (ben_row["chats"], ben_row["claimed"], ben_row["transfers_in"]) == (3, 2, 1)  # c2 c6; c5 by transfer
            assert ben_row["wait"] == stats(2, 90.0, 90.0, 120.0, 60.0, 120.0)
            assert (ben_row["rating_count"], ben_row["rating_mean"]) == (2, 3.5)
            only_ben = await rows(admin, "summary", operator_id="ben")
            assert counts(only_ben[0]) == (3, 3, 0, 0, 0, 0)

            assert by(await rows(admin, "times"), "metric") == {
                "wait": {"metric": "wait", **WAIT}, "first_response": {"metric": "first_response", **FIRST_RESPONSE},
                "duration": {"metric": "duration", **DURATION}}

            ratings = (await admin.get("/api/reports/ratings", params=RANGE)).json()
            assert ratings["rows"] == [{"rating": 2, "count": 1}, {"rating": 5, "count": 1}]
            assert (ratings["count"], ratings["mean"]) == (2, 3.5)
            assert [(c["chat_id"], c["comment"], c["queued_at"]) for c in ratings["comments"]] == [
                (f"{P}-c5", "Great", "2026-03-09T09:00:00-04:00")]

            # -- coverage, clipped to one 23-hour day
            sunday_cov = await rows(admin, "coverage", **{"from": "2026-03-08", "to": "2026-03-08"})
            assert [(r["operator_id"], r["department_id"], r["hours"]) for r in sunday_cov] == [
                ("ana", "circulation", 3.0), ("ana", "reference", 23.0)]

            # -- the facts export, JSON and CSV, times with their offsets in the library's zone
            export = by(await rows(admin, "chats"), "chat_id")
            c1, c7, c8 = export[f"{P}-c1"], export[f"{P}-c7"], export[f"{P}-c8"]
            assert (c1["queued_at"], c1["ended_at"], c1["local_date"]) == (
                "2026-03-07T23:50:00-05:00", "2026-03-08T00:20:00-05:00", "2026-03-07")
            assert (c1["wait_seconds"], c1["first_response_seconds"], c1["duration_seconds"]) == (20.0, 30.0, 1780.0)
            assert (c7["queued_at"], c8["queued_at"]) == ("2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00")
            c5 = export[f"{P}-c5"]
            assert (c5["first_operator_id"], c5["operator_id"], c5["operators"], c5["transfers"]) == (
                "ana", "ben", ["ana", "ben"], 1)
            assert (export[f"{P}-c3"]["outcome"], export[f"{P}-c3"]["ticketed"]) == ("missed", True)
            assert export[f"{P}-c4"]["outcome"] == "dismissed"
            c2 = export[f"{P}-c2"]
            assert (c2["messages_patron"], c2["messages_operator"], c2["messages_system"], c2["internal_notes"],
                    c2["first_response_seconds"]) == (1, 1, 1, 1, 45.0)
            response = await admin.get("/api/reports/chats", params={**RANGE, "format": "csv"})
            assert response.headers["content-type"].startswith("text/csv")
            assert response.headers["content-disposition"] == (
                'attachment; filename="refdesk-chats-2026-03-07-2026-11-02.csv"')
            table = {row["chat_id"]: row for row in csv.DictReader(io.StringIO(response.text))}
            assert len(table) == 10
            assert (table[f"{P}-c1"]["queued_at"], table[f"{P}-c1"]["claimed_at"]) == (
                "2026-03-07T23:50:00-05:00", "2026-03-07T23:50:20-05:00")
            assert (table[f"{P}-c5"]["operators"], table[f"{P}-c9"]["claimed_at"]) == ("ana;ben", "")
            summary_csv = list(csv.DictReader(io.StringIO(
                (await admin.get("/api/reports/summary", params={**RANGE, "format": "csv"})).text)))
            assert (summary_csv[0]["wait_mean"], summary_csv[0]["duration_p90"]) == ("42.5", "14280.0")

            # -- an operator sees only their departments (ana: reference, circulation)
            mine = (await rows(ana, "summary"))[0]
            assert counts(mine) == (9, 5, 2, 1, 1, 1)  # without c6 (archives)
            assert [r["department_id"] for r in await rows(ana, "coverage")] == ["circulation", "reference"]
            refused = await ana.get("/api/reports/summary", params={**RANGE, "department_id": "archives"})
            assert refused.status_code == 403 and "your own departments" in refused.json()["detail"]
            assert (await ana.post("/api/admin/rebuild")).status_code == 403

            # -- bad input: a sentence, not a crash
            backwards = await admin.get("/api/reports/summary", params={"from": "2026-03-09", "to": "2026-03-08"})
            assert backwards.status_code == 422 and "must not be after" in backwards.json()["detail"]
            assert (await admin.get("/api/reports/no-such-report")).status_code == 404


# -- Reference Analytics records (one per question), by their local answered date ------------------

RA_RANGE = {"from": "2026-03-07", "to": "2026-03-08"}


async def test_reference_analytics_reports_count_records_by_local_answered_date(servers) -> None:
    async with running(servers, "queue", "analytics", time_zone=ZONE) as stack:
        admin_id, ana_id, ben_id = [await operator_id(stack, name) for name in ("cleo", "ana", "ben")]
        local = reports_history.local

        async def record(author: str, when: str, department: str | None, **values) -> an.RaRecord:
            return await request(stack.nc, an.RECORD_CREATE, an.RecordCreate(
                dataset_id="default", operator_id=author, department_id=department, answered_at=local(when),
                values={"duration": 5, **values}), an.RaRecord)

        await record(ana_id, "2026-03-07 23:30", "reference", location="Chat", mode="Chat",
                     question_type="Research", read_scale=3)
        await record(ben_id, "2026-03-08 01:30", "reference", location="Chat", mode="Chat",
                     question_type="Directional", read_scale=1)
        await record(ana_id, "2026-03-08 03:30", "circulation", location="Circulation desk", mode="In person",
                     question_type="Directional")
        await record(ana_id, "2026-03-06 23:30", "reference", location="Chat", mode="Phone")  # local 03-06: out
        await record(ana_id, "2026-03-08 23:30", None, location="Reference desk", mode="In person",  # UTC 03-09
                     question_type="Research", read_scale=3)
        deleted = await record(ben_id, "2026-03-08 12:00", "archives", location="Phone", mode="Phone",
                               question_type="Research", read_scale=5)
        await request(stack.nc, an.RECORD_DELETE, an.RecordRef(actor_id=ben_id, record_id=deleted.id), an.RaRecord)
        await record(ben_id, "2026-03-08 14:00", "archives", location="Email", mode="Email",
                     question_type="Policy/Circulation", read_scale=2)

        async with api(stack, admin_id) as admin, api(stack, ana_id) as ana:

            async def values(client: httpx.AsyncClient, name: str, **params) -> list[tuple]:
                return [(r["value"], r["records"]) for r in await rows(client, name, **{**RA_RANGE, **params})]

            assert await values(admin, "by-mode") == [("Chat", 2), ("In person", 2), ("Email", 1)]
            assert await values(admin, "by-location") == [
                ("Chat", 2), ("Circulation desk", 1), ("Email", 1), ("Reference desk", 1)]
            assert await values(admin, "by-question-type") == [
                ("Directional", 2), ("Research", 2), ("Policy/Circulation", 1)]
            assert await values(admin, "by-read-level") == [("3", 2), ("1", 1), ("2", 1), (None, 1)]
            assert await values(admin, "by-field", field="referred_by") == [(None, 5)]
            assert await values(admin, "by-mode", operator_id=ben_id) == [("Chat", 1), ("Email", 1)]
            assert await values(admin, "by-mode", department_id="archives") == [("Email", 1)]
            # ana: her departments (reference, circulation) and her own hand entry; not archives
            assert await values(ana, "by-mode") == [("Chat", 2), ("In person", 2)]
            csv_text = (await admin.get("/api/reports/by-mode", params={**RA_RANGE, "format": "csv"})).text
            assert csv_text.splitlines() == ["value,records", "Chat,2", "In person,2", "Email,1"]
