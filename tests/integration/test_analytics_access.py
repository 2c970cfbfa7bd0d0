"""Who sees what in the analytics HTTP API (`/api/chats`, `/api/chats/{id}`,
`/api/records`), against the real queue and analytics services: admins see every
department; an operator only the departments they are a member of (ana: Reference and
Circulation; ben: Reference and Archives), and of the records without a department
only the ones they wrote."""

from __future__ import annotations

import pytest

from refdesk.bus import request
from refdesk.contracts import analytics as an
from refdesk.contracts import queue
from tests.analytics_api import operator_api, operator_profile
from tests.support import eventually, running

pytestmark = pytest.mark.integration

VALID = {"location": "Chat", "mode": "Chat", "duration": 5}


async def test_operators_see_only_their_own_departments_chats_and_records(servers) -> None:
    async with running(servers, "queue", "analytics") as stack:
        nc = stack.nc
        ana, ben = await operator_profile(stack, "ana"), await operator_profile(stack, "ben")
        chats = {}
        for department in ("circulation", "archives"):
            chats[department] = (await request(nc, queue.CHAT_CREATE, queue.CreateChatRequest(
                department_id=department, patron_name="Pat", question=f"A question for {department}?"),
                queue.ChatView)).id

        async def record(author: str, department: str | None, question: str) -> an.RaRecord:
            return await request(nc, an.RECORD_CREATE, an.RecordCreate(
                dataset_id="default", operator_id=author, department_id=department,
                values={**VALID, "question": question}), an.RaRecord)

        ana_circulation = await record(ana.id, "circulation", "Where do I return a laptop?")
        ana_loose = await record(ana.id, None, "Ana's hand entry without a department")
        ben_archives = await record(ben.id, "archives", "May I see the 1890 minutes?")
        ben_loose = await record(ben.id, None, "Ben's hand entry without a department")

        async with (await operator_api(stack, "cleo") as cleo, await operator_api(stack, "ben") as as_ben,
                    await operator_api(stack, "ana") as as_ana):
            async def both_known() -> bool:
                answer = await cleo.get("/api/chats")
                assert answer.status_code == 200, answer.text
                listed = answer.json()["chats"]
                return {c["chat_id"] for c in listed} >= set(chats.values()) or None

            await eventually(both_known, what="the facts of both chats")

            # Ben (Reference, Archives) sees the Archives chat, never the Circulation one.
            listed = (await as_ben.get("/api/chats")).json()["chats"]
            assert [c["chat_id"] for c in listed] == [chats["archives"]]
            assert (await as_ben.get(f"/api/chats/{chats['archives']}")).json()["department_id"] == "archives"
            refused = await as_ben.get(f"/api/chats/{chats['circulation']}")
            assert refused.status_code == 403
            assert refused.json()["detail"] == "You can only see data of your own departments: archives, reference."
            by_department = await as_ben.get("/api/chats", params={"department_id": "circulation"})
            assert by_department.status_code == 403
            by_id = (await as_ben.get("/api/chats", params={"chat_id": chats["circulation"]})).json()["chats"]
            assert by_id == []
            assert (await as_ben.get("/api/chats/unknown-chat")).status_code == 404

            # Records: his department's and his own hand entry without one — not Ana's.
            records = (await as_ben.get("/api/records")).json()["records"]
            assert {r["id"] for r in records} == {ben_archives.id, ben_loose.id}
            assert (await as_ben.get("/api/records", params={"operator_id": ana.id})).json()["records"] == []

            # Ana (Reference, Circulation) sees the other half.
            assert [c["chat_id"] for c in (await as_ana.get("/api/chats")).json()["chats"]] == [chats["circulation"]]
            assert (await as_ana.get(f"/api/chats/{chats['archives']}")).status_code == 403
            records = (await as_ana.get("/api/records")).json()["records"]
            assert {r["id"] for r in records} == {ana_circulation.id, ana_loose.id}

            # Cleo, an admin, sees everything.
            assert {c["chat_id"] for c in (await cleo.get("/api/chats")).json()["chats"]} == set(chats.values())
            assert (await cleo.get(f"/api/chats/{chats['circulation']}")).status_code == 200
            records = (await cleo.get("/api/records")).json()["records"]
            assert {r["id"] for r in records} == {ana_circulation.id, ana_loose.id, ben_archives.id, ben_loose.id}
