"""Cleaning stored text: exactly what the input check refuses goes, everything readable stays."""

from __future__ import annotations

import pytest

from trainops_shared.errors import Invalid
from trainops_shared.text_repair import REPLACEMENT, TextColumn, _clean, clean_text
from trainops_shared.validation import check_text

pytestmark = pytest.mark.unit

SAMPLES = [
    "Aida\x00 Ermekova",
    "Берік\u202e Омаров",
    "\x1b[31mred\x1b[0m",
    "tab\there\nand line",
    "\u2066isolated\u2069",
    "Сейтова Айгерім — «ЖШС»",
    "\x7f\x9fC1",
]


@pytest.mark.parametrize("value", SAMPLES)
def test_the_cleaned_text_passes_the_input_check(value: str) -> None:
    check_text(clean_text(value), "name")
    check_text(clean_text(value, multiline=True), "reason", multiline=True)


def test_readable_text_is_kept_and_only_refused_characters_go() -> None:
    assert clean_text("Сейтова Айгерім — «ЖШС»") == "Сейтова Айгерім — «ЖШС»"
    assert clean_text("Aida\x00 Ermekova") == "Aida Ermekova"
    assert clean_text("a\tb\nc") == "a b c"
    assert clean_text("a\tb\nc", multiline=True) == "a\tb\nc"
    assert clean_text("  Dana \t Abenova ", collapse=True) == "Dana Abenova"
    with pytest.raises(Invalid):  # the samples do hold what the check refuses
        check_text("Берік\u202e Омаров", "name")


def test_nothing_readable_left_is_marked_or_null() -> None:
    assert _clean("\x00\u202e", TextColumn("full_name")) == REPLACEMENT
    assert _clean("\x00\u202e", TextColumn("organisation", nullable=True)) is None
    assert _clean({"kk": "\x00", "ru": "Ok"}, TextColumn("title", json_texts=True)) == {
        "kk": REPLACEMENT,
        "ru": "Ok",
    }
    assert _clean(None, TextColumn("venue", nullable=True)) is None
