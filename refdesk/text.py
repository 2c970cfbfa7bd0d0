"""Cleaning of text that people type (names, questions, messages) before it is stored.

PostgreSQL ``text`` refuses NUL; other control characters and bidirectional override
characters (which can make a name display backwards, a spoofing trick) have no place in
a chat either. Zero-width characters are kept inside text (they matter in some scripts)
but text made only of them and white space counts as blank.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls other than tab and newline, DEL, and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str, *, multiline: bool = True) -> str:
    """Return ``value`` as it is stored: line endings as ``\\n`` (or, for one-line
    fields, every run of white space as one space), control and bidirectional override
    characters removed, surrounding white space trimmed.

    Raises:
        ValueError: nothing visible is left (only white space and zero-width
            characters).
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = _BIDI.sub("", _CONTROL.sub("", text))
    if not multiline:
        text = " ".join(text.split())
    text = text.strip()
    if is_blank(text):
        raise ValueError("must not be blank")
    return text


def is_blank(text: str) -> bool:
    """True when ``text`` has no character other than white space and invisible
    format characters (Unicode category Cf, e.g. U+200B ZERO WIDTH SPACE)."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)
