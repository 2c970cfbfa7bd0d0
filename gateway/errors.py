"""Readable sentences for validation problems and unavailable services.

Both the websocket frames and the HTTP API validate input with pydantic; this module
turns pydantic's error lists into one sentence a patron or librarian can read, e.g.
``body must be at most 4000 characters; cmid is required.``
"""

from __future__ import annotations

import collections

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


_PHRASES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_too_long": "must be at most {max_length} characters",
    "too_long": "must have at most {max_length} items",
    "string_pattern_mismatch": "contains characters that are not allowed",
    "string_unicode": "contains characters that are not allowed",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "literal_error": "must be one of {expected}",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "json_invalid": "is not valid JSON",
}
"""Verb phrases for pydantic error types; ``{…}`` names come from the error's ``ctx``."""


def _phrase(error: Mapping[str, Any]) -> str:
    """What is wrong with one field, as a verb phrase (``must not be empty``)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "string_too_short":
        size = ctx.get("min_length", 1)
        return "must not be empty" if size == 1 else f"must be at least {size} characters"
    if kind in _PHRASES:
        return _PHRASES[kind].format_map(collections.defaultdict(str, ctx))
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
