"""Request handlers of the analytics service and its wiring: endpoints, the event
consumers and the HTTP reporting API."""

from __future__ import annotations

from refdesk import bus
from refdesk.bus import NotFound
from refdesk.contracts import analytics as contract
from refdesk.contracts.analytics import (
    DEFAULT_DATASET_ID, ChatRecordRequest, Dataset, DatasetRequest, RaRecord, RecordCreate,
)
from refdesk.contracts.chat import STREAM as CHAT_STREAM
from refdesk.contracts.chat import MessagePosted
from refdesk.contracts.queue import STREAM as QUEUE_STREAM
from refdesk.contracts.queue import ChatEvent
from refdesk.service import Context

from . import domain, http
from .config import FACTS_DURABLE, FACTS_SUBJECTS, MESSAGES_DURABLE, MESSAGES_SUBJECTS
from .consumers import chat_event_handler, message_handler
from .seed import seed
from .store import AnalyticsStore


class Handlers:
    """The ``rd.analytics.*`` request handlers over one store."""

    def __init__(self, store: AnalyticsStore) -> None:
        self._store = store

    async def _dataset(self, dataset_id: str) -> Dataset:
        dataset = await self._store.get_dataset(dataset_id)
        if dataset is None:
            raise NotFound(f"There is no Reference Analytics dataset '{dataset_id}'.")
        return dataset

    async def get_dataset(self, request: DatasetRequest) -> Dataset:
        """``rd.analytics.dataset.get``: the dataset with its fields in form order
        (``dataset_id`` None means ``default``).

        Raises:
            NotFound: no such dataset.
        """
        return await self._dataset(request.dataset_id or DEFAULT_DATASET_ID)

    async def create_record(self, request: RecordCreate) -> RaRecord:
        """``rd.analytics.record.create``: validate and store a Reference Analytics
        record. When the request names a chat but no department, the department the
        chat was queued in is used (if analytics has seen the chat). Saving again for
        the same chat corrects that chat's record.

        Raises:
            NotFound: no such dataset.
            Invalid: ``422`` naming every missing or invalid field in one sentence.
        """
        dataset = await self._dataset(request.dataset_id)
        values = domain.validate_values(dataset.fields, request.values)
        department_id = request.department_id
        if department_id is None and request.chat_id:
            department_id = await self._store.chat_department(request.chat_id)
        return await self._store.save_record(
            dataset_id=dataset.id, operator_id=request.operator_id, chat_id=request.chat_id,
            department_id=department_id, values=values,
        )

    async def record_for_chat(self, request: ChatRecordRequest) -> RaRecord:
        """``rd.analytics.record.for_chat``: the chat's record in the dataset
        (``dataset_id`` None means ``default``), as last saved.

        Raises:
            NotFound: the chat has no record (yet) in that dataset.
        """
        record = await self._store.record_for_chat(request.dataset_id or DEFAULT_DATASET_ID, request.chat_id)
        if record is None:
            raise NotFound("This chat has no Reference Analytics record yet.")
        return record


async def wire(ctx: Context) -> None:
    """Ensure the default dataset exists, register the endpoints, start the two
    durable consumers and the HTTP reporting API on ``analytics_host:analytics_port``.

    Raises:
        OSError: the reporting API's address cannot be bound.
    """
    store = AnalyticsStore(ctx.pool)
    await seed(store)  # the default dataset is product data: every library needs the RA form
    handlers = Handlers(store)
    ctx.endpoints.add(contract.DATASET_GET, DatasetRequest, handlers.get_dataset)
    ctx.endpoints.add(contract.RECORD_CREATE, RecordCreate, handlers.create_record)
    ctx.endpoints.add(contract.RECORD_FOR_CHAT, ChatRecordRequest, handlers.record_for_chat)

    ctx.background(bus.consume(
        ctx.nc, stream=QUEUE_STREAM, durable=FACTS_DURABLE, subjects=FACTS_SUBJECTS,
        event_type=ChatEvent, handler=chat_event_handler(store), stop=ctx.stop,
    ), name=FACTS_DURABLE)
    ctx.background(bus.consume(
        ctx.nc, stream=CHAT_STREAM, durable=MESSAGES_DURABLE, subjects=MESSAGES_SUBJECTS,
        event_type=MessagePosted, handler=message_handler(store), stop=ctx.stop,
    ), name=MESSAGES_DURABLE)

    sock = http.bind(ctx.settings.analytics_host, ctx.settings.analytics_port)
    ctx.background(http.serve(http.create_app(ctx.pool, ctx.settings), sock, ctx.stop), name="analytics-http")
