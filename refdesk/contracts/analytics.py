"""Contracts of the analytics service: Reference Analytics datasets and records.

Request/reply subjects (``nats.micro`` service ``analytics``):

==========================  ===================  =====================================
subject                     request              reply
==========================  ===================  =====================================
rd.analytics.dataset.get    DatasetRequest       Dataset (``dataset_id`` None: default)
rd.analytics.dataset.list   DatasetListRequest   DatasetList
rd.analytics.dataset.save   DatasetSave          Dataset (422 names the problem)
rd.analytics.record.create  RecordCreate         RaRecord (422 lists missing fields)
rd.analytics.record.update  RecordUpdate         RaRecord (403 not author/admin, 404)
rd.analytics.record.delete  RecordRef            RaRecord, ``deleted_at`` set (403, 404)
rd.analytics.record.list    RecordListRequest    RecordPage (newest answered first)
rd.analytics.record.history RecordRef            AuditTrail (403, 404)
rd.analytics.record.        ChatRecordRequest    RaRecord: the chat's newest record
for_chat                                         (404 when it has none yet)
==========================  ===================  =====================================

Every create, update and delete of a record writes an audit entry (who, when, action,
the record before and after) in the same transaction.

The analytics service also consumes ``QUEUE_EVENTS`` and ``CHAT_EVENTS`` durably to
derive chat facts (wait time, duration) served by its HTTP reporting API.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, StringConstraints

from .common import Reply, Request

SERVICE = "analytics"

DATASET_GET = "rd.analytics.dataset.get"
RECORD_CREATE = "rd.analytics.record.create"
RECORD_FOR_CHAT = "rd.analytics.record.for_chat"
DATASET_LIST = "rd.analytics.dataset.list"
DATASET_SAVE = "rd.analytics.dataset.save"
RECORD_UPDATE = "rd.analytics.record.update"
RECORD_DELETE = "rd.analytics.record.delete"
RECORD_LIST = "rd.analytics.record.list"
RECORD_HISTORY = "rd.analytics.record.history"

MAX_FUTURE_SKEW_SECONDS = 300
"""How far ahead of the service's clock a record's ``answered_at`` may be (clock skew
between a browser and the server), in seconds."""

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

FieldKind = Literal["single_choice", "multiple_choice", "text", "number", "datetime", "read_scale"]
"""What a Reference Analytics field holds, and how its value is stored in a record's
``values`` (JSON):

* ``single_choice`` — one of ``options``, stored as the option's text;
* ``multiple_choice`` — some of ``options``, stored as a list of option texts in the
  field's option order (a single text is taken as a one-item list);
* ``text`` — cleaned text (:func:`refdesk.text.clean_text`), at most 4000 characters;
* ``number`` — an int or float from ``min_value`` to ``max_value``;
* ``datetime`` — an ISO-8601 date (``2026-12-02``, stored as given) or date and time
  with a UTC offset (stored in UTC as ``2026-12-02T14:30:00Z``);
* ``read_scale`` — a READ scale level, an int from 1 to 6 (:data:`READ_SCALE`).
"""

FIELD_KINDS: tuple[str, ...] = get_args(FieldKind)

MAX_FIELDS = 60
"""Most fields of one dataset (archived ones included)."""
MAX_OPTIONS = 100
"""Most options of one choice field."""


class ReadLevel(Reply):
    """One level of the READ scale (Reference Effort Assessment Data, Bella Karr
    Gerlich): ``level`` 1–6, a short ``title`` and a one-line ``description``."""

    level: int
    title: str
    description: str


READ_SCALE: tuple[ReadLevel, ...] = (
    ReadLevel(level=1, title="Quick answer",
              description="No special knowledge or sources needed; a minute or two (directions, hours, printing)."),
    ReadLevel(level=2, title="Some knowledge",
              description="A little know-how or a glance at one source (call numbers, finding an item, policies)."),
    ReadLevel(level=3, title="Reference skill",
              description="Some time with a reference source or database, maybe brief instruction in searching."),
    ReadLevel(level=4, title="Several sources",
              description="Several sources consulted or taught; the answer takes work to find, a colleague may help."),
    ReadLevel(level=5, title="Research help",
              description="Substantial work together: shaping a topic, false leads, beyond the local collection."),
    ReadLevel(level=6, title="In-depth consultation",
              description="The most effort: extended research, often over several sessions or by appointment."),
)
"""The six READ scale levels, in our own short words. When a question sits between two
levels, the higher one is recorded."""

_KEY = r"^[a-z][a-z0-9_]{0,39}$"


class DatasetField(Reply):
    """One field of a Reference Analytics form.

    Attributes:
        key: machine name, stable for the life of the dataset (``location``, ``mode``,
            ``duration``, ``referred_by`` …): records store values under it.
        kind: :data:`FieldKind`.
        required: a record must give it a non-blank value.
        options: the choices of ``single_choice`` / ``multiple_choice`` fields.
        default: the value a new form starts with (valid for the kind), or None.
        unit: for numbers, e.g. ``minutes``.
        min_value / max_value: the range of a ``number`` field (inclusive).
        position: order in the form (ascending).
        archived: no longer offered on the form; old records keep their values and
            the label still names them.
    """

    key: str
    label: str
    kind: FieldKind
    required: bool = False
    options: list[str] = []
    default: RaValue = None
    unit: str | None = None
    min_value: float | None = 0
    max_value: float | None = None
    position: int = 0
    archived: bool = False


class Dataset(Reply):
    """A Reference Analytics dataset: the form an operator fills in, fields in
    ``position`` order (archived ones included, flagged)."""

    id: str
    name: str
    description: str = ""
    archived: bool = False
    fields: list[DatasetField]


class DatasetSummary(Reply):
    """A dataset as listed: id, name, how many live (not archived) fields."""

    id: str
    name: str
    description: str = ""
    archived: bool = False
    field_count: int


class DatasetList(Reply):
    """Datasets, the default one first, then by name."""

    datasets: list[DatasetSummary]


class DatasetRequest(Request):
    """Which dataset to fetch; ``None`` means the default one (id ``default``). 404
    if unknown."""

    dataset_id: str | None = None


class DatasetListRequest(Request):
    """``rd.analytics.dataset.list``: ``include_archived`` adds archived datasets."""

    include_archived: bool = False


Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class FieldInput(Request):
    """A field as an admin sends it (``rd.analytics.dataset.save``); see
    :class:`DatasetField`. ``key`` is 1–40 lower-case letters, digits or ``_``,
    starting with a letter."""

    key: str = Field(pattern=_KEY)
    label: Label
    kind: FieldKind
    required: bool = False
    options: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]] = Field(
        default_factory=list, max_length=MAX_OPTIONS)
    default: RaValue = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    min_value: float | None = 0
    max_value: float | None = None
    archived: bool = False


class DatasetSave(Request):
    """Create or change a dataset (admins only; the gateway checks).

    ``id`` None creates a new dataset (its id made from the name). ``fields`` in form
    order (positions are assigned 0, 1, 2 …). A field of the stored dataset that is
    left out is archived, never deleted; a key keeps its kind for ever (422 when
    changed) so that old records stay readable. 422 for duplicate keys, a choice field
    without options, duplicate options, a default that the field itself would refuse,
    ``min_value`` above ``max_value``, or more than :data:`MAX_FIELDS` fields.
    """

    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    name: Label
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    archived: bool = False
    fields: list[FieldInput] = Field(max_length=MAX_FIELDS)


class Actor(Request):
    """Who asks for a change to a record, as the gateway vouches: the operator's id
    and whether they are an admin (an admin may change anyone's record)."""

    actor_id: str = Field(min_length=1, max_length=64)
    actor_is_admin: bool = False
    actor_name: str | None = Field(default=None, max_length=100)


class RecordCreate(Request):
    """A Reference Analytics record from the end-of-chat form (or by hand).

    Attributes:
        operator_id: who answered the question (the record's author).
        actor_id: who entered it (an admin may enter a chat's record for its owner);
            None means ``operator_id``. Written to the audit trail, with
            ``actor_name`` (their nickname, for people reading the trail).
        chat_id: the chat the question came by; None for a hand entry (desk, phone,
            email). A chat may have any number of records (one per question).
        answered_at: when the question was answered (aware, UTC on the wire); None
            means now. May be backdated; at most :data:`MAX_FUTURE_SKEW_SECONDS`
            ahead of the service's clock (422).
        values: field key → :data:`RaValue`, checked against the dataset (see
            :data:`FieldKind`); required fields must be present and not blank.
    """

    dataset_id: str
    operator_id: str
    actor_id: str | None = None
    actor_name: str | None = Field(default=None, max_length=100)
    chat_id: str | None = None
    department_id: str | None = None
    answered_at: datetime | None = None
    values: RaValues = Field(default_factory=dict)


class RecordUpdate(Actor):
    """Change a record's ``values`` (all of them, checked as for a new record) and,
    when given, its ``answered_at``. Only the author or an admin (403); 404 for an
    unknown or deleted record."""

    record_id: str = Field(min_length=1, max_length=64)
    answered_at: datetime | None = None
    values: RaValues = Field(default_factory=dict)


class RecordRef(Actor):
    """One record, asked for by ``actor_id``: ``rd.analytics.record.delete`` (author or
    admin, 403 otherwise; a deleted record is kept, flagged, and leaves every list and
    report) and ``rd.analytics.record.history`` (the author or an admin)."""

    record_id: str = Field(min_length=1, max_length=64)


class RecordListRequest(Request):
    """``rd.analytics.record.list``: live records, newest ``answered_at`` first,
    filtered by any of ``operator_id`` (the author), ``chat_id``, ``dataset_id``;
    ``offset`` / ``limit`` page through them."""

    operator_id: str | None = None
    chat_id: str | None = None
    dataset_id: str | None = None
    offset: int = Field(default=0, ge=0, le=100_000)
    limit: int = Field(default=20, ge=1, le=100)


class ChatRecordRequest(Request):
    """The newest Reference Analytics record of one chat (``rd.analytics.record.for_chat``)
    in a dataset (``None``: the default one). Answers ``404`` when it has none yet."""

    chat_id: str = Field(min_length=1, max_length=64)
    dataset_id: str | None = None


class RaRecord(Reply):
    """A stored Reference Analytics record; ``values`` are cleaned (see
    :data:`FieldKind`). Times are UTC: ``answered_at`` when the question was answered
    (backdated or now), ``created_at`` / ``updated_at`` when it was entered / last
    changed; ``deleted_at`` set once deleted."""

    id: str
    dataset_id: str
    operator_id: str
    chat_id: str | None = None
    department_id: str | None = None
    values: dict[str, RaValue]
    answered_at: datetime | None = None
    created_at: datetime
    created_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    deleted_at: datetime | None = None


class RecordPage(Reply):
    """A page of records; ``more`` is true when later pages exist."""

    records: list[RaRecord]
    offset: int
    more: bool


AuditAction = Literal["create", "update", "delete"]


class AuditEntry(Reply):
    """One change of a record: who (``actor_id``, ``actor_name`` their nickname then),
    when (``at``, UTC), what (``action``), the record before and after (``None``
    before a create), and ``changed``: the keys whose value differs (``answered_at``
    included)."""

    id: int
    record_id: str
    action: AuditAction
    actor_id: str
    actor_name: str | None = None
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed: list[str] = []


class AuditTrail(Reply):
    """A record's changes, oldest first."""

    record_id: str
    entries: list[AuditEntry]
