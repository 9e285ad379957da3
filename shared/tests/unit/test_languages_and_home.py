"""The page language every service chooses the same way, and the signed-in home page in it."""

from __future__ import annotations

import pytest

from trainops_shared.auth import Principal
from trainops_shared.home import home_page
from trainops_shared.languages import choose_language, from_accept_language, normalise_language

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("typed", "code"),
    [("RU", "ru"), ("ru-RU", "ru"), ("kz", "kk"), ("kk_KZ", "kk"), ("eng", "en"), ("de", None)],
)
def test_codes_people_type_are_understood(typed: str, code: str | None) -> None:
    assert normalise_language(typed) == code


def test_picked_then_remembered_then_browser_then_russian() -> None:
    assert choose_language("en", "kk", "ru") == "en"
    assert choose_language(None, "kk", "en") == "kk"
    assert choose_language("xx", None, "de-DE,kk;q=0.8,en;q=0.9") == "en"
    assert choose_language(None, None, "de, fr;q=0.5") == "ru"
    assert from_accept_language("kk;q=0") is None


def test_home_page_speaks_the_chosen_language_and_escapes_the_account() -> None:
    who = Principal(subject="<b>aigerim</b>", role="coordinator", region="aktobe", csrf="c1")
    page = home_page("trainops registration", "http://id.example", who, "kk")
    assert '<html lang="kk">' in page
    assert "Сіз кірдіңіз:" in page and "Барлық жерден шығу" in page
    assert "&lt;b&gt;aigerim&lt;/b&gt;" in page and "<b>aigerim" not in page
    assert 'action="http://id.example/sign-out"' in page and 'value="c1"' in page
    english = home_page("trainops registration", "http://id.example", who, "en")
    assert "Sign out everywhere" in english and "Сіз кірдіңіз" not in english


def test_no_sign_out_form_without_a_browser_session() -> None:
    bearer = Principal(subject="script", role="admin")
    assert "sign-out-form" not in home_page("trainops reporting", "http://id", bearer, "ru")
