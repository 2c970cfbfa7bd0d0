"""Contracts of the analytics service: Reference Analytics datasets and records.

Request/reply subjects (``nats.micro`` service ``analytics``):

==========================  ===================  =====================================
subject                     request              reply
==========================  ===================  =====================================
rd.analytics.dataset.get    DatasetRequest       Dataset (``dataset_id`` None: default)
rd.analytics.record.create  RecordCreate         RaRecord (422 lists missing fields)
==========================  ===================  =====================================

The analytics service also consumes ``QUEUE_EVENTS`` and ``CHAT_EVENTS`` durably to
derive chat facts (wait time, duration) served by its HTTP reporting API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from .common import Reply, Request

SERVICE = "analytics"

DATASET_GET = "rd.analytics.dataset.get"
RECORD_CREATE = "rd.analytics.record.create"

FieldKind = Literal["choice", "text", "number"]


class DatasetField(Reply):
    """One field of a Reference Analytics form.

    Attributes:
        key: machine name (``location``, ``mode``, ``duration``, ``referred_by`` …).
        kind: ``choice`` (one of ``options``), ``text`` or ``number``.
        unit: for numbers, e.g. ``minutes``.
    """

    key: str
    label: str
    kind: FieldKind
    required: bool = False
    options: list[str] = []
    unit: str | None = None
    position: int = 0


class Dataset(Reply):
    """A Reference Analytics dataset: the form an operator fills in, fields in
    ``position`` order."""

    id: str
    name: str
    fields: list[DatasetField]


class DatasetRequest(Request):
    """Which dataset to fetch; ``None`` means the default one (id ``default``). 404
    if unknown."""

    dataset_id: str | None = None


class RecordCreate(Request):
    """A Reference Analytics record from the end-of-chat form (or by hand).

    Attributes:
        values: field key → value; choice values must be one of the options,
            numbers must be ≥ 0; required fields must be present and non-empty.
    """

    dataset_id: str
    operator_id: str
    chat_id: str | None = None
    department_id: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)


class RaRecord(Reply):
    """A stored Reference Analytics record; ``values`` are cleaned (choices spelled
    as the option, numbers as int/float); ``created_at`` is UTC."""

    id: str
    dataset_id: str
    operator_id: str
    chat_id: str | None = None
    department_id: str | None = None
    values: dict[str, Any]
    created_at: datetime
