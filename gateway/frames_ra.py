"""Client frames for Reference Analytics — the record form, hand entries, a record's
edit, delete and audit history, dataset admin — and the patron's rating of an ended
chat (``docs/protocol.md``, "Reference Analytics" and "Patron rating")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from refdesk.contracts.analytics import RaValues
from refdesk.contracts.queue import MAX_RATING_COMMENT_CHARS

from .frame_base import ClientFrame, EntityId


class RaForm(ClientFrame):
    """Ask for a Reference Analytics form: the dataset (``dataset_id``, else the
    default), the READ scale, the live datasets, a prefill — from the chat when
    ``chat_id`` is given, else for a hand entry — and the chat's records."""

    type: Literal["ra.form"]
    chat_id: EntityId | None = None
    dataset_id: EntityId | None = None


class RaSave(ClientFrame):
    """Save a Reference Analytics record: a new one (of ``chat_id``, or a hand entry
    without it, optionally in one of the operator's departments) or, with
    ``record_id``, a change to an existing one. ``values`` by field key, each text, a
    number, a list of texts or null (:data:`refdesk.contracts.analytics.RaValues`);
    ``answered_at`` an ISO-8601 time with a zone (default now; may be backdated)."""

    type: Literal["ra.save"]
    chat_id: EntityId | None = None
    record_id: EntityId | None = None
    dataset_id: EntityId
    department_id: EntityId | None = None
    answered_at: str | None = Field(default=None, min_length=1, max_length=40)
    values: RaValues


class RaDelete(ClientFrame):
    """Delete a record (its author or an admin)."""

    type: Literal["ra.delete"]
    record_id: EntityId


class RaList(ClientFrame):
    """Records newest answered first: the chat's (owner or admin) with ``chat_id``,
    else the operator's own; ``offset`` / ``limit`` page."""

    type: Literal["ra.list"]
    chat_id: EntityId | None = None
    offset: int = Field(default=0, ge=0, le=100_000)
    limit: int = Field(default=20, ge=1, le=100)


class RaHistory(ClientFrame):
    """The audit trail of a record (its author or an admin)."""

    type: Literal["ra.history"]
    record_id: EntityId


class RaDatasets(ClientFrame):
    """The datasets; ``include_archived`` (admins only) adds archived ones."""

    type: Literal["ra.datasets"]
    include_archived: bool = False


class RaDataset(ClientFrame):
    """One dataset with all its fields (archived ones flagged)."""

    type: Literal["ra.dataset"]
    dataset_id: EntityId


class RaDatasetSave(ClientFrame):
    """Create or change a dataset (admins only): ``dataset`` is a
    :class:`refdesk.contracts.analytics.DatasetSave` object, checked by the handler."""

    type: Literal["ra.dataset.save"]
    dataset: dict[str, Any]


class ChatRate(ClientFrame):
    """The patron rates their ended chat: 1–5 and an optional comment."""

    type: Literal["chat.rate"]
    chat_id: EntityId
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=MAX_RATING_COMMENT_CHARS)


FRAMES: tuple[type[ClientFrame], ...] = (
    RaForm, RaSave, RaDelete, RaList, RaHistory, RaDatasets, RaDataset, RaDatasetSave, ChatRate,
)
"""This area's client frame models, gathered by :mod:`gateway.frames`."""
