"""Texts in kk/ru/en are complete and the language fallback works."""

from __future__ import annotations

import msgspec
import pytest

from trainops_feedback.api.texts import LANGUAGE_NAMES, TEXTS, texts_for
from trainops_feedback.domain.language import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Language,
    normalise_language,
    resolve_language,
)
from trainops_feedback.domain.survey import POST_TRAINING_V1

pytestmark = pytest.mark.unit

ERROR_CODES = {"required", "not_integer", "out_of_range", "unknown_item", "too_long", "invalid"}


def test_three_languages_ru_default() -> None:
    assert LANGUAGES == ("kk", "ru", "en")
    assert DEFAULT_LANGUAGE == "ru"
    assert set(TEXTS) == set(LANGUAGES) == set(LANGUAGE_NAMES)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_every_text_present_and_non_empty(lang: Language) -> None:
    texts = TEXTS[lang]
    for name, value in msgspec.structs.asdict(texts).items():
        if isinstance(value, str):
            assert value.strip(), f"{lang}.{name} is empty"
    assert set(texts.items) == set(POST_TRAINING_V1.item_keys)
    assert all(q.strip().endswith("?") for q in texts.items.values())
    assert len(texts.scale) == 5 and len(set(texts.scale)) == 5
    assert set(texts.errors) == ERROR_CODES


def test_languages_really_differ() -> None:
    kk, ru, en = TEXTS["kk"], TEXTS["ru"], TEXTS["en"]
    for name in ("page_title", "submit", "thanks_title", "already_title", "not_found_title"):
        values = {getattr(kk, name), getattr(ru, name), getattr(en, name)}
        assert len(values) == 3, name


def test_kazakh_texts_use_kazakh_letters() -> None:
    kk = TEXTS["kk"]
    joined = " ".join([*kk.items.values(), *kk.scale, kk.intro, kk.not_found_body])
    assert any(ch in joined for ch in "әғқңөұүһі")


def test_key_texts() -> None:
    assert TEXTS["en"].scale[0] == "Very dissatisfied"
    assert TEXTS["en"].scale[4] == "Very satisfied"
    assert TEXTS["en"].already_title == "Feedback already submitted"
    assert TEXTS["en"].not_found_title == "Link not found or expired"
    assert TEXTS["ru"].submit == "Отправить отзыв"
    assert TEXTS["kk"].submit == "Пікірді жіберу"


@pytest.mark.parametrize(
    ("requested", "participant", "expected"),
    [
        ("kk", "ru", "kk"),
        ("en", None, "en"),
        (None, "kk", "kk"),
        ("", "en", "en"),
        ("de", "kk", "kk"),
        ("de", "fr", "ru"),
        (None, None, "ru"),
        ("KK", None, "kk"),
        ("ru-RU", None, "ru"),
        ("en_GB", None, "en"),
        ("kz", None, "kk"),
    ],
)
def test_resolve_language(requested: str | None, participant: str | None, expected: str) -> None:
    assert resolve_language(requested, participant) == expected


def test_normalise_language_unknown_is_none() -> None:
    assert normalise_language("tr") is None
    assert normalise_language(None) is None


def test_texts_for_falls_back_to_russian() -> None:
    assert texts_for("xx") is TEXTS["ru"]
    assert texts_for("en") is TEXTS["en"]


def test_untranslated_keys_degrade_gracefully() -> None:
    assert TEXTS["en"].item("new_item") == "new_item"
    assert TEXTS["ru"].error("some_new_code") == TEXTS["ru"].errors["invalid"]
