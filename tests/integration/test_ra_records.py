"""Reference Analytics records and datasets against real NATS, PostgreSQL and the
real services: several records per chat, hand entries, backdating, edits and deletes
by the author / another operator / an admin, the audit trail, and dataset admin —
first at the analytics service, then through the gateway's websocket frames."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from refdesk.bus import BusError, request
from refdesk.contracts import analytics as an
from refdesk.ids import new_id
from tests.gateway_client import Client, Gateway, gateway_stack, login, new_chat, online_operator
from tests.support import running

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

VALID = {"location": "Reference desk", "mode": "In person", "duration": 5}


async def refused(call) -> BusError:
    with pytest.raises(BusError) as caught:
        await call
    return caught.value


# -- the analytics service --------------------------------------------------------------


async def test_records_edits_deletes_and_their_audit_trail_at_the_service(servers) -> None:
    async with running(servers, "analytics") as stack:
        nc = stack.nc

        async def create(**fields) -> an.RaRecord:
            return await request(nc, an.RECORD_CREATE, an.RecordCreate(dataset_id="default", **fields), an.RaRecord)

        # The default dataset, ensured at start: nine fields in form order.
        dataset = await request(nc, an.DATASET_GET, an.DatasetRequest(), an.Dataset)
        assert [(f.key, f.kind, f.required) for f in dataset.fields] == [
            ("location", "single_choice", True), ("mode", "single_choice", True), ("duration", "number", True),
            ("referred_by", "single_choice", False), ("question_type", "single_choice", False),
            ("read_scale", "read_scale", False), ("question", "text", False), ("answer", "text", False),
            ("internal_note", "text", False)]

        # Several records for one chat; a hand entry without a chat; a backdated one.
        chat_id = new_id()
        first = await create(operator_id="op-ana", chat_id=chat_id, values={**VALID, "mode": "Chat", "read_scale": 2})
        second = await create(operator_id="op-ana", chat_id=chat_id, values={**VALID, "question": "Second question"})
        assert first.id != second.id and first.chat_id == second.chat_id == chat_id
        now = datetime.now(timezone.utc)
        assert abs(first.answered_at - now) < timedelta(seconds=30)
        backdated_at = now - timedelta(days=2, hours=3)
        by_hand = await create(operator_id="op-ana", answered_at=backdated_at, values={**VALID, "mode": "phone"})
        assert by_hand.chat_id is None and by_hand.values["mode"] == "Phone"
        assert abs(by_hand.answered_at - backdated_at) < timedelta(milliseconds=1)
        future = await refused(create(operator_id="op-ana", answered_at=now + timedelta(hours=1), values=VALID))
        assert (future.code, future.message) == ("422", "The time answered cannot be in the future.")

        of_chat = await request(nc, an.RECORD_LIST, an.RecordListRequest(chat_id=chat_id), an.RecordPage)
        assert [r.id for r in of_chat.records] == [second.id, first.id] and not of_chat.more
        mine = await request(nc, an.RECORD_LIST, an.RecordListRequest(operator_id="op-ana", limit=2), an.RecordPage)
        assert [r.id for r in mine.records] == [second.id, first.id] and mine.more  # newest answered first
        page_two = await request(nc, an.RECORD_LIST, an.RecordListRequest(operator_id="op-ana", offset=2, limit=2),
                                 an.RecordPage)
        assert [r.id for r in page_two.records] == [by_hand.id] and not page_two.more

        # Edits: the author or an admin; anyone else 403.
        update = an.RecordUpdate(record_id=first.id, actor_id="op-ben", values={**VALID, "read_scale": 4})
        other = await refused(request(nc, an.RECORD_UPDATE, update, an.RaRecord))
        assert (other.code, other.message) == (
            "403", "Only the librarian who recorded this question, or an admin, can change it.")
        edited = await request(nc, an.RECORD_UPDATE, update.model_copy(update={"actor_id": "op-ana"}), an.RaRecord)
        assert edited.values["read_scale"] == 4 and edited.updated_by == "op-ana"
        by_admin = await request(nc, an.RECORD_UPDATE, an.RecordUpdate(
            record_id=first.id, actor_id="op-cleo", actor_is_admin=True, answered_at=backdated_at,
            values={**VALID, "read_scale": 5}), an.RaRecord)
        assert by_admin.values["read_scale"] == 5 and by_admin.operator_id == "op-ana"  # still Ana's record
        bad = await refused(request(nc, an.RECORD_UPDATE, update.model_copy(
            update={"actor_id": "op-ana", "values": {**VALID, "read_scale": 7}}), an.RaRecord))
        assert (bad.code, bad.message) == ("422", "READ scale must be a READ scale level from 1 to 6.")

        # Delete: 403 for another operator, then by the author; gone from lists, 404 after.
        ref = an.RecordRef(record_id=second.id, actor_id="op-ben")
        assert (await refused(request(nc, an.RECORD_DELETE, ref, an.RaRecord))).code == "403"
        deleted = await request(nc, an.RECORD_DELETE, ref.model_copy(update={"actor_id": "op-ana"}), an.RaRecord)
        assert deleted.deleted_at is not None
        again = await refused(request(nc, an.RECORD_DELETE, ref.model_copy(update={"actor_id": "op-ana"}), an.RaRecord))
        assert again.code == "404"
        of_chat = await request(nc, an.RECORD_LIST, an.RecordListRequest(chat_id=chat_id), an.RecordPage)
        assert [r.id for r in of_chat.records] == [first.id]

        # The audit trail: who, what, before and after.
        trail = await request(nc, an.RECORD_HISTORY, an.RecordRef(record_id=first.id, actor_id="op-ana"),
                              an.AuditTrail)
        assert [(e.action, e.actor_id) for e in trail.entries] == [
            ("create", "op-ana"), ("update", "op-ana"), ("update", "op-cleo")]
        create_entry, own_edit, admin_edit = trail.entries
        assert create_entry.before is None and create_entry.after["values"]["read_scale"] == 2
        assert own_edit.before["values"]["read_scale"] == 2 and own_edit.after["values"]["read_scale"] == 4
        assert own_edit.changed == ["mode", "read_scale"]  # "Chat" → "In person" too
        assert admin_edit.changed == ["answered_at", "read_scale"]
        assert (await refused(request(nc, an.RECORD_HISTORY, an.RecordRef(record_id=first.id, actor_id="op-ben"),
                                      an.AuditTrail))).code == "403"
        deleted_trail = await request(nc, an.RECORD_HISTORY, an.RecordRef(
            record_id=second.id, actor_id="op-cleo", actor_is_admin=True), an.AuditTrail)
        assert [e.action for e in deleted_trail.entries] == ["create", "delete"]
        assert deleted_trail.entries[-1].changed == ["deleted"]


async def test_datasets_admin_keeps_keys_and_old_records_readable(servers) -> None:
    async with running(servers, "analytics") as stack:
        nc = stack.nc
        save = an.DatasetSave(name="Desk stats", description="Counts at the desk", fields=[
            an.FieldInput(key="mode", label="Mode", kind="single_choice", required=True,
                          options=["In person", "Phone"], default="In person"),
            an.FieldInput(key="topics", label="Topics", kind="multiple_choice", options=["Maps", "Law", "Art"]),
            an.FieldInput(key="when", label="Follow up on", kind="datetime"),
            an.FieldInput(key="effort", label="Effort", kind="read_scale", required=True),
            an.FieldInput(key="minutes", label="Minutes", kind="number", min_value=1, max_value=120, unit="minutes"),
        ])
        created = await request(nc, an.DATASET_SAVE, save, an.Dataset)
        assert created.id == "desk-stats" and [f.position for f in created.fields] == [0, 1, 2, 3, 4]
        assert created.fields[0].default == "In person"
        record = await request(nc, an.RECORD_CREATE, an.RecordCreate(
            dataset_id="desk-stats", operator_id="op-ana",
            values={"mode": "phone", "topics": ["art", "Maps"], "when": "2026-12-01T09:30:00-05:00", "effort": "3",
                    "minutes": 15}), an.RaRecord)
        assert record.values == {"mode": "Phone", "topics": ["Maps", "Art"], "when": "2026-12-01T14:30:00Z",
                                 "effort": 3, "minutes": 15}
        out_of_range = await refused(request(nc, an.RECORD_CREATE, an.RecordCreate(
            dataset_id="desk-stats", operator_id="op-ana",
            values={"mode": "Phone", "effort": 2, "minutes": 500, "topics": ["Cooking"], "when": "yesterday"}),
            an.RaRecord))
        assert out_of_range.message == (
            "Topics must be chosen from: Maps, Law, Art. Follow up on must be an ISO-8601 date (2026-12-02) or date "
            "and time with a time zone (2026-12-02T14:30Z). Minutes must be a number of minutes from 1 to 120.")

        # Dropping a field archives it (old records keep their values); a key keeps its kind.
        changed = await request(nc, an.DATASET_SAVE, save.model_copy(update={
            "id": "desk-stats", "fields": [save.fields[0], save.fields[3]]}), an.Dataset)
        assert [(f.key, f.archived) for f in changed.fields] == [
            ("mode", False), ("effort", False), ("topics", True), ("when", True), ("minutes", True)]
        old = await request(nc, an.RECORD_LIST, an.RecordListRequest(dataset_id="desk-stats"), an.RecordPage)
        assert old.records[0].values["topics"] == ["Maps", "Art"]
        kind_change = await refused(request(nc, an.DATASET_SAVE, save.model_copy(update={
            "id": "desk-stats", "fields": [an.FieldInput(key="effort", label="Effort", kind="number")]}), an.Dataset))
        assert (kind_change.code, kind_change.message) == (
            "422", "Effort was a read scale field; a field keeps its kind (add a new field instead).")
        no_options = await refused(request(nc, an.DATASET_SAVE, an.DatasetSave(name="Empty", fields=[
            an.FieldInput(key="pick", label="Pick", kind="single_choice"),
            an.FieldInput(key="pick", label="Pick again", kind="text")]), an.Dataset))
        assert no_options.message == "Each field needs its own key (used twice: pick). Pick needs at least one option."

        listed = await request(nc, an.DATASET_LIST, an.DatasetListRequest(), an.DatasetList)
        assert [(d.id, d.field_count) for d in listed.datasets] == [("default", 9), ("desk-stats", 2)]
        await request(nc, an.DATASET_SAVE, save.model_copy(update={"id": "desk-stats", "archived": True}), an.Dataset)
        assert [d.id for d in (await request(nc, an.DATASET_LIST, an.DatasetListRequest(), an.DatasetList)).datasets] \
            == ["default"]
        default_archived = await refused(request(nc, an.DATASET_SAVE, an.DatasetSave(
            id="default", name="Reference Analytics", archived=True, fields=[]), an.Dataset))
        assert default_archived.message == "The default dataset cannot be archived."


# -- through the gateway -----------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(servers) -> AsyncIterator[Gateway]:
    async with gateway_stack(servers) as gateway:
        yield gateway


async def test_the_form_records_several_questions_and_hand_entries(gw: Gateway) -> None:
    ana = await online_operator(gw, "ana", ["reference"])
    ben, ben_welcome = await Client.open(gw, await login(gw, "ben"))
    cleo, cleo_welcome = await Client.open(gw, await login(gw, "cleo"))  # an admin
    created = await new_chat(gw, "reference", question="Do you have the 1910 city atlas?")
    chat_id = created["chat_id"]
    patron, _ = await Client.open(gw, created["token"])
    await ana.ok({"type": "chat.claim", "chat_id": chat_id})
    await patron.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "p1", "body": "Is it in the map room?"})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "a1", "body": "Yes, second floor."})
    await ana.ok({"type": "chat.send", "chat_id": chat_id, "cmid": "n1", "body": "Regular asker.", "internal": True})
    await ana.ok({"type": "chat.end", "chat_id": chat_id})

    form = await ana.ok({"type": "ra.form", "chat_id": chat_id})
    prefill = form["prefill"]
    assert prefill["question"] == "Do you have the 1910 city atlas?" and prefill["mode"] == "Chat"
    assert prefill["answer"] == (  # the conversation, without the internal note
        "Pat Reader: Do you have the 1910 city atlas?\nPat Reader: Is it in the map room?\nAna: Yes, second floor.")
    assert prefill["answered_at"] and form["records"] == [] and form["record"] is None
    assert [level["level"] for level in form["read_scale"]] == [1, 2, 3, 4, 5, 6]
    assert form["datasets"][0]["id"] == "default"
    save = {"type": "ra.save", "chat_id": chat_id, "dataset_id": "default"}
    one = await ana.ok({**save, "values": {**VALID, "mode": "Chat", "question": prefill["question"]}})
    two = await ana.ok({**save, "values": {**VALID, "mode": "Chat", "question": "And the 1920 one?"}})
    again = await ana.ok({"type": "ra.form", "chat_id": chat_id})
    assert [r["id"] for r in again["records"]] == [two["id"], one["id"]] and again["record"]["id"] == two["id"]

    # A hand entry from the top bar, backdated, with no chat; bad times read as 422.
    backdated = (datetime.now(timezone.utc) - timedelta(hours=5)).replace(microsecond=0)
    hand_form = await ben.ok({"type": "ra.form"})
    assert hand_form["prefill"]["operator_id"] == ben_welcome["operator"]["id"] and hand_form["records"] == []
    hand = await ben.ok({"type": "ra.save", "dataset_id": "default", "department_id": "archives",
                         "answered_at": backdated.isoformat(), "values": {**VALID, "mode": "Phone"}})
    assert hand["chat_id"] is None and hand["department_id"] == "archives"
    assert datetime.fromisoformat(hand["answered_at"]) == backdated
    naive = await ben.request({"type": "ra.save", "dataset_id": "default", "answered_at": "2026-12-01T10:00",
                               "values": VALID})
    assert (naive["code"], naive["message"]) == (
        "422", "The time answered must include a time zone, e.g. 2026-12-02T14:30:00Z.")
    not_member = await ben.request({"type": "ra.save", "dataset_id": "default", "department_id": "circulation",
                                    "values": VALID})
    assert not_member["code"] == "403"
    assert [r["id"] for r in (await ben.ok({"type": "ra.list"}))["records"]][:1] == [hand["id"]]

    # Edit and delete: the author yes, another operator 403, an admin yes.
    edit = {"type": "ra.save", "record_id": one["id"], "dataset_id": "default",
            "values": {**VALID, "mode": "Chat", "read_scale": 3}}
    denied = await ben.request(edit)
    assert (denied["code"], denied["message"]) == (
        "403", "Only the librarian who recorded this question, or an admin, can change it.")
    assert (await ana.ok(edit))["values"]["read_scale"] == 3
    assert (await cleo.ok({**edit, "values": {**VALID, "mode": "Chat", "read_scale": 4}}))["values"]["read_scale"] == 4
    assert (await ben.request({"type": "ra.delete", "record_id": two["id"]}))["code"] == "403"
    assert (await ana.ok({"type": "ra.delete", "record_id": two["id"]}))["deleted_at"]
    assert [r["id"] for r in (await ana.ok({"type": "ra.list", "chat_id": chat_id}))["records"]] == [one["id"]]
    assert (await ben.request({"type": "ra.list", "chat_id": chat_id}))["code"] == "403"
    trail = await cleo.ok({"type": "ra.history", "record_id": one["id"]})
    assert [(e["action"], e["actor_id"]) for e in trail["entries"]] == [
        ("create", one["operator_id"]), ("update", one["operator_id"]), ("update", cleo_welcome["operator"]["id"])]
    assert trail["entries"][2]["changed"] == ["read_scale"]
    assert [e["actor_name"] for e in trail["entries"]] == ["Ana", "Ana", "Cleo"]
    assert (await ben.request({"type": "ra.history", "record_id": one["id"]}))["code"] == "403"

    # The patron cannot use any of it.
    assert (await patron.request({"type": "ra.form", "chat_id": chat_id}))["code"] == "403"
    for client in (ana, ben, cleo, patron):
        await client.close()


async def test_dataset_admin_frames_are_for_admins(gw: Gateway) -> None:
    ben, _ = await Client.open(gw, await login(gw, "ben"))
    cleo, _ = await Client.open(gw, await login(gw, "cleo"))
    dataset = {"name": "Roving", "fields": [
        {"key": "zone", "label": "Zone", "kind": "single_choice", "options": ["Stacks", "Lab"], "required": True},
        {"key": "effort", "label": "READ scale", "kind": "read_scale"}]}
    denied = await ben.request({"type": "ra.dataset.save", "dataset": dataset})
    assert (denied["code"], denied["message"]) == ("403", "Only an admin can manage Reference Analytics datasets.")
    assert (await ben.request({"type": "ra.datasets", "include_archived": True}))["code"] == "403"
    saved = await cleo.ok({"type": "ra.dataset.save", "dataset": dataset})
    assert saved["id"] == "roving" and [f["key"] for f in saved["fields"]] == ["zone", "effort"]
    malformed = await cleo.request({"type": "ra.dataset.save", "dataset": {"name": "", "fields": "no"}})
    assert malformed["code"] == "422" and malformed["message"].startswith("The dataset is not valid:")
    assert "roving" in [d["id"] for d in (await ben.ok({"type": "ra.datasets"}))["datasets"]]
    form = await ben.ok({"type": "ra.form", "dataset_id": "roving"})
    assert form["dataset"]["name"] == "Roving"
    record = await ben.ok({"type": "ra.save", "dataset_id": "roving", "values": {"zone": "lab", "effort": 1}})
    assert record["values"] == {"zone": "Lab", "effort": 1}
    for client in (ben, cleo):
        await client.close()
