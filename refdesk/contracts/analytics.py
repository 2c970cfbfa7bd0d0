"""Contracts of the analytics service: Reference Analytics datasets and records.

Request/reply subjects (``nats.micro`` service ``analytics``):

==========================  ===================  =====================================
subject                     request              reply
==========================  ===================  =====================================
rd.analytics.dataset.get    DatasetRequest       Dataset (``dataset_id`` None: default)
rd.analytics.record.create  RecordCreate         RaRecord (422 lists missing fields)
rd.analytics.record.        ChatRecordRequest    RaRecord: the chat's record (404 when
for_chat                                         it has none yet)
==========================  ===================  =====================================

The analytics service also consumes ``QUEUE_EVENTS`` and ``CHAT_EVENTS`` durably to
derive chat facts (wait time, duration) served by its HTTP reporting API.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from .common import Reply, Request

SERVICE = "analytics"

DATASET_GET = "rd.analytics.dataset.get"
RECORD_CREATE = "rd.analytics.record.create"
RECORD_FOR_CHAT = "rd.analytics.record.for_chat"

DEFAULT_DATASET_ID = "default"
"""The dataset a request that names none is about."""

MAX_VALUES = 100
"""Most entries in a record's ``values``."""

RaValue = str | int | float | list[str] | None
"""A Reference Analytics field value as sent and stored: text, a number, a list of
texts, or null — never a nested object. Which of them a field accepts is the
dataset's business (:class:`DatasetField`)."""

_SAFE_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")


def is_safe_key(key: str) -> bool:
    """True when a field key a client sent may be quoted back in a message: 1–40
    letters, digits, ``_`` or ``-`` (anything else — long, odd or invisible text —
    is counted, never echoed)."""
    return _SAFE_KEY.fullmatch(key) is not None


def name_keys(keys: Collection[str], *, most: int = 5) -> str:
    """Client-sent field keys as words for a message: the safe ones
    (:func:`is_safe_key`), sorted, at most ``most`` of them, then how many others —
    ``"alpha, zeta"``, ``"alpha and 2 others"``, ``"3 fields"``."""
    named = sorted(key for key in keys if is_safe_key(key))[:most]
    others = len(keys) - len(named)
    if not named:
        return f"{others} field{'s' if others != 1 else ''}"
    words = ", ".join(named)
    return f"{words} and {others} other{'s' if others != 1 else ''}" if others else words


def _check_values(values: object) -> object:
    """The shape of ``values`` (what the dataset accepts is checked later, by the
    analytics service): an object of at most :data:`MAX_VALUES` entries whose values
    are each a :data:`RaValue` (a number finite, a list of texts only).

    Raises:
        ValueError: a sentence naming the offending fields only when their keys are
            safe to quote (:func:`name_keys`).
    """
    if not isinstance(values, dict):
        return values  # the dict type itself answers "must be an object"
    if len(values) > MAX_VALUES:
        raise ValueError(f"must have at most {MAX_VALUES} fields")
    bad = [key for key, value in values.items() if not _is_ra_value(value)]
    if bad:
        raise ValueError(f"must give each field text, a finite number, a list of texts or null "
                         f"(check: {name_keys(bad)})")
    return values


def _is_ra_value(value: object) -> bool:
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


RaValues = Annotated[dict[str, RaValue], BeforeValidator(_check_values)]
"""Field key → :data:`RaValue`, at most :data:`MAX_VALUES` entries, checked with a
readable sentence (used by :class:`RecordCreate` and the gateway's ``ra.save``)."""

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
        values: field key → :data:`RaValue`; choice values must be one of the
            options, numbers from 0 to 1,000,000, text at most 4000 characters once
            cleaned (:func:`refdesk.text.clean_text`); required fields must be
            present and not blank. A record is one chat's (``chat_id``) or, without
            one, entered by hand.
    """

    dataset_id: str
    operator_id: str
    chat_id: str | None = None
    department_id: str | None = None
    values: RaValues = Field(default_factory=dict)


class ChatRecordRequest(Request):
    """The Reference Analytics record of one chat (``rd.analytics.record.for_chat``)
    in a dataset (``None``: the default one). Answers ``404`` when it has none yet."""

    chat_id: str = Field(min_length=1, max_length=64)
    dataset_id: str | None = None


class RaRecord(Reply):
    """A stored Reference Analytics record; ``values`` are cleaned (choices spelled
    as the option, numbers as int/float); ``created_at`` is UTC."""

    id: str
    dataset_id: str
    operator_id: str
    chat_id: str | None = None
    department_id: str | None = None
    values: dict[str, RaValue]
    created_at: datetime
