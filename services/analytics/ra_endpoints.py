"""The ``rd.analytics.dataset.*`` and ``rd.analytics.record.*`` request handlers
(Reference Analytics) and their wiring. The gateway authorises admins for dataset
edits and vouches for the actor of record changes; who may change a record is decided
here (:func:`services.analytics.ra.check_may_change`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from refdesk.bus import Endpoints, Invalid, NotFound
from refdesk.contracts import analytics as contract
from refdesk.contracts.analytics import (
    DEFAULT_DATASET_ID, AuditTrail, ChatRecordRequest, Dataset, DatasetList, DatasetListRequest, DatasetRequest,
    DatasetSave, RaRecord, RecordCreate, RecordListRequest, RecordPage, RecordRef, RecordUpdate,
)
from refdesk.contracts.common import utcnow

from . import ra
from .ra_store import RaStore
from .seed import seed

_GONE = "There is no such Reference Analytics record (it may have been deleted)."

ChatDepartment = Callable[[str], Awaitable[str | None]]
"""``chat_id`` → the department the chat was queued in, if analytics has seen it."""


class RaHandlers:
    """Reference Analytics request handlers over one :class:`RaStore`.

    Args:
        store: the data.
        chat_department: the department a chat was queued in, if analytics knows it
            (used when a record names a chat but no department).
        now: the clock (UTC), replaceable in tests.
    """

    def __init__(self, store: RaStore, chat_department: ChatDepartment,
                 now: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._chat_department = chat_department
        self._now = now

    async def _dataset(self, dataset_id: str) -> Dataset:
        dataset = await self._store.get_dataset(dataset_id)
        if dataset is None:
            raise NotFound(f"There is no Reference Analytics dataset '{dataset_id}'.")
        return dataset

    # -- datasets ----------------------------------------------------------------------

    async def get_dataset(self, request: DatasetRequest) -> Dataset:
        """``rd.analytics.dataset.get``: the dataset, fields in form order, archived
        ones flagged (``dataset_id`` None means ``default``). Raises NotFound."""
        return await self._dataset(request.dataset_id or DEFAULT_DATASET_ID)

    async def list_datasets(self, request: DatasetListRequest) -> DatasetList:
        """``rd.analytics.dataset.list``: the default dataset first, then by name."""
        return DatasetList(datasets=await self._store.list_datasets(include_archived=request.include_archived))

    async def save_dataset(self, request: DatasetSave) -> Dataset:
        """``rd.analytics.dataset.save``: create (``id`` None) or change a dataset.
        Fields left out are archived, keys keep their kind (:func:`ra.merge_dataset`).

        Raises:
            NotFound: ``id`` names no dataset.
            Invalid: ``422`` naming the problems; archiving the default dataset.
        """
        if request.id is None:
            stored, dataset_id = None, ra.new_dataset_id(request.name, await self._store.dataset_ids())
        else:
            stored, dataset_id = await self._dataset(request.id), request.id
        if dataset_id == DEFAULT_DATASET_ID and request.archived:
            raise Invalid("The default dataset cannot be archived.")
        return await self._store.save_dataset(ra.merge_dataset(request, dataset_id, stored))

    # -- records -----------------------------------------------------------------------

    async def create_record(self, request: RecordCreate) -> RaRecord:
        """``rd.analytics.record.create``: validate and store a new record (a chat may
        have several) with its audit entry. Without a department, a chat's is looked
        up in the chat facts.

        Raises:
            NotFound: no such dataset.
            Invalid: ``422`` naming every missing or invalid field in one sentence; a
                time answered in the future or without a time zone.
        """
        dataset = await self._dataset(request.dataset_id)
        values = ra.validate_values(dataset.fields, request.values)
        answered_at = ra.answered_time(request.answered_at, self._now())
        department_id = request.department_id
        if department_id is None and request.chat_id:
            department_id = await self._chat_department(request.chat_id)
        return await self._store.create_record(
            dataset_id=dataset.id, operator_id=request.operator_id, actor_id=request.actor_id or request.operator_id,
            actor_name=request.actor_name, chat_id=request.chat_id, department_id=department_id, answered_at=answered_at, values=values,
        )

    async def update_record(self, request: RecordUpdate) -> RaRecord:
        """``rd.analytics.record.update``: replace a record's values (checked as for a
        new one) and, when given, its time answered; audited.

        Raises:
            NotFound: unknown or deleted record.
            Forbidden: neither the author nor an admin.
            Invalid: as for :meth:`create_record`.
        """
        current = await self._store.get_record(request.record_id)
        if current is None or current.deleted_at is not None:
            raise NotFound(_GONE)
        dataset = await self._dataset(current.dataset_id)
        values = ra.validate_values(dataset.fields, request.values)
        answered_at = ra.answered_time(request.answered_at, self._now()) if request.answered_at else None

        def change(record: RaRecord) -> tuple[str, dict, datetime | None]:
            if record.deleted_at is not None:
                raise NotFound(_GONE)
            ra.check_may_change(record, request.actor_id, request.actor_is_admin)
            return "update", values, answered_at or record.answered_at

        updated = await self._store.change_record(request.record_id, request.actor_id, request.actor_name, change)
        if updated is None:
            raise NotFound(_GONE)
        return updated

    async def delete_record(self, request: RecordRef) -> RaRecord:
        """``rd.analytics.record.delete``: mark a record deleted (kept for the audit
        trail, left out of lists and reports).

        Raises:
            NotFound: unknown or already deleted.
            Forbidden: neither the author nor an admin.
        """
        def change(record: RaRecord) -> tuple[str, dict, datetime | None]:
            if record.deleted_at is not None:
                raise NotFound(_GONE)
            ra.check_may_change(record, request.actor_id, request.actor_is_admin)
            return "delete", record.values, record.answered_at

        deleted = await self._store.change_record(request.record_id, request.actor_id, request.actor_name, change)
        if deleted is None:
            raise NotFound(_GONE)
        return deleted

    async def list_records(self, request: RecordListRequest) -> RecordPage:
        """``rd.analytics.record.list``: a page of live records, newest answered first."""
        records, more = await self._store.list_records(
            operator_id=request.operator_id, chat_id=request.chat_id, dataset_id=request.dataset_id,
            offset=request.offset, limit=request.limit)
        return RecordPage(records=records, offset=request.offset, more=more)

    async def history(self, request: RecordRef) -> AuditTrail:
        """``rd.analytics.record.history``: the audit trail of a record (deleted ones
        too), oldest first.

        Raises:
            NotFound: unknown record.
            Forbidden: neither the author nor an admin.
        """
        record = await self._store.get_record(request.record_id)
        if record is None:
            raise NotFound(_GONE)
        ra.check_may_change(record, request.actor_id, request.actor_is_admin)
        return AuditTrail(record_id=record.id, entries=await self._store.history(record.id))

    async def record_for_chat(self, request: ChatRecordRequest) -> RaRecord:
        """``rd.analytics.record.for_chat``: the chat's newest live record in the
        dataset (``dataset_id`` None means ``default``).

        Raises:
            NotFound: the chat has no record (yet) in that dataset.
        """
        record = await self._store.newest_for_chat(request.dataset_id or DEFAULT_DATASET_ID, request.chat_id)
        if record is None:
            raise NotFound("This chat has no Reference Analytics record yet.")
        return record


async def wire(endpoints: Endpoints, store: RaStore, chat_department: ChatDepartment) -> None:
    """Ensure the default dataset and register the Reference Analytics endpoints."""
    await seed(store)  # the default dataset is product data: every library needs the RA form
    handlers = RaHandlers(store, chat_department)
    endpoints.add(contract.DATASET_GET, DatasetRequest, handlers.get_dataset)
    endpoints.add(contract.DATASET_LIST, DatasetListRequest, handlers.list_datasets)
    endpoints.add(contract.DATASET_SAVE, DatasetSave, handlers.save_dataset)
    endpoints.add(contract.RECORD_CREATE, RecordCreate, handlers.create_record)
    endpoints.add(contract.RECORD_UPDATE, RecordUpdate, handlers.update_record)
    endpoints.add(contract.RECORD_DELETE, RecordRef, handlers.delete_record)
    endpoints.add(contract.RECORD_LIST, RecordListRequest, handlers.list_records)
    endpoints.add(contract.RECORD_HISTORY, RecordRef, handlers.history)
    endpoints.add(contract.RECORD_FOR_CHAT, ChatRecordRequest, handlers.record_for_chat)
