"""How the coordinators' pages name a session's training."""

from __future__ import annotations

import uuid

import pytest

from trainops_registration.domain.trainings import training_name

pytestmark = pytest.mark.unit

KNOWN = uuid.UUID("01a23c76-0000-7000-8000-000000000001")
NAMES = {KNOWN: ("ETH-1", {"kk": "Этикалық жариялау", "ru": "Этичное освещение", "en": " "})}


def test_the_title_in_the_page_language() -> None:
    assert training_name(NAMES, KNOWN, "kk") == "Этикалық жариялау"
    assert training_name(NAMES, KNOWN, "ru") == "Этичное освещение"


def test_a_blank_title_falls_back_to_another_language_then_the_code() -> None:
    assert training_name(NAMES, KNOWN, "en") == "Этичное освещение"
    assert training_name({KNOWN: ("ETH-1", {})}, KNOWN, "en") == "ETH-1"


def test_an_unknown_training_is_its_short_id() -> None:
    assert training_name(NAMES, uuid.UUID(int=0), "en") == "00000000"
