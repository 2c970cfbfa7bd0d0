"""Readable sentences for validation problems and unavailable services.

Both the websocket frames and the HTTP API validate input with pydantic; this module
turns pydantic's error lists into one sentence a patron or librarian can read, e.g.
``body must be at most 4000 characters; cmid is required.``
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")

_SERVICE_NAMES = {
    "rd.queue.": "chat",
    "rd.chat.": "chat",
    "rd.analytics.": "Reference Analytics",
    "rd.tickets.": "tickets",
}


def unavailable_message(subject: str) -> str:
    """The sentence shown when the service behind ``subject`` does not answer, e.g.
    ``The chat service is not answering; please try again.``"""
    name = next((label for prefix, label in _SERVICE_NAMES.items() if subject.startswith(prefix)), "chat")
    return f"The {name} service is not answering; please try again."


def is_valid_unicode(text: str) -> bool:
    """False when ``text`` holds a lone surrogate (``"\\ud800"`` from a JSON escape),
    which cannot be encoded as UTF-8 — so cannot be stored, sent on or echoed."""
    return _SURROGATE.search(text) is None


def printable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so it can always be
    encoded (error sentences may quote what a client sent)."""
    return _SURROGATE.sub("\ufffd", text)


def _phrase(error: Mapping[str, Any]) -> str:
    """What is wrong with one field, as a verb phrase (``must not be empty``)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "string_too_short":
        size = ctx.get("min_length", 1)
        return "must not be empty" if size == 1 else f"must be at least {size} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "string_pattern_mismatch":
        return "contains characters that are not allowed"
    if kind == "string_type":
        return "must be text"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "string_unicode":
        return "contains characters that are not allowed"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be an object"
    if kind == "list_type":
        return "must be a list"
    if kind == "json_invalid":
        return "is not valid JSON"
    message = str(error.get("msg", "is not valid"))
    if kind == "value_error" and "email address" in message:
        return "is not a valid email address"
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A pydantic error list as JSON-ready ``[{"loc", "type", "msg"}]`` — without the
    submitted ``input`` (never echoed back: it may be large, private, or not even
    encodable) and with every string :func:`printable`."""
    return [
        {
            "loc": [part if isinstance(part, int) else printable(str(part)) for part in error.get("loc", ())],
            "type": printable(str(error.get("type", ""))),
            "msg": printable(str(error.get("msg", ""))),
        }
        for error in errors
    ]


def describe(
    errors: Iterable[Mapping[str, Any]], *, skip: int = 0, labels: Mapping[str, str] | None = None,
) -> str:
    """One sentence for a pydantic error list.

    Args:
        errors: ``ValidationError.errors()`` (or FastAPI's ``RequestValidationError.errors()``).
        skip: how many leading ``loc`` parts to leave out (``1`` drops FastAPI's
            ``"body"`` or a frame's ``type`` tag).
        labels: friendlier names for fields (``{"name": "Your name"}``); other fields
            are named by their key.

    Returns:
        ``"Your name must not be blank; email is not a valid email address."`` — problems
        in the order pydantic reported them, ending with a full stop; always
        encodable (:func:`printable`), even when a field key the client made up is
        named in it.
    """
    labels = labels or {}
    parts: list[str] = []
    for error in errors:
        where = ".".join(str(part) for part in tuple(error.get("loc", ()))[skip:])
        phrase = _phrase(error)
        if not where:
            part = phrase[:1].upper() + phrase[1:]
        elif where in labels:
            part = f"{labels[where]} {phrase}"
        else:
            part = f"{where} {phrase}"  # a field key keeps its spelling, even first
        if part not in parts:
            parts.append(part)
    sentence = printable("; ".join(parts)) or "The request is not valid"
    return sentence + ("" if sentence.endswith(".") else ".")
