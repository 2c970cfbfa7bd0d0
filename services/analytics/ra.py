"""Pure logic of Reference Analytics: checking a record's values against its dataset
(every field kind, the READ scale), its ``answered_at``, an admin's dataset edit, who
may change a record, and the audit diff. No I/O.

Follows LibAnswers' Reference Analytics (``docs/analytics.md``, "Reference Analytics
records"): admin-defined list fields with required flags, a timestamp that defaults to
now and may be backdated, several records per chat, edits by the author or an admin.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from refdesk.bus import Forbidden, Invalid
from refdesk.contracts.analytics import (
    MAX_FUTURE_SKEW_SECONDS, READ_SCALE, Dataset, DatasetField, DatasetSave, FieldInput, RaRecord, RaValue,
    is_safe_key, name_keys,
)
from refdesk.text import clean_text

from .config import MAX_TEXT_CHARS

MAX_NUMBER = 1_000_000
"""The largest value a number field takes unless it says otherwise (a duration of
about two years in minutes)."""

READ_LEVELS = frozenset(level.level for level in READ_SCALE)

EARLIEST_ANSWERED_AT = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""The earliest time a record may be backdated to (catches a mistyped year)."""

# --------------------------------------------------------------------------------------
# values


def _cleaned(value: RaValue) -> RaValue:
    """``value`` with its text cleaned (:func:`refdesk.text.clean_text`: line endings
    as ``\\n``, control characters and bidi overrides removed, trimmed); None when it
    is blank (null, only white space or invisible characters, an empty list). Texts
    in a list are cleaned and blank ones dropped."""
    if isinstance(value, str):
        try:
            return clean_text(value)
        except ValueError:
            return None
    if isinstance(value, list):
        items = [item for item in (_cleaned(item) for item in value) if item is not None]
        return items or None
    return value


def _option(field: DatasetField, value: object) -> str | None:
    """The option ``value`` names (case-insensitive), or None."""
    if not isinstance(value, str):
        return None
    wanted = value.casefold()
    return next((option for option in field.options if option.casefold() == wanted), None)


def _number(value: RaValue, low: float, high: float) -> int | float | None:
    """``value`` as a number from ``low`` to ``high`` (``12``, ``7.5``, ``"7.5"``), or
    None — also for integers far too big for a float. Integral values come back as
    ``int``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):  # compared as an int: no float conversion to overflow
        return value if low <= value <= high else None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, float) or not math.isfinite(value) or not low <= value <= high:
        return None
    return int(value) if value.is_integer() else value


def number_range(field: DatasetField) -> tuple[float, float]:
    """``(low, high)`` of a number field: ``min_value`` (default 0) to ``max_value``
    (default :data:`MAX_NUMBER`)."""
    low = 0 if field.min_value is None else field.min_value
    high = MAX_NUMBER if field.max_value is None else field.max_value
    return low, high


def _plain(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,}"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_when(value: str) -> str | None:
    """A ``datetime`` field's value in stored form, or None if it is not ISO-8601:
    a date (``2026-12-02``) stays as it is; a date and time with a UTC offset
    (``2026-12-02T09:30-05:00``, ``…Z``) becomes UTC ``2026-12-02T14:30:00Z``; a date
    and time without an offset is refused (it would be ambiguous)."""
    text = value.strip()
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None or "T" not in text.upper():
        return None
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _field_value(field: DatasetField, value: RaValue) -> tuple[RaValue, str | None]:
    """(the stored value, None) for an acceptable non-blank ``value`` of ``field``, or
    (None, the problem as a sentence)."""
    kind = field.kind
    if kind == "single_choice":
        option = _option(field, value)
        if option is None:
            return None, f"{field.label} must be one of: {', '.join(field.options)}."
        return option, None
    if kind == "multiple_choice":
        items = [value] if isinstance(value, str) else value
        chosen = [_option(field, item) for item in items] if isinstance(items, list) else [None]
        if None in chosen:
            return None, f"{field.label} must be chosen from: {', '.join(field.options)}."
        return [option for option in field.options if option in chosen], None
    if kind == "number":
        low, high = number_range(field)
        number = _number(value, low, high)
        if number is None:
            what = f"a number of {field.unit}" if field.unit else "a number"
            return None, f"{field.label} must be {what} from {_plain(low)} to {_plain(high)}."
        return number, None
    if kind == "read_scale":
        level = _number(value, 1, 6)
        if not isinstance(level, int) or level not in READ_LEVELS:
            return None, f"{field.label} must be a READ scale level from 1 to 6."
        return level, None
    if kind == "datetime":
        stored = parse_when(value) if isinstance(value, str) else None
        if stored is None:
            return None, (f"{field.label} must be an ISO-8601 date (2026-12-02) or date and time "
                          "with a time zone (2026-12-02T14:30Z).")
        return stored, None
    if not isinstance(value, str):
        return None, f"{field.label} must be text."
    if len(value) > MAX_TEXT_CHARS:
        return None, f"{field.label} must be at most {MAX_TEXT_CHARS} characters."
    return value, None


def unknown_fields_problem(keys: Collection[str]) -> str:
    """The sentence for keys outside the dataset: ``"Unknown field: colour."``,
    ``"Unknown fields: colour and 2 others."``, ``"The form has 2 unknown fields."`` —
    keys that are long or hold odd characters are counted, never quoted
    (:func:`refdesk.contracts.analytics.name_keys`)."""
    if not any(is_safe_key(key) for key in keys):
        return f"The form has {len(keys)} unknown field{'s' if len(keys) != 1 else ''}."
    return f"Unknown field{'s' if len(keys) > 1 else ''}: {name_keys(keys)}."


def validate_values(fields: list[DatasetField], values: Mapping[str, RaValue]) -> dict[str, RaValue]:
    """Check Reference Analytics ``values`` against a dataset's ``fields`` and return
    them as stored (see :data:`refdesk.contracts.analytics.FieldKind`): text cleaned,
    choices spelled as the option, numbers as ``int`` or ``float``, READ levels as
    ``int``, dates in ISO-8601 UTC, blank optional fields left out.

    Rules: every required live field present and not blank; a single choice one of its
    options, a multiple choice a list of them (case and surrounding spaces ignored); a
    number within the field's range; a READ level 1–6; a date ISO-8601; text at most
    ``MAX_TEXT_CHARS`` characters once cleaned; no keys outside the dataset. An
    archived field is never required, but a value sent for it is checked and kept (an
    old record edited keeps it).

    Raises:
        Invalid: ``422`` with one message naming every problem, e.g.
            ``"Please fill in: Location, Mode. Duration must be a number of minutes from 0 to 1,000,000."``
    """
    missing: list[str] = []
    problems: list[str] = []
    cleaned: dict[str, RaValue] = {}
    for field in sorted(fields, key=lambda f: f.position):
        value = _cleaned(values.get(field.key))
        if value is None:
            if field.required and not field.archived:
                missing.append(field.label)
            continue
        stored, problem = _field_value(field, value)
        if problem is not None:
            problems.append(problem)
        else:
            cleaned[field.key] = stored
    known = {field.key for field in fields}
    unknown = [key for key in values if key not in known]
    if unknown:
        problems.append(unknown_fields_problem(unknown))
    if missing:
        problems.insert(0, f"Please fill in: {', '.join(missing)}.")
    if problems:
        raise Invalid(" ".join(problems))
    return cleaned


# --------------------------------------------------------------------------------------
# the record's time


def answered_time(answered_at: datetime | None, now: datetime) -> datetime:
    """When the question was answered, as an aware UTC datetime: ``now`` when not
    given; a backdated time as given.

    Raises:
        Invalid: a time without a time zone, one more than
            :data:`MAX_FUTURE_SKEW_SECONDS` after ``now``, or one before
            :data:`EARLIEST_ANSWERED_AT`.
    """
    if answered_at is None:
        return now
    if answered_at.tzinfo is None or answered_at.utcoffset() is None:
        raise Invalid("The time answered must include a time zone, e.g. 2026-12-02T14:30:00Z.")
    if answered_at > now + timedelta(seconds=MAX_FUTURE_SKEW_SECONDS):
        raise Invalid("The time answered cannot be in the future.")
    if answered_at < EARLIEST_ANSWERED_AT:
        raise Invalid("The time answered is before 2000; please check the year.")
    return answered_at.astimezone(timezone.utc)


# --------------------------------------------------------------------------------------
# who may change a record


def check_may_change(record: RaRecord, actor_id: str, actor_is_admin: bool) -> None:
    """The author (``operator_id``, or whoever entered it) or an admin may edit,
    delete or read the history of a record.

    Raises:
        Forbidden: anyone else.
    """
    if actor_is_admin or actor_id in (record.operator_id, record.created_by):
        return
    raise Forbidden("Only the librarian who recorded this question, or an admin, can change it.")


# --------------------------------------------------------------------------------------
# audit


def snapshot(record: RaRecord) -> dict[str, Any]:
    """The part of a record an audit entry keeps (JSON-ready): dataset, author, chat,
    department, ``answered_at`` (ISO-8601 UTC), values, deleted or not."""
    return {
        "dataset_id": record.dataset_id,
        "operator_id": record.operator_id,
        "chat_id": record.chat_id,
        "department_id": record.department_id,
        "answered_at": record.answered_at.astimezone(timezone.utc).isoformat() if record.answered_at else None,
        "values": dict(record.values),
        "deleted": record.deleted_at is not None,
    }


def changed_keys(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """What an audit entry changed, sorted: every value key whose value differs (added
    or removed included), plus ``answered_at`` / ``deleted`` / ``operator_id`` when
    those differ. A create lists the keys it set; a delete lists ``deleted``."""
    old = before or {}
    new = after or {}
    old_values, new_values = old.get("values") or {}, new.get("values") or {}
    keys = {key for key in old_values.keys() | new_values.keys() if old_values.get(key) != new_values.get(key)}
    for top in ("answered_at", "deleted", "operator_id"):
        if before is not None and old.get(top) != new.get(top):
            keys.add(top)
    return sorted(keys)


# --------------------------------------------------------------------------------------
# datasets


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:32].strip("-")
    return slug or "dataset"


def new_dataset_id(name: str, taken: Collection[str]) -> str:
    """An id for a new dataset made from its name (``"Desk stats"`` → ``desk-stats``),
    with ``-2``, ``-3`` … when taken."""
    base = _slug(name)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _field(given: FieldInput, position: int) -> DatasetField:
    return DatasetField(
        key=given.key, label=given.label, kind=given.kind, required=given.required,
        options=list(given.options) if given.kind in ("single_choice", "multiple_choice") else [],
        default=given.default, unit=given.unit if given.kind == "number" else None,
        min_value=given.min_value if given.kind == "number" else 0,
        max_value=given.max_value if given.kind == "number" else None,
        position=position, archived=given.archived,
    )


def _field_problems(field: DatasetField) -> list[str]:
    problems = []
    if field.kind in ("single_choice", "multiple_choice"):
        if not field.options:
            problems.append(f"{field.label} needs at least one option.")
        if len({option.casefold() for option in field.options}) != len(field.options):
            problems.append(f"{field.label} lists an option twice.")
    if field.kind == "number":
        low, high = number_range(field)
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            problems.append(f"{field.label}: the lowest number must not be above the highest.")
    if field.default is not None and not problems:
        value = _cleaned(field.default)
        if value is not None and _field_value(field, value)[1] is not None:
            problems.append(f"{field.label}: the default is not a value this field accepts.")
    return problems


def merge_dataset(save: DatasetSave, dataset_id: str, stored: Dataset | None) -> Dataset:
    """The dataset an admin's save makes: ``save.fields`` in the given order
    (positions 0, 1, 2 …), then every stored field the save left out, archived — a
    key is never lost, so old records stay readable. Choice options are trimmed;
    defaults are cleaned.

    Raises:
        Invalid: ``422`` naming every problem: duplicate keys, a key whose kind
            differs from the stored one, a choice field without (or with duplicate)
            options, a number range upside down, a default the field would refuse.
    """
    problems: list[str] = []
    keys = [field.key for field in save.fields]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        problems.append(f"Each field needs its own key (used twice: {', '.join(twice)}).")
    old = {field.key: field for field in stored.fields} if stored else {}
    fields = [_field(given, position) for position, given in enumerate(save.fields)]
    for field in fields:
        before = old.get(field.key)
        if before is not None and before.kind != field.kind:
            problems.append(f"{field.label} was a {before.kind.replace('_', ' ')} field; a field keeps its kind "
                            "(add a new field instead).")
        problems.extend(_field_problems(field))
    if problems:
        raise Invalid(" ".join(problems))
    seen = set(keys)
    kept = [field for field in (stored.fields if stored else []) if field.key not in seen]
    for offset, field in enumerate(sorted(kept, key=lambda f: f.position)):
        fields.append(field.model_copy(update={"archived": True, "position": len(save.fields) + offset}))
    return Dataset(id=dataset_id, name=save.name, description=save.description, archived=save.archived,
                   fields=fields)
