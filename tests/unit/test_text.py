"""Cleaning typed text (refdesk.text) and the patron form's use of it."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from refdesk.contracts.queue import CreateChatRequest
from refdesk.text import clean_text, is_blank

UNWANTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_keeps_line_breaks_and_tabs_in_multiline_text() -> None:
    assert clean_text("  Line one\r\nline\ttwo\r ") == "Line one\nline\ttwo"


def test_one_line_fields_fold_white_space() -> None:
    assert clean_text(" Dana \n\t Reader ", multiline=False) == "Dana Reader"


def test_removes_nul_controls_and_bidi_overrides() -> None:
    assert clean_text("Ma\x00ya\u202e gnp.exe\x07") == "Maya gnp.exe"


@pytest.mark.parametrize("text", ["", "   ", "\x01\x02", "\u200b\ufeff", " \u200b \n", "\u202e"])
def test_invisible_text_is_blank(text: str) -> None:
    assert is_blank(text.replace("\x01", "").replace("\x02", "").replace("\u202e", ""))
    with pytest.raises(ValueError, match="blank"):
        clean_text(text)


def test_zero_width_joiners_inside_text_are_kept() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(f"Emoji {family}") == f"Emoji {family}"


@given(st.text())
def test_cleaning_is_idempotent_and_leaves_nothing_unwanted(text: str) -> None:
    try:
        cleaned = clean_text(text)
    except ValueError:
        return
    assert not UNWANTED.search(cleaned)
    assert cleaned == cleaned.strip() and not is_blank(cleaned)
    assert clean_text(cleaned) == cleaned


@pytest.mark.parametrize(("field", "value"), [("patron_name", "\u200b"), ("question", "\x01\x02"), ("question", "\u202e ")])
def test_patron_form_refuses_invisible_name_or_question(field: str, value: str) -> None:
    form = {"department_id": "reference", "patron_name": "Dana", "question": "Hours?", field: value}
    with pytest.raises(ValidationError, match="blank"):
        CreateChatRequest(**form)


def test_patron_form_cleans_what_it_keeps() -> None:
    form = CreateChatRequest(department_id="reference", patron_name=" Dana\x00 ", question="Hours?\u202e",
                             page_url="  ")
    assert (form.patron_name, form.question, form.page_url) == ("Dana", "Hours?", None)
