"""Handlers for Reference Analytics (the record form, hand entries, edits, deletes,
audit history, dataset admin) and for the patron's rating of an ended chat.

Each handler authorises its frame, asks the owning service and returns the ``reply``
data (see :mod:`gateway.handlers`). Who may record a chat's question is the chat's
owner or an admin (:func:`gateway.policy.check_ra`); who may change a record — its
author or an admin — is decided by the analytics service, told who asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from refdesk.bus import Conflict, Forbidden, Invalid
from refdesk.contracts.analytics import (
    DATASET_GET, DATASET_LIST, DATASET_SAVE, READ_SCALE, RECORD_CREATE, RECORD_DELETE, RECORD_HISTORY, RECORD_LIST,
    RECORD_UPDATE, AuditTrail, Dataset, DatasetList, DatasetListRequest, DatasetRequest, DatasetSave, RaRecord,
    RecordCreate, RecordListRequest, RecordPage, RecordRef, RecordUpdate,
)
from refdesk.contracts.chat import HISTORY, History, HistoryRequest, Message
from refdesk.contracts.common import utcnow
from refdesk.contracts.queue import CHAT_RATE, ChatView, RateRequest

from . import policy
from .errors import describe
from .frames_ra import (
    ChatRate, RaDataset, RaDatasets, RaDatasetSave, RaDelete, RaForm, RaHistory, RaList, RaSave,
)
from .policy import PatronIdentity
from .session import Handler, Session

EXCERPT_CHARS = 1500
"""Longest transcript excerpt the form's Answer starts with, in characters."""
EXCERPT_MESSAGES = 200
"""Messages read from the start of a chat for the excerpt."""
FORM_RECORDS = 20
"""Records of the chat an ``ra.form`` reply lists."""


def transcript_excerpt(messages: Iterable[Message], limit: int = EXCERPT_CHARS) -> str:
    """The patron-visible conversation as ``Name: text`` lines, oldest first, cut at
    ``limit`` characters (on a word where one is near, with ``…``): patron and
    operator messages only — never internal notes, nor system lines."""
    lines = [f"{m.author_name}: {m.body}" for m in messages
             if m.author_kind in ("patron", "operator") and not getattr(m, "internal", False)]
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def answered_at(text: str | None, now: datetime) -> datetime | None:
    """The ``answered_at`` of an ``ra.save`` frame as an aware datetime (None when not
    given).

    Raises:
        Invalid: not ISO-8601, or without a time zone.
    """
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise Invalid("The time answered must be an ISO-8601 date and time, e.g. 2026-12-02T14:30:00Z.") from None
    if when.tzinfo is None:
        raise Invalid("The time answered must include a time zone, e.g. 2026-12-02T14:30:00Z.")
    return when


async def _excerpt(session: Session, chat_id: str) -> str:
    history = await session.call(HISTORY, HistoryRequest(chat_id=chat_id, limit=EXCERPT_MESSAGES), History)
    return transcript_excerpt(history.messages)


async def ra_form(session: Session, frame: RaForm) -> dict[str, Any]:
    """``ra.form``: ``{dataset, read_scale, datasets, prefill, records, record}``.

    With ``chat_id`` (the chat's owner or an admin): the prefill is the chat's
    question, an answer excerpt of the transcript (:func:`transcript_excerpt`), mode
    ``Chat``, duration in minutes, department, the owner as ``operator_id`` and
    ``answered_at`` now; ``records`` are the chat's records, newest first, and
    ``record`` the newest (None before the first). Without ``chat_id`` (a hand
    entry, any operator): the prefill is the operator and ``answered_at`` now.
    """
    profile = session.profile  # 403 for a patron
    dataset_request = DatasetRequest(dataset_id=frame.dataset_id)
    now = utcnow().replace(microsecond=0)
    if frame.chat_id is None:
        dataset, listed = await asyncio.gather(
            session.call(DATASET_GET, dataset_request, Dataset),
            session.call(DATASET_LIST, DatasetListRequest(), DatasetList))
        prefill: dict[str, Any] = {"operator_id": profile.id, "answered_at": now}
        records: list[RaRecord] = []
    else:
        chat = await session.chat(frame.chat_id)
        owner = policy.check_ra(profile, chat)
        dataset, listed, excerpt, page = await asyncio.gather(
            session.call(DATASET_GET, dataset_request, Dataset),
            session.call(DATASET_LIST, DatasetListRequest(), DatasetList), _excerpt(session, chat.id),
            session.call(RECORD_LIST, RecordListRequest(chat_id=chat.id, limit=FORM_RECORDS), RecordPage))
        prefill = {**policy.ra_prefill(chat, owner), "answer": excerpt, "answered_at": now}
        records = page.records
    return {"dataset": dataset, "read_scale": READ_SCALE, "datasets": listed.datasets, "prefill": prefill,
            "records": records, "record": records[0] if records else None}


async def ra_save(session: Session, frame: RaSave) -> RaRecord:
    """``ra.save``: with ``record_id``, change that record (its author or an admin —
    the analytics service answers ``403`` otherwise); else a new record — of the
    chat (its owner or an admin; the record is the owner's) or, without ``chat_id``,
    a hand entry by the operator (``department_id``, if given, one of theirs).
    ``422`` names each missing or invalid field, or a bad ``answered_at``."""
    profile = session.profile
    when = answered_at(frame.answered_at, utcnow())
    if frame.record_id is not None:
        update = RecordUpdate(record_id=frame.record_id, actor_id=profile.id, actor_is_admin=profile.is_admin,
                              actor_name=profile.nickname, answered_at=when, values=frame.values)
        return await session.call(RECORD_UPDATE, update, RaRecord)
    if frame.chat_id is not None:
        chat = await session.chat(frame.chat_id)
        owner = policy.check_ra(profile, chat)
        record = RecordCreate(dataset_id=frame.dataset_id, operator_id=owner, actor_id=profile.id,
                              actor_name=profile.nickname, chat_id=chat.id, department_id=chat.department_id,
                              answered_at=when, values=frame.values)
    else:
        if frame.department_id is not None:
            policy.check_member(profile, frame.department_id)
        record = RecordCreate(dataset_id=frame.dataset_id, operator_id=profile.id, actor_id=profile.id,
                              actor_name=profile.nickname, department_id=frame.department_id, answered_at=when,
                              values=frame.values)
    return await session.call(RECORD_CREATE, record, RaRecord)


async def ra_delete(session: Session, frame: RaDelete) -> RaRecord:
    """``ra.delete``: delete a record (its author or an admin); the reply has
    ``deleted_at`` set."""
    profile = session.profile
    ref = RecordRef(record_id=frame.record_id, actor_id=profile.id, actor_is_admin=profile.is_admin,
                    actor_name=profile.nickname)
    return await session.call(RECORD_DELETE, ref, RaRecord)


async def ra_list(session: Session, frame: RaList) -> RecordPage:
    """``ra.list``: a page of records, newest answered first — the chat's (its owner
    or an admin) with ``chat_id``, else the operator's own."""
    profile = session.profile
    if frame.chat_id is not None:
        policy.check_ra(profile, await session.chat(frame.chat_id))
        request = RecordListRequest(chat_id=frame.chat_id, offset=frame.offset, limit=frame.limit)
    else:
        request = RecordListRequest(operator_id=profile.id, offset=frame.offset, limit=frame.limit)
    return await session.call(RECORD_LIST, request, RecordPage)


async def ra_history(session: Session, frame: RaHistory) -> AuditTrail:
    """``ra.history``: a record's audit trail, oldest first (its author or an admin)."""
    profile = session.profile
    ref = RecordRef(record_id=frame.record_id, actor_id=profile.id, actor_is_admin=profile.is_admin)
    return await session.call(RECORD_HISTORY, ref, AuditTrail)


def _require_admin(session: Session) -> None:
    if not session.profile.is_admin:
        raise Forbidden("Only an admin can manage Reference Analytics datasets.")


async def ra_datasets(session: Session, frame: RaDatasets) -> DatasetList:
    """``ra.datasets``: the datasets (default first); archived ones only for admins
    who ask (``include_archived``, 403 otherwise)."""
    if frame.include_archived:
        _require_admin(session)
    else:
        policy.require_operator(session.identity)
    return await session.call(DATASET_LIST, DatasetListRequest(include_archived=frame.include_archived), DatasetList)


async def ra_dataset(session: Session, frame: RaDataset) -> Dataset:
    """``ra.dataset``: one dataset with every field (archived ones flagged)."""
    policy.require_operator(session.identity)
    return await session.call(DATASET_GET, DatasetRequest(dataset_id=frame.dataset_id), Dataset)


async def ra_dataset_save(session: Session, frame: RaDatasetSave) -> Dataset:
    """``ra.dataset.save``: an admin creates or changes a dataset (fields left out
    are archived; a key keeps its kind). ``422`` with a sentence for a malformed
    dataset; ``403`` for anyone but an admin."""
    _require_admin(session)
    try:
        request = DatasetSave.model_validate(frame.dataset)
    except ValidationError as exc:
        raise Invalid(f"The dataset is not valid: {describe(exc.errors())}") from None
    return await session.call(DATASET_SAVE, request, Dataset)


async def chat_rate(session: Session, frame: ChatRate) -> ChatView:
    """``chat.rate``: the patron rates their chat once it has ended (1–5, optional
    comment ≤ 1000 characters); rating again replaces the earlier rating. ``403`` for
    staff or another chat, ``409`` while the chat is still going."""
    if not isinstance(session.identity, PatronIdentity):
        raise Forbidden("Only the patron can rate a chat.")
    chat = await session.chat(frame.chat_id)
    if chat.state not in ("ended", "closed"):
        raise Conflict("You can rate this chat once it has ended.")
    request = RateRequest(chat_id=chat.id, rating=frame.rating, comment=frame.comment or None)
    return await session.call(CHAT_RATE, request, ChatView)


HANDLERS: dict[type, Handler] = {
    RaForm: ra_form,
    RaSave: ra_save,
    RaDelete: ra_delete,
    RaList: ra_list,
    RaHistory: ra_history,
    RaDatasets: ra_datasets,
    RaDataset: ra_dataset,
    RaDatasetSave: ra_dataset_save,
    ChatRate: chat_rate,
}
"""Frame model → handler for this area, gathered by :mod:`gateway.handlers`."""
